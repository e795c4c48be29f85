import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery, describeEachDialect, POSTGRES } from '../../../test/support/databases.js';
import { createNullLogger } from '../../kernel/index.js';
import { resolveDatabaseConfig } from '../config.js';
import { DatabaseManager } from '../database-manager.js';
import { sql } from '../index.js';
import { increments } from '../migrations/schema-helpers.js';
import { tableNames } from '../migrations/table-inspector.js';
import { backupFileName, fileSafeName, formatBytes, parseBackupFileName } from './backup-file.js';
import { BackupManager } from './backup-manager.js';
import { serverTarget } from './server-target.js';
import { findTool } from './tool-runner.js';

describeEachDialect('BackupManager', (database, dialect) => {
  let root: string;
  let manager: DatabaseManager;
  let backups: BackupManager;
  const ext = { sqlite: 'sqlite', postgres: 'dump', mysql: 'sql' }[dialect];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'keel-backup-'));
    manager = new DatabaseManager({
      config: resolveDatabaseConfig({
        default: 'main',
        connections: { main: database().config },
        backups: { path: 'var/backups', keep: 2 },
      }),
      root,
      logger: createNullLogger(),
    });
    backups = new BackupManager({ manager, root });
    const db = manager.connection();
    await db.schema
      .createTable('products')
      .$call(increments(db.kysely))
      .addColumn('name', 'varchar(100)', (c) => c.notNull())
      .addColumn('price', 'numeric(10, 2)')
      .execute();
    await db
      .insertInto('products')
      .values([
        { name: "it's 😀", price: '9.99' },
        { name: 'second', price: '100.00' },
      ])
      .execute();
  });

  afterAll(async () => {
    await manager?.close();
    await rm(root, { recursive: true, force: true });
  });

  async function products(): Promise<Array<{ name: string; price: string }>> {
    const rows = await manager
      .connection()
      .selectFrom('products')
      .select(['name', 'price'])
      .orderBy('id')
      .execute();
    return rows.map((r: { name: string; price: unknown }) => ({
      name: r.name,
      price: Number(r.price).toFixed(2),
    }));
  }

  it('backs up and restores the data, dropping what was made since', async () => {
    const before = await products();
    const taken = await backups.backup();
    expect(taken).toMatchObject({ connection: 'main', dialect });
    expect(taken.name).toMatch(new RegExp(`^backup_main_\\d{8}_\\d{6}_\\d{3}\\.${ext}$`));
    expect(taken.file).toBe(join(root, 'var/backups', taken.name));
    expect(taken.bytes).toBeGreaterThan(0);
    expect(existsSync(`${taken.file}.partial`)).toBe(false);

    const db = manager.connection();
    await db.insertInto('products').values({ name: 'after backup' }).execute();
    await db.deleteFrom('products').where('name', '=', 'second').execute();
    await db.schema.createTable('made_later').addColumn('id', 'integer').execute();

    const restored = await backups.restore(taken.name);
    expect(restored).toEqual({ file: taken.file, connection: 'main', dialect });
    expect(await products()).toEqual(before);
    expect(await tableNames(db)).toEqual(['products']);
    // The sequence came back too: the next id follows the restored rows.
    await db.insertInto('products').values({ name: 'third' }).execute();
    const third = await db
      .selectFrom('products')
      .select('id')
      .where('name', '=', 'third')
      .executeTakeFirstOrThrow();
    expect(Number((third as { id: unknown }).id)).toBe(3);
  });

  it('lists backups newest first and keeps `keep` per connection', async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await backups.backup('main')).name);
    const list = await backups.list('main');
    expect(list.map((b) => b.name)).toEqual([made[2], made[1]]);
    expect(list[0]!.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(await backups.list('other')).toEqual([]);
    expect(existsSync(join(root, 'var/backups', made[0]!))).toBe(false);
  });

  it('refuses a missing file, a file of another engine and a file that is not a backup', async () => {
    await expect(backups.restore('backup_main_20000101_000000_000.sqlite')).rejects.toMatchObject({
      code: 'E_BACKUP_NOT_FOUND',
      status: 404,
    });
    const otherExt = dialect === 'sqlite' ? 'dump' : 'sqlite';
    const foreign = join(root, 'var/backups', `backup_main_20000101_000000_000.${otherExt}`);
    await writeFile(foreign, 'not a backup');
    await expect(backups.restore(foreign)).rejects.toMatchObject({ code: 'E_BACKUP_INVALID' });
    const unknown = join(root, 'notes.txt');
    await writeFile(unknown, 'hello');
    await expect(backups.restore('notes.txt', { cwd: root })).rejects.toMatchObject({
      code: 'E_BACKUP_INVALID',
      message: expect.stringMatching(/not a backup Keel wrote/),
    });
    const garbage = join(root, `garbage.${ext}`);
    await writeFile(garbage, 'garbage, not a database');
    const before = await products();
    const error = await backups.restore(garbage).catch((e: unknown) => e);
    expect((error as { code: string }).code).toMatch(/^E_BACKUP_(INVALID|FAILED)$/);
    // A restore that cannot start leaves the data alone.
    expect(await products()).toEqual(before);
    await rm(foreign);
  });

  if (dialect === 'postgres') {
    it('restores a connection without a schema of its own (the whole database)', async () => {
      const name = `keel_t_${randomBytes(5).toString('hex')}`;
      await adminQuery('postgres', `CREATE DATABASE ${name}`);
      const whole = new DatabaseManager({
        config: resolveDatabaseConfig({
          default: 'main',
          connections: { main: { driver: 'postgres', ...POSTGRES, database: name } },
        }),
        root,
        logger: createNullLogger(),
      });
      try {
        const db = whole.connection();
        await db.schema.createTable('kept').addColumn('v', 'integer').execute();
        await db.insertInto('kept').values({ v: 1 }).execute();
        const wholeBackups = new BackupManager({ manager: whole, root });
        const taken = await wholeBackups.backup();
        await db.insertInto('kept').values({ v: 2 }).execute();
        await db.schema.createTable('later').addColumn('v', 'integer').execute();
        await sql`create view later_view as select v from later`.execute(db.kysely);
        await wholeBackups.restore(taken.name);
        expect(await tableNames(db)).toEqual(['kept']);
        expect(await db.selectFrom('kept').select('v').execute()).toEqual([{ v: 1 }]);
      } finally {
        await whole.close();
        await adminQuery('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    });
  }

  if (dialect !== 'sqlite') {
    it('names the missing tool when the client tools are not installed', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'keel-nopath-'));
      try {
        const bare = new BackupManager({ manager, root, toolPath: empty });
        const error = await bare.backup().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'E_BACKUP_TOOL_MISSING', status: 500 });
        expect((error as Error).message).toContain(
          dialect === 'postgres' ? 'pg_dump' : 'mariadb-dump or mysqldump',
        );
        expect(await bare.list()).not.toContainEqual(
          expect.objectContaining({ name: expect.stringMatching(/partial/) }),
        );
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });
  }
});

