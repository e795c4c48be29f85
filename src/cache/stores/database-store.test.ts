import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { Connection } from '../../db/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { runCacheStoreContract } from '../cache-store.contract.js';
import { CACHE_TABLE, createCacheTable } from '../migrations/create-cache-table.js';
import { DatabaseStore } from './database-store.js';

describeEachDialect('database cache store', (database, dialect) => {
  runCacheStoreContract(`database [${dialect}]`, async ({ now, maxValueBytes }) => {
    const connection = new Connection({
      name: 'default',
      config: database().config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    await createCacheTable.up(connection.kysely);
    return {
      store: new DatabaseStore({ connection, now, maxValueBytes }),
      cleanup: () => connection.close(),
    };
  });

  describe('the keel_cache migration', () => {
    it('creates and drops the table', async () => {
      const connection = new Connection({
        name: 'migration',
        config: database().config,
        root: process.cwd(),
        logger: createNullLogger(),
      });
      try {
        // The contract's store already created it: drop, re-create, check the columns.
        await createCacheTable.down!(connection.kysely);
        await createCacheTable.up(connection.kysely);
        const tables = await connection.kysely.introspection.getTables();
        const table = tables.find((t) => t.name === CACHE_TABLE);
        expect(table?.columns.map((c) => c.name).sort()).toEqual(['expires_at', 'key', 'value']);
      } finally {
        await connection.close();
      }
    });
  });
});
