import type { Kysely } from 'kysely';
import type { AnyDatabase, Migration } from '../../db/index.js';

/** The framework table the database lock store uses. */
export const LOCKS_TABLE = 'keel_locks';

/** The source LockProvider adds to `app.make('db.migrations')`. */
export const LOCKS_MIGRATION_MODULE = 'keel:locks';
export const LOCKS_MIGRATION_NAME = '2026_11_27_000000_create_keel_locks';

/**
 * `keel_locks`: one row per lock name ever used, kept after release so that its fencing
 * counter never goes back. `expires_at` is epoch milliseconds by the database server's
 * clock (so application hosts' clocks do not matter).
 *
 * On MySQL/MariaDB the name is `varbinary`: the default collations are case- and
 * accent-insensitive and ignore trailing spaces, which would make `'Lock'`, `'lock'` and
 * `'lock '` one lock. 1020 bytes hold 255 characters of 4-byte UTF-8.
 */
export const createKeelLocksTable: Migration = {
  // Kysely is imported here, not at the top: LockProvider registers this object at boot
  // and an application that never migrates should not load Kysely for it.
  async up(db: Kysely<AnyDatabase>) {
    const { MysqlAdapter, sql } = await import('kysely');
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    await db.schema
      .createTable(LOCKS_TABLE)
      // The cache's stampede guard may add this migration for its own connection too.
      .ifNotExists()
      .addColumn('name', mysql ? sql`varbinary(1020)` : 'varchar(255)', (c) => c.primaryKey())
      .addColumn('owner', 'varchar(64)', (c) => c.notNull())
      .addColumn('fencing', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(LOCKS_TABLE).ifExists().execute();
  },
};
