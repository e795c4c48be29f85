import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';

/** The framework table of the database cache store. */
export const CACHE_TABLE = 'keel_cache';

/**
 * `keel_cache (key, value, expires_at)`. The key is compared byte for byte on every
 * dialect: MySQL/MariaDB's default collations are case- and trailing-space-insensitive,
 * so there it is VARBINARY (1,024 bytes holds a 250-character key and its prefix in
 * UTF-8). `expires_at` is epoch milliseconds, NULL for no expiry, indexed for `cache:gc`.
 */
export const createCacheTable = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    const mysql = dialectOf(db) === 'mysql';
    await db.schema
      .createTable(CACHE_TABLE)
      .addColumn('key', mysql ? sql`varbinary(1024)` : 'text', (c) => c.primaryKey())
      .addColumn('value', mysql ? sql`longtext` : 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema
      .createIndex(`${CACHE_TABLE}_expires_at_index`)
      .on(CACHE_TABLE)
      .column('expires_at')
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(CACHE_TABLE).execute();
  },
});
