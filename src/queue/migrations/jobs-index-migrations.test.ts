import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../../test/support/databases.js';
import type { Connection } from '../../db/index.js';
import {
  CLAIM_INDEX,
  createQueueTables,
  JOBS_TABLE,
  RELATION_INDEXES,
} from './create-queue-tables.js';
import { jobsIndexDefinition } from './index-info.js';
import { partialRelationIndexes } from './partial-relation-indexes.js';
import { reorderClaimIndex } from './reorder-claim-index.js';

describeEachDialect('migrations of the jobs indexes', (database, dialect) => {
  let connection: Connection;
  beforeAll(async () => {
    connection = testConnection(database());
    await createQueueTables.up(connection.kysely);
  });
  afterAll(async () => {
    await createQueueTables.down?.(connection.kysely);
    await connection.close();
  });

  describe('reorder the claim index', () => {
    const indexes = async (): Promise<string[]> => {
      const query =
        dialect === 'sqlite'
          ? sql<{ name: string }>`SELECT name FROM sqlite_master
              WHERE type = 'index' AND tbl_name = ${JOBS_TABLE} AND name LIKE 'jobs_claim%'`
          : dialect === 'postgres'
            ? sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes
                WHERE schemaname = current_schema() AND tablename = ${JOBS_TABLE}
                  AND indexname LIKE 'jobs_claim%'`
            : sql<{
                name: string;
              }>`SELECT DISTINCT index_name AS name FROM information_schema.statistics
                WHERE table_schema = DATABASE() AND table_name = ${JOBS_TABLE}
                  AND index_name LIKE 'jobs_claim%'`;
      return (await query.execute(connection.kysely)).rows.map((r) => String(r.name)).sort();
    };

    it('fresh installs have the ordered index; the migration leaves them alone', async () => {
      expect(await indexes()).toEqual([CLAIM_INDEX]);
      await reorderClaimIndex.up(connection.kysely);
      expect(await indexes()).toEqual([CLAIM_INDEX]);
    });

    it('replaces the first claim index of an older install, once', async () => {
      const kysely = connection.kysely;
      const drop = kysely.schema.dropIndex(CLAIM_INDEX);
      await (dialect === 'mysql' ? drop.on(JOBS_TABLE) : drop).execute();
      await kysely.schema
        .createIndex('jobs_claim_index')
        .on(JOBS_TABLE)
        .columns(['queue', 'lease_until', 'priority', 'available_at'])
        .execute();
      expect(await indexes()).toEqual(['jobs_claim_index']);
      await reorderClaimIndex.up(kysely);
      expect(await indexes()).toEqual([CLAIM_INDEX]);
      await reorderClaimIndex.up(kysely);
      expect(await indexes()).toEqual([CLAIM_INDEX]);
    });
  });

  describe('partial batch and parent indexes', () => {
    const definitions = async (): Promise<(string | undefined)[]> =>
      Promise.all(
        Object.keys(RELATION_INDEXES).map((n) => jobsIndexDefinition(connection.kysely, n)),
      );
    const partial = (definition: string | undefined): boolean =>
      definition !== undefined && /where .*is not null/i.test(definition);

    it('fresh installs have them partial (but MySQL); the migration leaves them alone', async () => {
      const before = await definitions();
      expect(before.every((d) => d !== undefined)).toBe(true);
      expect(before.map(partial)).toEqual(dialect === 'mysql' ? [false, false] : [true, true]);
      await partialRelationIndexes.up(connection.kysely);
      expect(await definitions()).toEqual(before);
    });

    it.runIf(dialect !== 'mysql')(
      'rebuilds the full indexes of an older install, once',
      async () => {
        const kysely = connection.kysely;
        for (const [name, column] of Object.entries(RELATION_INDEXES)) {
          await kysely.schema.dropIndex(name).execute();
          await kysely.schema.createIndex(name).on(JOBS_TABLE).column(column).execute();
        }
        expect((await definitions()).map(partial)).toEqual([false, false]);
        await partialRelationIndexes.up(kysely);
        expect((await definitions()).map(partial)).toEqual([true, true]);
        await partialRelationIndexes.up(kysely);
        expect((await definitions()).map(partial)).toEqual([true, true]);
      },
    );
  });
});
