import { type Kysely, sql } from 'kysely';
import type { AnyDatabase, Connection } from '../connection.js';

/** One table of a connection, as `db:tables` lists it. */
export interface TableInfo {
  name: string;
  /** Exact, from COUNT(*). */
  rows: number;
  /** Table, indexes and (PostgreSQL) TOAST on disk; null when the engine cannot tell. */
  bytes: number | null;
}

/**
 * The base tables of the connection's own namespace: the SQLite file, the PostgreSQL
 * schema its `search_path` starts with, the MySQL database. Views are not included.
 */
export async function tableNames(connection: Connection): Promise<string[]> {
  return (await tableSizes(connection)).map((t) => t.name);
}

/**
 * Every table with its exact row count and its size on disk.
 *
 * @example
 * ```ts
 * for (const t of await listTables(db())) console.log(t.name, t.rows, t.bytes);
 * ```
 */
export async function listTables(connection: Connection): Promise<TableInfo[]> {
  const tables = await tableSizes(connection);
  const out: TableInfo[] = [];
  for (const table of tables) {
    const { rows } = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.id(table.name)}`.execute(connection.kysely);
    out.push({ name: table.name, rows: Number(rows[0]?.n ?? 0), bytes: table.bytes });
  }
  return out;
}

async function tableSizes(
  connection: Connection,
): Promise<Array<{ name: string; bytes: number | null }>> {
  const db = connection.kysely;
  const normalize = (rows: Array<{ name: string; bytes: number | string | null }>) =>
    rows
      .map((r) => ({ name: r.name, bytes: r.bytes === null ? null : Number(r.bytes) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  switch (connection.dialect) {
    case 'sqlite':
      return normalize(await sqliteSizes(db));
    case 'postgres': {
      const { rows } = await sql<{ name: string; bytes: number | string }>`
        select c.relname as name, pg_total_relation_size(c.oid) as bytes
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'p')
          and not c.relispartition`.execute(db);
      return normalize(rows);
    }
    case 'mysql': {
      const { rows } = await sql<{ name: string; bytes: number | string | null }>`
        select table_name as name, data_length + index_length as bytes
        from information_schema.tables
        where table_schema = database() and table_type = 'BASE TABLE'`.execute(db);
      return normalize(rows);
    }
  }
}

async function sqliteSizes(
  db: Kysely<AnyDatabase>,
): Promise<Array<{ name: string; bytes: number | string | null }>> {
  const { rows: tables } = await sql<{ name: string }>`
    select name from sqlite_master
    where type = 'table' and name not like 'sqlite\\_%' escape '\\'`.execute(db);
  try {
    // dbstat reports every b-tree page; an index's pages count for the table it indexes.
    const { rows } = await sql<{ name: string; bytes: number }>`
      select coalesce(m.tbl_name, s.name) as name, sum(s.pgsize) as bytes
      from dbstat s left join sqlite_master m on m.name = s.name
      group by coalesce(m.tbl_name, s.name)`.execute(db);
    const sizes = new Map(rows.map((r) => [r.name, r.bytes]));
    return tables.map((t) => ({ name: t.name, bytes: sizes.get(t.name) ?? 0 }));
  } catch {
    // A SQLite built without the dbstat table: sizes are unknown (the file's is not).
    return tables.map((t) => ({ name: t.name, bytes: null }));
  }
}

/** The total size of a SQLite database (page_count × page_size), for when dbstat is missing. */
export async function sqliteDatabaseBytes(connection: Connection): Promise<number> {
  const { rows } = await sql<{
    bytes: number;
  }>`select page_count * page_size as bytes from pragma_page_count(), pragma_page_size()`.execute(
    connection.kysely,
  );
  return Number(rows[0]?.bytes ?? 0);
}

/**
 * Drop every table and view of the connection's namespace (on PostgreSQL its current
 * schema only, with the sequences and enum or domain types made there), except `keep`.
 * Foreign keys are switched off meanwhile, so the order does not matter. Returns the
 * dropped tables.
 */
export async function dropAllTables(
  connection: Connection,
  options: { keep?: readonly string[] } = {},
): Promise<string[]> {
  const keep = new Set(options.keep ?? []);
  const tables = (await tableNames(connection)).filter((t) => !keep.has(t));
  switch (connection.dialect) {
    case 'sqlite':
      await dropSqlite(connection, tables);
      break;
    case 'postgres':
      await dropPostgres(connection.kysely, tables);
      break;
    case 'mysql':
      // Foreign key checks are per session: every statement on one pinned connection.
      await connection.kysely.connection().execute(async (db) => {
        await sql`set foreign_key_checks = 0`.execute(db);
        try {
          const { rows: views } = await sql<{ name: string }>`
            select table_name as name from information_schema.views
            where table_schema = database()`.execute(db);
          for (const view of views) await sql`drop view if exists ${sql.id(view.name)}`.execute(db);
          for (const table of tables) await sql`drop table if exists ${sql.id(table)}`.execute(db);
        } finally {
          await sql`set foreign_key_checks = 1`.execute(db);
        }
      });
      break;
  }
  return tables;
}

async function dropSqlite(connection: Connection, tables: string[]): Promise<void> {
  const db = connection.kysely;
  // PRAGMA foreign_keys is ignored inside a transaction: it is set on the handle first.
  const foreignKeys = connection.config.driver === 'sqlite' && connection.config.foreignKeys;
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    const { rows: views } = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'view'`.execute(db);
    for (const view of views) await sql`drop view if exists ${sql.id(view.name)}`.execute(db);
    for (const table of tables) await sql`drop table if exists ${sql.id(table)}`.execute(db);
  } finally {
    if (foreignKeys) await sql`pragma foreign_keys = on`.execute(db);
  }
}

async function dropPostgres(db: Kysely<AnyDatabase>, tables: string[]): Promise<void> {
  // Objects an extension owns (deptype 'e') belong to it, not to the application.
  const { rows: views } = await sql<{ name: string; kind: string }>`
    select c.relname as name, c.relkind as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('v', 'm')
      and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')`.execute(
    db,
  );
  for (const view of views) {
    const kind = view.kind === 'm' ? sql`materialized view` : sql`view`;
    await sql`drop ${kind} if exists ${sql.id(view.name)} cascade`.execute(db);
  }
  for (const table of tables) await sql`drop table if exists ${sql.id(table)} cascade`.execute(db);
  const { rows: rest } = await sql<{ name: string; kind: string }>`
    select c.relname as name, 'sequence' as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'S'
      and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
    union all
    select t.typname as name, 'type' as kind
    from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = current_schema() and t.typtype in ('e', 'd')
      and not exists (select 1 from pg_depend d where d.objid = t.oid and d.deptype = 'e')`.execute(
    db,
  );
  for (const object of rest) {
    const kind = object.kind === 'type' ? sql`type` : sql`sequence`;
    await sql`drop ${kind} if exists ${sql.id(object.name)} cascade`.execute(db);
  }
}
