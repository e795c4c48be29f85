import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';

/** The worker registry's table. */
export const QUEUE_WORKERS_TABLE = 'queue_workers';

/** The name `migrate` records for it (module `keel:queue`, after the queue tables). */
export const QUEUE_WORKERS_MIGRATION_NAME = '2026_12_02_000000_create_queue_workers_table';

/**
 * `queue_workers`: one row per running worker, upserted at each registry heartbeat and
 * deleted on a clean stop. Times are BIGINT epoch milliseconds; `queues` is a JSON list.
 * Ids are VARBINARY on MySQL/MariaDB (byte comparison), as in the other queue tables.
 */
export const createQueueWorkersTable = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    const mysql = dialectOf(db) === 'mysql';
    const ident = (length: number) =>
      mysql ? sql.raw(`varbinary(${length * 4})`) : sql.raw(`varchar(${length})`);
    await db.schema
      .createTable(QUEUE_WORKERS_TABLE)
      .addColumn('id', ident(255), (c) => c.primaryKey())
      .addColumn('host', ident(255), (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('queues', mysql ? sql`longtext` : sql`text`, (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('processed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('failed', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('interval_ms', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(QUEUE_WORKERS_TABLE).ifExists().execute();
  },
});