describe('backup tools get passwords through the environment', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  /** A fake tool that records its argv and password variables, and writes `--file`/`--result-file`. */
  async function fakeTools(names: string[], exitCode = 0): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'keel-tools-'));
    dirs.push(dir);
    for (const name of names) {
      const script = `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/${name}.args"
printf 'PGPASSWORD=%s\\nMYSQL_PWD=%s\\n' "$PGPASSWORD" "$MYSQL_PWD" > "${dir}/${name}.env"
for arg in "$@"; do
  case "$arg" in --file=*|--result-file=*) echo dump > "\${arg#*=}" ;; esac
done
echo "fake ${name} says no" >&2
exit ${exitCode}
`;
      await writeFile(join(dir, name), script);
      await chmod(join(dir, name), 0o755);
    }
    return dir;
  }

  function managerFor(config: Record<string, unknown>, root: string): DatabaseManager {
    return new DatabaseManager({
      config: resolveDatabaseConfig({ default: 'main', connections: { main: config } }),
      root,
      logger: createNullLogger(),
    });
  }

  it('pg_dump: PGPASSWORD, never argv; --schema quoted as an exact name', async () => {
    const tools = await fakeTools(['pg_dump']);
    const root = await mkdtemp(join(tmpdir(), 'keel-backup-'));
    dirs.push(root);
    const manager = managerFor(
      {
        driver: 'postgres',
        url: 'postgres://app:url-s3cret@db.internal:6543/shop?sslmode=require',
        password: 'field-s3cret',
        schema: 'Sales"X',
      },
      root,
    );
    const taken = await new BackupManager({ manager, root, toolPath: tools }).backup();
    expect(taken.name).toMatch(/\.dump$/);
    const args = await readFile(join(tools, 'pg_dump.args'), 'utf8');
    expect(args).not.toMatch(/s3cret/);
    expect(args.split('\n')).toEqual(
      expect.arrayContaining([
        '--format=custom',
        '--schema="Sales""X"',
        '--host=db.internal',
        '--port=6543',
        '--username=app',
        '--no-password',
        '--dbname=shop',
      ]),
    );
    expect(await readFile(join(tools, 'pg_dump.env'), 'utf8')).toContain('PGPASSWORD=field-s3cret');
    await manager.close();
  });

  it('mariadb-dump: MYSQL_PWD, never argv; a failing tool leaves no file and says why', async () => {
    const tools = await fakeTools(['mariadb-dump'], 2);
    const root = await mkdtemp(join(tmpdir(), 'keel-backup-'));
    dirs.push(root);
    const manager = managerFor(
      { driver: 'mysql', host: '127.0.0.1', user: 'app', password: 'p@ss w0rd', database: '-shop' },
      root,
    );
    const backups = new BackupManager({ manager, root, toolPath: tools });
    const error = await backups.backup().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_BACKUP_FAILED' });
    expect((error as Error).message).toMatch(
      /mariadb-dump exited with code 2: fake mariadb-dump says no/,
    );
    expect(await backups.list()).toEqual([]);
    const args = (await readFile(join(tools, 'mariadb-dump.args'), 'utf8')).trim().split('\n');
    expect(args.join(' ')).not.toContain('p@ss');
    // A database name that looks like an option comes after `--`.
    expect(args.slice(-2)).toEqual(['--', '-shop']);
    expect(await readFile(join(tools, 'mariadb-dump.env'), 'utf8')).toContain(
      'MYSQL_PWD=p@ss w0rd',
    );
    await manager.close();
  });

  it('a MySQL connection without a database cannot be backed up', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keel-backup-'));
    dirs.push(root);
    const manager = managerFor({ driver: 'mysql', host: '127.0.0.1' }, root);
    await expect(new BackupManager({ manager, root }).backup()).rejects.toMatchObject({
      code: 'E_BACKUP_FAILED',
      message: expect.stringMatching(/names no database/),
    });
    await manager.close();
  });

  it('finds the first tool present on the PATH', async () => {
    const tools = await fakeTools(['mysqldump']);
    expect(basename(await findTool(['mariadb-dump', 'mysqldump'], 'MySQL', `:${tools}`))).toBe(
      'mysqldump',
    );
    await mkdir(join(tools, 'sub'));
    await expect(findTool(['nope'], 'MySQL', tools)).rejects.toMatchObject({
      code: 'E_BACKUP_TOOL_MISSING',
      message: 'MySQL backups need nope, which is not on the PATH',
    });
  });
});

