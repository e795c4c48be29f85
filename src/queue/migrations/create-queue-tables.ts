import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';

/** The framework tables of the database queue driver. */
export const JOBS_TABLE = 'jobs';
export const FAILED_JOBS_TABLE = 'failed_jobs';
export const JOB_BATCHES_TABLE = 'job_batches';

/** The source the queue provider adds to `app.make('db.migrations')`. */
export const QUEUE_MIGRATION_MODULE = 'keel:queue';
export const QUEUE_MIGRATION_NAME = '2026_12_01_000000_create_queue_tables';

/**
 * `jobs`, `failed_jobs` and `job_batches`. Times are BIGINT epoch milliseconds; payloads,
 * chains and meta are JSON text (LONGTEXT on MySQL/MariaDB, whose TEXT stops at 64 KiB).
 *
 * Identifiers (ids, queue names, unique keys) compare byte for byte on every dialect:
 * MySQL/MariaDB's default collations are case- and trailing-space-insensitive, which would
 * make queues `High` and `high`, or two unique keys differing in case, one (even the
 * `_bin` collations pad trailing spaces). There they are VARBINARY, decoded by the driver.
 *
 * A job is claimable when it is not leased (`lease_until = 0`), is due (`available_at`)
 * and waits for no child, or when its lease expired. `jobs_claim_index` serves the first
 * case per queue in priority order, `jobs_lease_index` the reclaim of expired leases.
 * `jobs_batch_index` and `jobs_parent_index` hold only the jobs that have a batch or a
 * parent (see {@link createRelationIndexes}).
 * `jobs_unique_index` enforces unique jobs: a key is held by one row at a time (the
 * driver clears a key whose `unique_until` passed before inserting a new holder).
 */
export const createQueueTables = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    const mysql = dialectOf(db) === 'mysql';
    // MySQL: bytes (4 per character of UTF-8), read back as Buffers the driver decodes.
    const ident = (length: number) =>
      mysql ? sql.raw(`varbinary(${length * 4})`) : sql.raw(`varchar(${length})`);
    const text = mysql ? sql`longtext` : sql`text`;

    await db.schema
      .createTable(JOBS_TABLE)
      .addColumn('id', ident(64), (c) => c.primaryKey())
      .addColumn('name', ident(255), (c) => c.notNull())
      .addColumn('queue', ident(255), (c) => c.notNull())
      .addColumn('payload', text, (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('available_at', 'bigint', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('retry_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('timeout_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('backoff', text, (c) => c.notNull())
      .addColumn('unique_key', ident(255))
      .addColumn('unique_until', 'bigint')
      .addColumn('batch_id', ident(64))
      .addColumn('chain', text)
      .addColumn('parent_id', ident(64))
      .addColumn('pending_children', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('meta', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('fence', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('worker_id', ident(255))
      .addColumn('last_error', text)
      .execute();
    await createClaimIndex(db);
    await db.schema.createIndex('jobs_lease_index').on(JOBS_TABLE).column('lease_until').execute();
    await db.schema
      .createIndex('jobs_unique_index')
      .on(JOBS_TABLE)
      .column('unique_key')
      .unique()
      .execute();
    await createRelationIndexes(db);

    await db.schema
      .createTable(FAILED_JOBS_TABLE)
      .addColumn('id', ident(64), (c) => c.primaryKey())
      .addColumn('job_id', ident(64), (c) => c.notNull())
      .addColumn('name', ident(255), (c) => c.notNull())
      .addColumn('queue', ident(255), (c) => c.notNull())
      .addColumn('payload', text, (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('error', text, (c) => c.notNull())
      .addColumn('failed_at', 'bigint', (c) => c.notNull())
      .addColumn('meta', text, (c) => c.notNull())
      // The rest of the job (options, chain, batch, fence), so a retry restores it whole.
      .addColumn('record', text, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('failed_jobs_queue_index')
      .on(FAILED_JOBS_TABLE)
      .columns(['queue', 'failed_at'])
      .execute();
    await db.schema
      .createIndex('failed_jobs_failed_at_index')
      .on(FAILED_JOBS_TABLE)
      .column('failed_at')
      .execute();

    await db.schema
      .createTable(JOB_BATCHES_TABLE)
      .addColumn('id', ident(64), (c) => c.primaryKey())
      .addColumn('name', ident(255), (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('pending', 'integer', (c) => c.notNull())
      .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cancelled_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('callbacks', text, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('job_batches_finished_at_index')
      .on(JOB_BATCHES_TABLE)
      .column('finished_at')
      .execute();
  },
  async down(db: Kysely<AnyDatabase>) {
    await db.schema.dropTable(JOB_BATCHES_TABLE).ifExists().execute();
    await db.schema.dropTable(FAILED_JOBS_TABLE).ifExists().execute();
    await db.schema.dropTable(JOBS_TABLE).ifExists().execute();
  },
});

/** The claim index's name (see {@link createClaimIndex}). */
export const CLAIM_INDEX = 'jobs_claim_order_index';

/**
 * The index a claim reads in order: per queue, the free jobs (`lease_until = 0`) by
 * priority (highest first), then age, then id, exactly the claim's ORDER BY, so a claim
 * reads its LIMIT rows off the index instead of sorting the backlog; expired leases are a
 * range on `lease_until` of the same index.
 */
export async function createClaimIndex(db: Kysely<AnyDatabase>): Promise<void> {
  await db.schema
    .createIndex(CLAIM_INDEX)
    .on(JOBS_TABLE)
    .columns(['queue', 'lease_until', 'priority desc', 'available_at', 'id'])
    .execute();
}

/** The indexes of a job's batch and parent (see {@link createRelationIndexes}). */
export const RELATION_INDEXES = {
  jobs_batch_index: 'batch_id',
  jobs_parent_index: 'parent_id',
} as const;

/**
 * The batch and parent indexes. On SQLite and PostgreSQL they are partial (`WHERE … IS NOT
 * NULL`): most jobs have neither, and a full index kept an entry for each of them, written on
 * every insert and delete, and one SQLite's planner (without statistics) chose for a
 * completion's `parent_id IS NULL`, reading the whole backlog for every group of completions.
 * MySQL has no partial indexes.
 */
export async function createRelationIndexes(db: Kysely<AnyDatabase>): Promise<void> {
  for (const name of Object.keys(RELATION_INDEXES) as (keyof typeof RELATION_INDEXES)[])
    await createRelationIndex(db, name);
}

/** One of {@link RELATION_INDEXES}, partial where the dialect allows it. */
export async function createRelationIndex(
  db: Kysely<AnyDatabase>,
  name: keyof typeof RELATION_INDEXES,
): Promise<void> {
  const column = RELATION_INDEXES[name];
  const index = db.schema.createIndex(name).on(JOBS_TABLE).column(column);
  await (dialectOf(db) === 'mysql'
    ? index
    : index.where(sql.ref(column), 'is not', null)
  ).execute();
}
