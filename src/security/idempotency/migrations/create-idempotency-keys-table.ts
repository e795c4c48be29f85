import type { Kysely } from 'kysely';
import type { AnyDatabase, Migration } from '../../../db/index.js';

/** The framework table the database idempotency store uses. */
export const IDEMPOTENCY_TABLE = 'idempotency_keys';

/** The source IdempotencyProvider adds to `app.make('db.migrations')`. */
export const IDEMPOTENCY_MIGRATION_MODULE = 'keel:idempotency';
export const IDEMPOTENCY_MIGRATION_NAME = '2026_11_27_000100_create_idempotency_keys';

/**
 * `idempotency_keys`: one row per scoped key, from its claim until `expires_at` (then
 * `idempotency:prune` deletes it). Times are epoch milliseconds by the application's clock.
 * `key_hash` and `fingerprint` are lower-case SHA-256 hex, so no collation can fold two keys
 * into one. `state` is `in_flight` or `completed`; a completed row with a NULL body kept
 * its status and headers only (the body was over the size limit).
 *
 * The body column is binary on every dialect (`blob`, `bytea`, `longblob`): responses are
 * replayed byte for byte, whatever their encoding.
 */
export function createIdempotencyKeysTable(table = IDEMPOTENCY_TABLE): Migration {
  return {
    // Kysely is imported here, not at the top: the provider registers this object at boot,
    // and an application that never migrates should not load Kysely for it.
    async up(db: Kysely<AnyDatabase>) {
      const { MysqlAdapter, PostgresAdapter, sql } = await import('kysely');
      const adapter = db.getExecutor().adapter;
      const mysql = adapter instanceof MysqlAdapter;
      const body = mysql ? sql`longblob` : adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
      await db.schema
        .createTable(table)
        .addColumn('key_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('token', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('locked_until', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('response_headers', mysql ? sql`mediumtext` : 'text')
        .addColumn('response_body', body)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex(`${table.replace(/\W/g, '_')}_expires_at_index`)
        .on(table)
        .column('expires_at')
        .execute();
    },
    async down(db: Kysely<AnyDatabase>) {
      await db.schema.dropTable(table).ifExists().execute();
    },
  };
}
