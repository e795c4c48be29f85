import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery, describeEachDialect } from '../../test/support/databases.js';
import { createNullLogger, type Logger } from '../kernel/index.js';
import { Connection } from './connection.js';
import { sql } from './index.js';
import type { QueryEvent } from './instrumented-dialect.js';

interface Row {
  id: number;
  name: string;
  qty: number;
}

/** A logger that keeps what was logged, for slow-query and callback-failure assertions. */
function recordingLogger(): Logger & {
  lines: Array<{ level: string; obj: unknown; msg: string }>;
} {
  const lines: Array<{ level: string; obj: unknown; msg: string }> = [];
  const base = createNullLogger();
  const at =
    (level: string) =>
    (obj: unknown, msg = ''): void => {
      lines.push({ level, obj, msg });
    };
  return Object.assign(Object.create(base) as Logger, {
    lines,
    warn: at('warn'),
    error: at('error'),
    info: at('info'),
  }) as Logger & { lines: typeof lines };
}

describeEachDialect('Connection', (database, dialect) => {
  let connection: Connection;
  let logger: ReturnType<typeof recordingLogger>;

  beforeAll(async () => {
    logger = recordingLogger();
    connection = new Connection({
      name: 'main',
      config: database().config,
      root: process.cwd(),
      logger,
      slowQueryMs: 60_000,
    });
    await connection.schema
      .createTable('items')
      .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
      .addColumn('qty', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await connection.schema
      .createTable('item_notes')
      .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('note', 'varchar(200)')
      .execute();
  });

  afterAll(async () => {
    await connection?.close();
  });

  async function names(): Promise<string[]> {
    const rows = await connection.selectFrom('items').select('name').orderBy('name').execute();
    return rows.map((r: { name: string }) => r.name);
  }

  async function reset(): Promise<void> {
    await connection.deleteFrom('item_notes').execute();
    await connection.deleteFrom('items').execute();
  }

  it('inserts and reads back through the query builder', async () => {
    await reset();
    await connection.insertInto('items').values({ name: 'chair', qty: 3 }).execute();
    const row = (await connection
      .selectFrom('items')
      .selectAll()
      .where('name', '=', 'chair')
      .executeTakeFirstOrThrow()) as Row;
    expect(row).toMatchObject({ name: 'chair', qty: 3 });
    expect(typeof row.id).toBe('number');
    const [count] = await connection.execute<{ n: number }>(sql`select count(*) as n from items`);
    expect(Number(count?.n)).toBe(1);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await reset();
    const result = await connection.transaction(async (trx) => {
      await trx.insertInto('items').values({ name: 'kept' }).execute();
      return 'done';
    });
    expect(result).toBe('done');
    await expect(
      connection.transaction(async () => {
        // The connection's own builder joins the ambient transaction.
        await connection.insertInto('items').values({ name: 'dropped' }).execute();
        expect(connection.inTransaction).toBe(true);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(connection.inTransaction).toBe(false);
    expect(await names()).toEqual(['kept']);
  });

  it('nests through savepoints: an inner failure rolls back only the inner work', async () => {
    await reset();
    await connection.transaction(async () => {
      await connection.insertInto('items').values({ name: 'outer' }).execute();
      await connection
        .transaction(async () => {
          await connection.insertInto('items').values({ name: 'inner-failed' }).execute();
          throw new Error('inner');
        })
        .catch(() => undefined);
      await connection.transaction(async () => {
        await connection.insertInto('items').values({ name: 'inner-kept' }).execute();
        await connection.transaction(async () => {
          await connection.insertInto('items').values({ name: 'deepest' }).execute();
        });
      });
    });
    expect(await names()).toEqual(['deepest', 'inner-kept', 'outer']);
  });

  it('rolls back nested work with the outer transaction', async () => {
    await reset();
    await expect(
      connection.transaction(async () => {
        await connection.transaction(async () => {
          await connection.insertInto('items').values({ name: 'nested' }).execute();
        });
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await names()).toEqual([]);
  });

  it('refuses two nested transactions running side by side', async () => {
    await reset();
    const error = await connection
      .transaction(async () => {
        await Promise.all([
          connection.transaction(async () => {
            await connection.insertInto('items').values({ name: 'a' }).execute();
          }),
          connection.transaction(async () => {
            await connection.insertInto('items').values({ name: 'b' }).execute();
          }),
        ]);
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_DB_CONCURRENT_TRANSACTION' });
    expect(await names()).toEqual([]);
  });

  it('runs afterCommit callbacks after commit, never after a rollback', async () => {
    await reset();
    const seen: string[] = [];
    await connection.afterCommit(() => {
      seen.push('immediate');
    });
    await connection.transaction(async () => {
      await connection.insertInto('items').values({ name: 'x' }).execute();
      await connection.afterCommit(async () => {
        // The data is visible to other connections' readers by now.
        const rows = await connection.kysely.selectFrom('items').select('name').execute();
        seen.push(`outer saw ${rows.length}`);
      });
      await connection
        .transaction(async () => {
          await connection.afterCommit(() => {
            seen.push('rolled-back savepoint');
          });
          throw new Error('inner');
        })
        .catch(() => undefined);
      await connection.transaction(async () => {
        await connection.afterCommit(() => {
          seen.push('released savepoint');
        });
      });
      expect(seen).toEqual(['immediate']);
    });
    await connection
      .transaction(async () => {
        await connection.afterCommit(() => {
          seen.push('never');
        });
        throw new Error('rollback');
      })
      .catch(() => undefined);
    expect(seen).toEqual(['immediate', 'outer saw 1', 'released savepoint']);
  });

  it('logs an afterCommit callback that fails, keeping the committed data', async () => {
    await reset();
    logger.lines.length = 0;
    await connection.transaction(async () => {
      await connection.insertInto('items').values({ name: 'committed' }).execute();
      await connection.afterCommit(() => {
        throw new Error('mailer down');
      });
    });
    expect(await names()).toEqual(['committed']);
    expect(logger.lines.some((l) => l.level === 'error' && /afterCommit/.test(l.msg))).toBe(true);
  });

  it('turns a duplicate into E_DB_UNIQUE_VIOLATION and a dangling reference into E_DB_FOREIGN_KEY_VIOLATION', async () => {
    await reset();
    await connection.insertInto('items').values({ name: 'unique' }).execute();
    const duplicate = await connection
      .insertInto('items')
      .values({ name: 'unique' })
      .execute()
      .catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ code: 'E_DB_UNIQUE_VIOLATION', status: 409 });
    expect((duplicate as Error).message).not.toContain("'unique'");
    expect((duplicate as Error).cause).toBeInstanceOf(Error);
    const dangling = await connection
      .insertInto('item_notes')
      .values({ item_id: 999_999, note: 'orphan' })
      .execute()
      .catch((e: unknown) => e);
    expect(dangling).toMatchObject({ code: 'E_DB_FOREIGN_KEY_VIOLATION', status: 409 });
  });

  it('binds hostile strings as values everywhere, never as SQL', async () => {
    await reset();
    const hostile = [
      "'; DROP TABLE items; --",
      '" OR 1=1 --',
      "\\'; SELECT pg_sleep(5); --",
      '$1 $2 ? ?? :name',
      '😀 ünïcödé \u202e',
      `${'x'.repeat(150)}' OR ''='`,
    ];
    for (const name of hostile) await connection.insertInto('items').values({ name }).execute();
    for (const name of hostile) {
      const found = await connection
        .selectFrom('items')
        .select('name')
        .where('name', '=', name)
        .where('name', 'in', [name, 'not-this'])
        .executeTakeFirst();
      expect(found?.name).toBe(name);
      const raw = await connection.execute<{ name: string }>(
        sql`select name from items where name = ${name}`,
      );
      expect(raw.map((r) => r.name)).toEqual([name]);
    }
    expect((await names()).length).toBe(hostile.length);
  });

  it('counts statements by operation and logs slow ones with redacted parameters', async () => {
    const slow = new Connection({
      name: 'slow',
      config: database().config,
      root: process.cwd(),
      logger,
      slowQueryMs: 0.000_001,
      slowQueryHistory: 2,
    });
    const events: QueryEvent[] = [];
    slow.onQuery((event) => events.push(event));
    logger.lines.length = 0;
    try {
      await slow.selectFrom('items').selectAll().where('name', '=', 'secret-value').execute();
      await slow.insertInto('items').values({ name: 'stats-row' }).execute();
      await slow
        .updateTable('items')
        .set({ name: "it's" })
        .where('name', '=', 'stats-row')
        .execute();
      await slow.deleteFrom('items').where('name', '=', "it's").execute();
      await slow.execute(sql`select 1 as one`);
      const stats = slow.stats();
      expect(stats.operations.select?.count).toBe(2);
      expect(stats.operations.insert?.count).toBe(1);
      expect(stats.operations.update?.count).toBe(1);
      expect(stats.operations.delete?.count).toBe(1);
      expect(stats.slow).toHaveLength(2);
      const logged = logger.lines.filter((l) => l.msg === 'slow query');
      expect(logged.length).toBeGreaterThanOrEqual(5);
      const first = logged[0]?.obj as { sql: string; parameters: string[] };
      expect(first.sql).toMatch(/select/i);
      expect(first.parameters).toEqual(['<string(12)>']);
      expect(JSON.stringify(logged)).not.toContain('secret-value');
      expect(events.map((e) => e.operation)).toEqual([
        'select',
        'insert',
        'update',
        'delete',
        'select',
      ]);
    } finally {
      await slow.close();
    }
  });

  it('pings, and refuses queries once closed', async () => {
    const other = new Connection({
      name: 'other',
      config: database().config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    expect(await other.ping()).toBeGreaterThanOrEqual(0);
    expect(other.native()).toBeDefined();
    await other.close();
    await other.close();
    expect(other.closed).toBe(true);
    expect(() => other.selectFrom('items')).toThrow(
      expect.objectContaining({ code: 'E_DB_CLOSED' }),
    );
  });

  if (dialect === 'sqlite') {
    it('reuses prepared statements across queries and after a schema change', async () => {
      await reset();
      await connection
        .insertInto('items')
        .values([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
        .execute();
      const query = () => connection.selectFrom('items').select('name').orderBy('name');
      const streamed: string[] = [];
      for await (const row of query().stream()) streamed.push(row.name);
      expect(streamed).toEqual(['a', 'b', 'c']);
      expect((await query().execute()).length).toBe(3);
      // After a schema change SQLite re-prepares the cached statement itself.
      await connection.schema.alterTable('items').addColumn('extra', 'integer').execute();
      expect(await connection.selectFrom('items').selectAll().execute()).toHaveLength(3);
      await connection.schema.alterTable('items').dropColumn('extra').execute();
      expect(Object.keys((await connection.selectFrom('items').selectAll().execute())[0]!)).toEqual(
        ['id', 'name', 'qty'],
      );
    });
  }

  if (dialect !== 'sqlite') {
    it('reports a connection killed mid-query as E_DB_CONNECTION_LOST and recovers', async () => {
      const victim = new Connection({
        name: 'victim',
        config: {
          ...database().config,
          pool: { min: 0, max: 1, idleTimeoutMs: 10_000, acquireTimeoutMs: 10_000 },
        } as never,
        root: process.cwd(),
        logger: createNullLogger(),
      });
      try {
        const idQuery: ReturnType<typeof sql<{ id: number }>> =
          dialect === 'postgres'
            ? sql`select pg_backend_pid() as id`
            : sql`select connection_id() as id`;
        const [row] = await victim.execute<{ id: number }>(idQuery);
        const id = Number(row?.id);
        const sleeping = victim
          .execute(dialect === 'postgres' ? sql`select pg_sleep(10)` : sql`select sleep(10)`)
          .catch((e: unknown) => e);
        // Kill it only once the server runs the statement, so the kill lands mid-query.
        const activity =
          dialect === 'postgres'
            ? `select query as info from pg_stat_activity where pid = ${id} and state = 'active'`
            : `select info from information_schema.processlist where id = ${id}`;
        for (let attempt = 0; attempt < 200; attempt++) {
          const rows = (await adminQuery(dialect, activity)) as Array<{ info: string | null }>;
          if (rows.some((r) => /sleep/i.test(r.info ?? ''))) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await adminQuery(
          dialect,
          dialect === 'postgres' ? `select pg_terminate_backend(${id})` : `KILL ${id}`,
        );
        const error = await sleeping;
        expect(error).toMatchObject({ code: 'E_DB_CONNECTION_LOST', status: 503 });
        // The pool drops the dead connection: the next query gets a new one.
        const [after] = await victim.execute<{ id: number }>(idQuery);
        expect(Number(after?.id)).not.toBe(id);
      } finally {
        await victim.close();
      }
    });
  }
});

describe('Connection config errors', () => {
  it('fails the first query with E_DB_CONNECTION_FAILED when the server is not there', async () => {
    const nowhere = new Connection({
      name: 'nowhere',
      config: {
        driver: 'postgres',
        host: '127.0.0.1',
        port: 1,
        database: 'x',
        pool: { min: 0, max: 1, idleTimeoutMs: 1000, acquireTimeoutMs: 2000 },
        statementTimeoutMs: 0,
      },
      root: process.cwd(),
      logger: createNullLogger(),
    });
    try {
      await expect(nowhere.ping()).rejects.toMatchObject({
        code: 'E_DB_CONNECTION_FAILED',
        status: 503,
      });
    } finally {
      await nowhere.close();
    }
  });
});
