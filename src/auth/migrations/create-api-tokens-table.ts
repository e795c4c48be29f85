import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';

import { API_TOKENS_TABLE } from '../tables.js';

export { API_TOKENS_TABLE };

/**
 * `api_tokens`: one row per opaque API token, holding only the SHA-256 of its secret.
 * Times are BIGINT epoch milliseconds. Ids, user ids and hashes compare byte for byte: on
 * MySQL/MariaDB (whose default collations ignore case and trailing spaces) they are
 * VARBINARY. `abilities` is a JSON array of strings.
 */
export const createApiTokensTable = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    const mysql = dialectOf(db) === 'mysql';
    const ident = (length: number) =>
      mysql ? sql.raw(`varbinary(${length * 4})`) : sql.raw(`varchar(${length})`);
    await db.schema
      .createTable(API_TOKENS_TABLE)
      .addColumn('id', ident(64), (c) => c.primaryKey())
      .addColumn('user_id', ident(255), (c) => c.notNull())
      .addColumn('name', sql.raw('varchar(255)'), (c) => c.notNull())
      .addColumn('hash', ident(64), (c) => c.notNull())
      .addColumn('abilities', mysql ? sql`longtext` : sql`text`, (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('api_tokens_user_id_index')
      .on(API_TOKENS_TABLE)
      .column('user_id')
      .execute();
    await db.schema
      .createIndex('api_tokens_expires_at_index')
      .on(API_TOKENS_TABLE)
      .column('expires_at')
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(API_TOKENS_TABLE).ifExists().execute();
  },
});
