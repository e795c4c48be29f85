import type { Kysely } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration } from '../../db/index.js';
import { CLAIM_INDEX, createClaimIndex } from './create-queue-tables.js';
import { dropJobsIndex, jobsIndexDefinition } from './index-info.js';

/** The name `migrate` records for it (module `keel:queue`, after the queue tables). */
export const REORDER_CLAIM_INDEX_MIGRATION_NAME = '2026_12_03_000000_reorder_jobs_claim_index';

/** The first claim index: its column order made every claim sort the whole backlog. */
const OLD_CLAIM_INDEX = 'jobs_claim_index';

/**
 * Installs made before the claim read its candidates in index order have the first claim
 * index; this replaces it (fresh installs already have the new one: a no-op there).
 */
export const reorderClaimIndex = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    if ((await jobsIndexDefinition(db, CLAIM_INDEX)) === undefined) await createClaimIndex(db);
    if ((await jobsIndexDefinition(db, OLD_CLAIM_INDEX)) !== undefined)
      await dropJobsIndex(db, OLD_CLAIM_INDEX);
  },
  async down() {
    // Nothing to undo: the new index serves every query the old one did.
  },
});
