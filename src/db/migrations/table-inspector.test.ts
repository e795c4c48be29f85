import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { createNullLogger } from '../../kernel/index.js';
import { Connection } from '../connection.js';
import { sql } from '../index.js';
import { increments } from './schema-helpers.js';
import { recordSql } from './sql-recorder.js';
import { dropAllTables, listTables, sqliteDatabaseBytes, tableNames } from './table-inspector.js';

// Hostile names are valid identifiers once quoted: they must be quoted everywhere.
const WEIRD = `we"ird ta'ble; drop`;

describeEachDialect('table inspector', (database, dialect) => {
  let connection: Connection;

  beforeAll(async () => {
    connection = new Connection({
      name: 'main',
      config: database().config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    await connection.schema
      .createTable('parents')
      .$call(increments(connection.kysely))
      .addColumn('name', 'varchar(100)')
      .execute();
    await connection.schema
      .createTable('children')
      .$call(increments(connection.kysely))
      .addColumn('parent_id', 'integer', (c) => c.references('parents.id'))
      .execute();
    await connection.schema.createTable(WEIRD).addColumn('v', 'integer').execute();
    await connection.schema.createIndex('parents_name').on('parents').column('name').execute();
    await connection
      .insertInto('parents')
      .values(Array.from({ length: 30 }, (_, i) => ({ name: `p${i}` })))
      .execute();
    await connection.insertInto('children').values({ parent_id: 1 }).execute();
    await sql`create view parent_names as select name from parents`.execute(connection.kysely);
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('lists every base table with its exact row count and size on disk', async () => {
    const tables = await listTables(connection);
    expect(tables.map((t) => [t.name, t.rows])).toEqual([
      ['children', 1],
      ['parents', 30],
      [WEIRD, 0],
    ]);
    for (const table of tables) {
      expect(typeof table.bytes).toBe('number');
      expect(table.bytes).toBeGreaterThanOrEqual(0);
    }
    const parents = tables.find((t) => t.name === 'parents')!;
    expect(parents.bytes).toBeGreaterThan(0);
    if (dialect === 'sqlite') expect(await sqliteDatabaseBytes(connection)).toBeGreaterThan(0);
  });

  it('drops every table and view despite foreign keys, keeping the ones asked', async () => {
    if (dialect === 'postgres') {
      await sql`create type mood as enum ('ok', 'sad')`.execute(connection.kysely);
      await sql`create sequence stray_seq`.execute(connection.kysely);
    }
    const dropped = await dropAllTables(connection, { keep: ['children'] });
    expect(dropped.sort()).toEqual(['parents', WEIRD].sort());
    expect(await tableNames(connection)).toEqual(['children']);
    expect(await dropAllTables(connection)).toEqual(['children']);
    expect(await tableNames(connection)).toEqual([]);
    if (dialect === 'postgres') {
      const { rows } = await sql<{ n: number }>`
        select count(*) as n from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = current_schema() and t.typname = 'mood'`.execute(connection.kysely);
      expect(Number(rows[0]?.n)).toBe(0);
    }
    // Foreign keys are back on (SQLite turns them off to drop in any order).
    if (dialect === 'sqlite') {
      const { rows } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(
        connection.kysely,
      );
      expect(rows[0]?.foreign_keys).toBe(1);
    }
  });

  it('compiles a dry run without touching the database', async () => {
    const statements = await recordSql(dialect, async (db) => {
      await db.schema.createTable('planned').$call(increments(db)).execute();
      await db.insertInto('planned').values({ id: 7 }).execute();
      const rows = await db.selectFrom('planned').selectAll().execute();
      expect(rows).toEqual([]);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('planned').execute();
      });
    });
    expect(statements).toHaveLength(4);
    expect(statements[1]).toMatch(/-- \[7\]$/);
    expect(await tableNames(connection)).not.toContain('planned');
  });
});

describe('dialectOf', () => {
  it('names the dialect of an unsupported adapter', async () => {
    const { dialectOf } = await import('./schema-helpers.js');
    const fake = { getExecutor: () => ({ adapter: { toString: () => 'MssqlAdapter' } }) };
    expect(() => dialectOf(fake as never)).toThrow(/not MssqlAdapter/);
  });
});
