import { type Kysely, sql } from 'kysely';
import type { AnyDatabase } from '../../db/index.js';
import { dialectOf } from '../../db/index.js';
import { JOBS_TABLE } from './create-queue-tables.js';

/**
 * The definition of the `jobs` index `name` as the database keeps it (SQLite's and
 * PostgreSQL's `CREATE INDEX` text; MySQL keeps none: an empty string), or undefined when
 * there is no such index.
 */
export async function jobsIndexDefinition(
  db: Kysely<AnyDatabase>,
  name: string,
): Promise<string | undefined> {
  const dialect = dialectOf(db);
  const query =
    dialect === 'sqlite'
      ? sql<{ definition: string | null }>`SELECT sql AS definition FROM sqlite_master
          WHERE type = 'index' AND tbl_name = ${JOBS_TABLE} AND name = ${name}`
      : dialect === 'postgres'
        ? sql<{ definition: string | null }>`SELECT indexdef AS definition FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = ${JOBS_TABLE} AND indexname = ${name}`
        : sql<{ definition: string | null }>`SELECT '' AS definition
            FROM information_schema.statistics
            WHERE table_schema = DATABASE() AND table_name = ${JOBS_TABLE} AND index_name = ${name}`;
  const [row] = (await query.execute(db)).rows;
  return row === undefined ? undefined : String(row.definition ?? '');
}

/** Drop the `jobs` index `name` (only MySQL names the table in DROP INDEX). */
export async function dropJobsIndex(db: Kysely<AnyDatabase>, name: string): Promise<void> {
  const drop = db.schema.dropIndex(name);
  await (dialectOf(db) === 'mysql' ? drop.on(JOBS_TABLE) : drop).execute();
}
