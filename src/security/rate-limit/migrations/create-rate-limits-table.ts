import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../../db/index.js';
import { defineMigration, dialectOf } from '../../../db/index.js';

/** The database rate-limit store's table. */
export const RATE_LIMITS_TABLE = 'rate_limits';

/** The module `migrate` records the table under. */
export const RATE_LIMIT_MIGRATION_MODULE = 'keel:rate-limit';

/** The name `migrate` records for it. */
export const RATE_LIMITS_MIGRATION_NAME = '2026_12_10_000000_create_rate_limits_table';

/**
 * Create a rate-limit table named `table`: one row per (limiter, client) key with the
 * points consumed in its current window and the window's end (BIGINT epoch ms, NULL for
 * a key that never expires). The key is VARBINARY on MySQL/MariaDB so that keys compare
 * byte for byte: under a case-insensitive collation `User` and `user` (or two Unicode
 * spellings) would share one allowance. 255 bytes is enough: the limiter hashes longer
 * client keys.
 */
export async function createRateLimitsTable(db: Kysely<AnyDatabase>, table: string): Promise<void> {
  const mysql = dialectOf(db) === 'mysql';
  await db.schema
    .createTable(table)
    .addColumn('limiter_key', mysql ? sql.raw('varbinary(255)') : sql.raw('varchar(255)'), (c) =>
      c.primaryKey(),
    )
    .addColumn('points', 'bigint', (c) => c.notNull())
    .addColumn('expire', 'bigint')
    .execute();
  // The prune deletes by window end.
  await db.schema.createIndex(`${table}_expire_index`).on(table).column('expire').execute();
}

/** `rate_limits` for the database store (`RATE_LIMIT_STORE=database`). */
export const createRateLimitsTableMigration = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    await createRateLimitsTable(db, RATE_LIMITS_TABLE);
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(RATE_LIMITS_TABLE).ifExists().execute();
  },
});
