import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { createNullLogger } from '../../kernel/index.js';
import { Connection } from '../connection.js';
import { sql } from '../index.js';
import type { Migration, MigrationEntry } from './migration.js';
import { MIGRATIONS_TABLE } from './migration-repository.js';
import { MigrationStateStore } from './migration-state.js';
import { Migrator, type MigratorOptions } from './migrator.js';
import { increments, timestamps } from './schema-helpers.js';
import { tableNames } from './table-inspector.js';

function entry(
  name: string,
  migration: Migration,
  module = 'app',
  connection = 'main',
): MigrationEntry {
  return { name, module, connection, migration };
}

/** A migration creating (and dropping) one table with an id and a label. */
function createTable(table: string): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable(table)
        .$call(increments(db, 'id'))
        .addColumn('label', 'varchar(50)')
        .execute();
    },
    async down(db) {
      await db.schema.dropTable(table).execute();
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describeEachDialect('Migrator', (database, dialect) => {
  let dir: string;
  let connection: Connection;
  let state: MigrationStateStore;
  const opened: Connection[] = [];

  function open(): Connection {
    const c = new Connection({
      name: 'main',
      config: database().config,
      root: dir,
      logger: createNullLogger(),
    });
    opened.push(c);
    return c;
  }

  function migrator(migrations: MigrationEntry[], extra: Partial<MigratorOptions> = {}): Migrator {
    return new Migrator({ connection, migrations, state, root: dir, ...extra });
  }

  async function tables(): Promise<string[]> {
    return tableNames(connection);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-migrator-'));
    connection = open();
  });

  beforeEach(async () => {
    const { dropAllTables } = await import('./table-inspector.js');
    await dropAllTables(connection);
    state = new MigrationStateStore(join(dir, `state-${Math.random()}.json`));
  });

  afterAll(async () => {
    for (const c of opened) await c.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs pending migrations in order as one batch, recorded in keel_migrations created on first use', async () => {
    const set = [
      entry('2024_01_01_000000_create_customers', createTable('customers')),
      entry('2024_01_02_000000_create_orders', createTable('orders'), 'billing'),
    ];
    const m = migrator(set);
    expect(await m.pending()).toHaveLength(2);
    expect(await tables()).not.toContain(MIGRATIONS_TABLE);
    const result = await m.migrate();
    expect(result).toMatchObject({ connection: 'main', dialect, direction: 'up', dryRun: false });
    expect(result.migrations.map((r) => [r.name, r.module, r.batch])).toEqual([
      ['2024_01_01_000000_create_customers', 'app', 1],
      ['2024_01_02_000000_create_orders', 'billing', 1],
    ]);
    expect(await tables()).toEqual(
      expect.arrayContaining(['customers', 'orders', MIGRATIONS_TABLE]),
    );
    const status = await m.status();
    expect(status.map((s) => [s.status, s.batch])).toEqual([
      ['ran', 1],
      ['ran', 1],
    ]);
    expect(status[0]!.migratedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    // Nothing pending: nothing runs, the batch does not move.
    expect((await m.migrate()).migrations).toEqual([]);
    const more = migrator([...set, entry('2024_01_03_000000_create_items', createTable('items'))]);
    expect((await more.migrate()).migrations.map((r) => r.batch)).toEqual([2]);
    expect(await state.read()).toEqual({});
  });

  it('--step: N runs the next N, each in its own batch; rollback undoes the last batch or the last N', async () => {
    const set = ['a', 'b', 'c', 'd'].map((t, i) =>
      entry(`2024_01_0${i + 1}_000000_create_${t}`, createTable(`t_${t}`)),
    );
    const m = migrator(set);
    expect((await m.migrate({ step: 1 })).migrations.map((r) => r.name)).toEqual([set[0]!.name]);
    expect((await m.migrate({ step: true })).migrations.map((r) => r.batch)).toEqual([2, 3, 4]);
    expect((await m.rollback()).migrations.map((r) => r.name)).toEqual([set[3]!.name]);
    expect((await m.rollback({ step: 2 })).migrations.map((r) => [r.name, r.direction])).toEqual([
      [set[2]!.name, 'down'],
      [set[1]!.name, 'down'],
    ]);
    expect((await m.status()).map((s) => s.status)).toEqual([
      'ran',
      'pending',
      'pending',
      'pending',
    ]);
    expect(await tables()).not.toContain('t_b');
    // Three pending migrations in one batch go back together.
    await m.migrate();
    expect((await m.rollback()).migrations).toHaveLength(3);
    expect((await m.rollback()).migrations).toHaveLength(1);
    expect((await m.rollback()).migrations).toEqual([]);
  });

  it('refuses a rollback it cannot finish before undoing anything', async () => {
    const irreversible: Migration = { up: createTable('t_keep').up };
    const set = [
      entry('2024_01_01_000000_create_gone', createTable('t_gone')),
      entry('2024_01_02_000000_create_keep', irreversible),
    ];
    await migrator(set).migrate();
    await expect(migrator(set).rollback()).rejects.toMatchObject({
      code: 'E_MIGRATION_IRREVERSIBLE',
    });
    // The first file disappeared: it is listed as missing, and rolling back stops on it.
    const withoutFirst = migrator([entry(set[1]!.name, createTable('t_keep'))]);
    expect((await withoutFirst.status()).map((s) => [s.name, s.status])).toEqual([
      [set[0]!.name, 'missing'],
      [set[1]!.name, 'ran'],
    ]);
    await expect(withoutFirst.rollback({ step: 2 })).rejects.toMatchObject({
      code: 'E_MIGRATION_NOT_FOUND',
      details: { name: set[0]!.name, module: 'app', connection: 'main' },
    });
    expect(await tables()).toEqual(expect.arrayContaining(['t_gone', 't_keep']));
  });

  it('marks the connection UNSAFE when a migration fails, and refuses to migrate until reset', async () => {
    const failing: Migration = {
      async up(db) {
        await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
        await sql`insert into no_such_table values (1)`.execute(db);
      },
    };
    const m = migrator([entry('2024_01_01_000000_create_half_done', failing)]);
    const error = await m.migrate().catch((e: unknown) => e);
    const changes = dialect === 'mysql' ? 'partial' : 'rolled-back';
    expect(error).toMatchObject({
      code: 'E_MIGRATION_FAILED',
      details: {
        name: '2024_01_01_000000_create_half_done',
        module: 'app',
        connection: 'main',
        changes,
      },
    });
    expect((error as Error).cause).toBeInstanceOf(Error);
    // Transactional DDL took the table back; MySQL committed it.
    expect((await tables()).includes('half_done')).toBe(dialect === 'mysql');
    expect(await state.get('main')).toEqual({
      unsafe: expect.objectContaining({
        reason: 'failed',
        migration: '2024_01_01_000000_create_half_done',
        direction: 'up',
        changes,
        error: expect.stringMatching(/no_such_table/),
        at: expect.stringMatching(/Z$/),
      }),
    });
    const fixed = migrator([entry('2024_01_01_000000_create_half_done', createTable('fixed'))]);
    await expect(fixed.migrate()).rejects.toMatchObject({ code: 'E_DB_UNSAFE' });
    await expect(fixed.migrate({ dryRun: true })).rejects.toMatchObject({ code: 'E_DB_UNSAFE' });
    await expect(fixed.rollback()).rejects.toMatchObject({ code: 'E_DB_UNSAFE' });
    await state.reset('main');
    expect((await fixed.migrate()).migrations).toHaveLength(1);
  });

  it('treats a running record left by a dead process as UNSAFE (interrupted)', async () => {
    const set = [entry('2024_01_01_000000_create_t', createTable('t_crash'))];
    // What a process killed mid-migration leaves behind (pid 2^22+1 is above Linux's pid_max default).
    await writeFile(
      state.file,
      JSON.stringify({
        version: 1,
        connections: {
          main: {
            running: {
              migration: set[0]!.name,
              module: 'app',
              connection: 'main',
              direction: 'up',
              transactional: dialect !== 'mysql',
              pid: 4_194_305,
              host: hostname(),
              startedAt: '2024-01-01T00:00:00.000Z',
            },
          },
        },
      }),
    );
    const error = await migrator(set)
      .migrate()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_DB_UNSAFE' });
    expect((error as Error).message).toMatch(/was interrupted .*process 4194305/);
    expect((await state.get('main')).unsafe).toMatchObject({
      reason: 'interrupted',
      changes: dialect === 'mysql' ? 'partial' : 'rolled-back',
    });
    expect(await tables()).not.toContain('t_crash');
  });

  it('lets one process migrate at a time: the lock refuses or makes the other wait', async () => {
    let runs = 0;
    const started = deferred();
    const gate = deferred();
    const slow: Migration = {
      async up(db) {
        runs++;
        await db.schema.createTable('t_slow').addColumn('id', 'integer').execute();
        started.resolve();
        await gate.promise;
      },
    };
    const set = [entry('2024_01_01_000000_create_slow', slow)];
    const first = migrator(set).migrate();
    await started.promise;
    // Other processes: their own connections (pools, SQLite handles) to the same database.
    const second = new Migrator({
      connection: open(),
      migrations: set,
      state,
      root: dir,
      lockTimeoutMs: 0,
    });
    await expect(second.migrate()).rejects.toMatchObject({
      code: 'E_MIGRATION_LOCKED',
      status: 409,
    });
    let waited = false;
    const third = new Migrator({
      connection: open(),
      migrations: set,
      state,
      root: dir,
      onLockWait: () => {
        waited = true;
      },
    }).migrate();
    await expect.poll(() => waited).toBe(true);
    gate.resolve();
    expect((await first).migrations).toHaveLength(1);
    expect((await third).migrations).toEqual([]);
    expect(runs).toBe(1);
  });

  it('--dry-run compiles the SQL of each pending migration and changes nothing', async () => {
    const set = [
      entry('2024_01_01_000000_create_plan', createTable('t_plan')),
      entry('2024_01_02_000000_add_index', {
        async up(db) {
          await db.schema.createIndex('t_plan_label').on('t_plan').column('label').execute();
        },
        async down() {},
      }),
    ];
    const plan = await migrator(set).migrate({ dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.migrations.map((r) => r.batch)).toEqual([1, 1]);
    expect(plan.migrations[0]!.statements).toEqual([
      expect.stringMatching(/^create table "?`?t_plan/i),
    ]);
    expect(plan.migrations[1]!.statements?.[0]).toMatch(/create index/i);
    expect(await tables()).toEqual([]);
    await migrator(set).migrate();
    const down = await migrator(set).rollback({ dryRun: true, step: 1 });
    expect(down.migrations.map((r) => r.name)).toEqual([set[1]!.name]);
    expect(down.migrations[0]!.statements).toEqual([]);
    expect((await migrator(set).status()).every((s) => s.status === 'ran')).toBe(true);
  });

  it('fresh drops every table and migrates again; production needs force', async () => {
    const set = [entry('2024_01_01_000000_create_fresh', createTable('t_fresh'))];
    await migrator(set).migrate();
    await connection.schema.createTable('stray').addColumn('id', 'integer').execute();
    await sql`create view stray_view as select id from stray`.execute(connection.kysely);
    await state.markUnsafe({
      reason: 'failed',
      migration: 'x',
      module: 'app',
      connection: 'main',
      direction: 'up',
      error: 'boom',
      changes: 'partial',
    });
    await expect(migrator(set, { production: true }).fresh()).rejects.toMatchObject({
      code: 'E_MIGRATE_IN_PRODUCTION',
    });
    let backedUp = false;
    const result = await migrator(set, { production: true }).fresh({
      force: true,
      beforeDrop: () => {
        backedUp = true;
      },
    });
    expect(backedUp).toBe(true);
    expect(result.dropped).toEqual(expect.arrayContaining(['keel_migrations', 'stray', 't_fresh']));
    expect(result.migrations.map((r) => r.name)).toEqual([set[0]!.name]);
    expect((await tables()).sort()).toEqual(['keel_migrations', 't_fresh']);
    expect(await state.get('main')).toEqual({});
  });

  it('increments() and timestamps() make the same table on every dialect', async () => {
    await migrator([
      entry('2024_01_01_000000_create_notes', {
        async up(db) {
          await db.schema
            .createTable('notes')
            .$call(increments(db))
            .addColumn('body', 'varchar(100)')
            .$call(timestamps(db))
            .execute();
          await db.schema
            .createTable('big_notes')
            .$call(increments(db, 'key', { big: true }))
            .addColumn('body', 'varchar(100)')
            .execute();
        },
      }),
    ]).migrate();
    await connection
      .insertInto('notes')
      .values([{ body: 'a' }, { body: 'b' }])
      .execute();
    const rows = (await connection
      .selectFrom('notes')
      .selectAll()
      .orderBy('id')
      .execute()) as Array<{
      id: number;
      created_at: unknown;
      updated_at: unknown;
    }>;
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    expect(rows[0]?.created_at).toBeTruthy();
    expect(rows[0]?.updated_at).toBeTruthy();
    await connection.insertInto('big_notes').values({ body: 'x' }).execute();
    const big = (await connection
      .selectFrom('big_notes')
      .select('key')
      .executeTakeFirstOrThrow()) as { key: unknown };
    expect(Number(big.key)).toBe(1);
  });

  it('refuses a bad step', async () => {
    for (const step of [0, -1, 1.5, Number.NaN]) {
      await expect(migrator([]).migrate({ step })).rejects.toMatchObject({
        code: 'E_MIGRATE_OPTION_INVALID',
      });
    }
    await expect(migrator([]).rollback({ step: 0 })).rejects.toMatchObject({
      code: 'E_MIGRATE_OPTION_INVALID',
    });
  });

  it('ignores the migrations of other connections', async () => {
    const m = migrator([
      entry('2024_01_01_000000_create_here', createTable('t_here')),
      entry('2024_01_01_000000_create_there', createTable('t_there'), 'app', 'reporting'),
    ]);
    expect(m.migrations.map((e) => e.name)).toEqual(['2024_01_01_000000_create_here']);
    await m.migrate();
    expect(await tables()).not.toContain('t_there');
  });
});

describe('Migrator on a SQLite file that does not exist yet', () => {
  it('reports everything pending without creating the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-migrator-'));
    const file = join(dir, 'nested', 'app.sqlite');
    const connection = new Connection({
      name: 'main',
      config: {
        driver: 'sqlite',
        filename: 'nested/app.sqlite',
        wal: true,
        busyTimeoutMs: 1000,
        foreignKeys: true,
        readonly: false,
      },
      root: dir,
      logger: createNullLogger(),
    });
    try {
      const m = new Migrator({
        connection,
        migrations: [entry('2024_01_01_000000_create_t', createTable('t'))],
        state: new MigrationStateStore(join(dir, 'state.json')),
        root: dir,
      });
      expect((await m.status()).map((s) => s.status)).toEqual(['pending']);
      expect((await m.migrate({ dryRun: true })).migrations).toHaveLength(1);
      expect(existsSync(file)).toBe(false);
      await m.migrate();
      expect(existsSync(file)).toBe(true);
      expect(existsSync(`${file}.keel-lock`)).toBe(true);
      expect(await readFile(join(dir, 'state.json'), 'utf8')).toContain('"connections": {}');
    } finally {
      await connection.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