describe('backup file names', () => {
  it('round-trips connection, engine and time; unsafe names stay inside the folder', () => {
    const at = new Date(Date.UTC(2024, 4, 1, 12, 30, 45, 7));
    const name = backupFileName('read_replica', 'postgres', at);
    expect(name).toBe('backup_read_replica_20240501_123045_007.dump');
    expect(parseBackupFileName(name)).toEqual({
      connection: 'read_replica',
      dialect: 'postgres',
      createdAt: '2024-05-01T12:30:45.007Z',
    });
    expect(backupFileName('../../etc/x', 'sqlite', at)).toBe(
      'backup_------etc-x_20240501_123045_007.sqlite',
    );
    expect(fileSafeName('')).toBe('connection');
    expect(parseBackupFileName('backup_x_20240501_123045_007.sqlite.partial')).toBeUndefined();
    expect(parseBackupFileName('notes.txt')).toBeUndefined();
  });

  it('formats sizes', () => {
    expect(formatBytes(null)).toBe('n/a');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
  });

  it('reads a server target from the url, its fields winning', () => {
    expect(
      serverTarget({
        driver: 'mysql',
        url: 'mysql://u%40x:p%2Fw@[::1]:3307/my%20db',
        user: 'root',
        pool: { min: 0, max: 1, idleTimeoutMs: 1, acquireTimeoutMs: 1 },
        statementTimeoutMs: 0,
      }),
    ).toEqual({
      host: '::1',
      port: 3307,
      user: 'root',
      password: 'p/w',
      database: 'my db',
      ssl: false,
    });
  });
});
