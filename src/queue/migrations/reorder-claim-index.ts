import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';
import { CLAIM_INDEX, createClaimIndex, JOBS_TABLE } from './create-queue-tables.js';

/** The name `migrate` records for it (module `keel:queue`, after the queue tables). */
export const REORDER_CLAIM_INDEX_MIGRATION_NAME = '2026_12_03_000000_reorder_jobs_claim_index';

/** The first claim index: its column order made every claim sort the whole backlog. */
const OLD_CLAIM_INDEX = 'jobs_claim_index';

async function indexExists(db: Kysely<AnyDatabase>, name: string): Promise<boolean> {
  const dialect = dialectOf(db);
  const query =
    dialect === 'sqlite'
      ? sql`SELECT name FROM sqlite_master WHERE type = 'index' AND name = ${name}`
      : dialect === 'postgres'
        ? sql`SELECT indexname FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = ${JOBS_TABLE} AND indexname = ${name}`
        : sql`SELECT index_name FROM information_schema.statistics
            WHERE table_schema = DATABASE() AND table_name = ${JOBS_TABLE} AND index_name = ${name}`;
  return (await query.execute(db)).rows.length > 0;
}

/**
 * Installs made before the claim read its candidates in index order have the first claim
 * index; this replaces it (fresh installs already have the new one: a no-op there).
 */
export const reorderClaimIndex = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    if (!(await indexExists(db, CLAIM_INDEX))) await createClaimIndex(db);
    if (await indexExists(db, OLD_CLAIM_INDEX)) {
      // Only MySQL names the table in DROP INDEX.
      const drop = db.schema.dropIndex(OLD_CLAIM_INDEX);
      await (dialectOf(db) === 'mysql' ? drop.on(JOBS_TABLE) : drop).execute();
    }
  },
  async down() {
    // Nothing to undo: the new index serves every query the old one did.
  },
});
