import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';

/** The framework table of the database session store. */
export const SESSIONS_TABLE = 'sessions';

/**
 * `sessions (id, user_id, ip, user_agent, payload, last_activity, created_at)`. `id` is the
 * SHA-256 (hex) of the session id, never the id itself. Times are epoch milliseconds.
 * `user_id` is indexed for "your active sessions" and sign-out-everywhere, `last_activity`
 * for `session:cleanup` and the active-sessions count.
 */
export const createSessionsTable = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    const mysql = dialectOf(db) === 'mysql';
    await db.schema
      .createTable(SESSIONS_TABLE)
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(255)')
      .addColumn('ip', 'varchar(45)')
      .addColumn('user_agent', mysql ? sql`text` : 'text')
      .addColumn('payload', mysql ? sql`longtext` : 'text', (c) => c.notNull())
      .addColumn('last_activity', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex(`${SESSIONS_TABLE}_user_id_index`)
      .on(SESSIONS_TABLE)
      .column('user_id')
      .execute();
    await db.schema
      .createIndex(`${SESSIONS_TABLE}_last_activity_index`)
      .on(SESSIONS_TABLE)
      .column('last_activity')
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(SESSIONS_TABLE).execute();
  },
});
