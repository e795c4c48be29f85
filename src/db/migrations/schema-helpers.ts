import {
  type CreateTableBuilder,
  type Kysely,
  MysqlAdapter,
  PostgresAdapter,
  SqliteAdapter,
  sql,
} from 'kysely';
import type { DialectName } from '../config.js';
import type { AnyDatabase } from '../connection.js';

/** The dialect a Kysely instance (or transaction) speaks, from its adapter. */
export function dialectOf(db: Kysely<AnyDatabase>): DialectName {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  throw new TypeError(`Keel migrations support SQLite, PostgreSQL and MySQL, not ${adapter}`);
}

type TableStep = <T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
) => CreateTableBuilder<T, C>;

/**
 * An auto-increment integer primary key, written for each dialect: `serial` (or
 * `bigserial`) on PostgreSQL, `integer autoincrement` on SQLite, `integer auto_increment`
 * (or `bigint`) on MySQL. Foreign keys to it are `integer` columns (`bigint` with `big`).
 *
 * @example
 * ```ts
 * await db.schema.createTable('orders').$call(increments(db, 'id')).execute();
 * ```
 */
export function increments(
  db: Kysely<AnyDatabase>,
  column = 'id',
  options: { big?: boolean } = {},
): TableStep {
  const dialect = dialectOf(db);
  return (table) => {
    if (dialect === 'postgres')
      return table.addColumn(column, options.big ? 'bigserial' : 'serial', (c) => c.primaryKey());
    const type = dialect === 'mysql' && options.big ? 'bigint' : 'integer';
    return table.addColumn(column, type, (c) => c.primaryKey().autoIncrement());
  };
}

/**
 * `created_at` and `updated_at`, not null, defaulting to the current time: `timestamptz`
 * on PostgreSQL, `datetime(3)` on MySQL, ISO-like text on SQLite. Keel does not update
 * `updated_at` by itself: set it when you update a row.
 *
 * @example
 * ```ts
 * await db.schema.createTable('orders').$call(increments(db)).$call(timestamps(db)).execute();
 * ```
 */
export function timestamps(db: Kysely<AnyDatabase>): TableStep {
  const dialect = dialectOf(db);
  const type =
    dialect === 'postgres'
      ? sql`timestamptz`
      : dialect === 'mysql'
        ? sql`datetime(3)`
        : sql`timestamp`;
  const now = dialect === 'mysql' ? sql`current_timestamp(3)` : sql`current_timestamp`;
  return (table) =>
    table
      .addColumn('created_at', type, (c) => c.notNull().defaultTo(now))
      .addColumn('updated_at', type, (c) => c.notNull().defaultTo(now));
}
