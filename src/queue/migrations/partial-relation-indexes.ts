import type { Kysely } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { defineMigration, dialectOf } from '../../db/index.js';
import { createRelationIndex, RELATION_INDEXES } from './create-queue-tables.js';
import { dropJobsIndex, jobsIndexDefinition } from './index-info.js';

/** The name `migrate` records for it (module `keel:queue`, after the claim index). */
export const PARTIAL_RELATION_INDEXES_MIGRATION_NAME =
  '2026_12_04_000000_partial_jobs_relation_indexes';

/**
 * Installs made before the batch and parent indexes were partial (SQLite, PostgreSQL) get
 * them rebuilt so (see createRelationIndexes); fresh installs already have them: a no-op
 * there, as on MySQL.
 */
export const partialRelationIndexes = defineMigration({
  async up(db: Kysely<AnyDatabase>) {
    if (dialectOf(db) === 'mysql') return;
    for (const name of Object.keys(RELATION_INDEXES) as (keyof typeof RELATION_INDEXES)[]) {
      const definition = await jobsIndexDefinition(db, name);
      if (definition !== undefined && /\bwhere\b/i.test(definition)) continue;
      if (definition !== undefined) await dropJobsIndex(db, name);
      await createRelationIndex(db, name);
    }
  },
  async down() {
    // Nothing to undo: the partial indexes serve every query the full ones did.
  },
});
