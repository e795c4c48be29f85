import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { Connection } from '../../db/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { lockStoreContract } from '../lock-store.contract.js';
import { createKeelLocksTable, LOCKS_TABLE } from '../migrations/create-keel-locks-table.js';
import { DatabaseLockStore } from './database-lock-store.js';

describeEachDialect('DatabaseLockStore', (database, dialect) => {
  let connection: Connection;
  const open = async (): Promise<DatabaseLockStore> => {
    connection = new Connection({
      name: 'main',
      config: database().config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    await createKeelLocksTable.up(connection.kysely);
    return new DatabaseLockStore({ connection });
  };

  lockStoreContract(dialect, async () => ({
    store: await open(),
    cleanup: async () => {
      await createKeelLocksTable.down?.(connection.kysely);
      await connection.close();
    },
  }));

  describe('its table', () => {
    it('keeps the row (and its fencing counter) after release, and ignores ambient transactions', async () => {
      const store = await open();
      try {
        expect(await store.acquire('kept', 'o1', 10_000)).toBe(1);
        // PostgreSQL/MySQL: a lock taken inside a transaction that rolls back stays
        // taken (the store writes on the root connection). SQLite's one connection is
        // the transaction's, so there the store joins it rather than wait for it forever.
        await connection
          .transaction(async () => {
            expect(await store.release('kept', 'o1')).toBe(true);
            expect(await store.acquire('kept', 'o2', 10_000)).toBe(2);
            throw new Error('rollback');
          })
          .catch(() => undefined);
        if (dialect === 'sqlite') {
          expect(await store.owner('kept')).toBe('o1');
          await store.release('kept', 'o1');
          expect(await store.acquire('kept', 'o2', 10_000)).toBe(2);
        }
        expect(await store.owner('kept')).toBe('o2');
        const rows = await sql<{ owner: string; fencing: number | string }>`
          SELECT owner, fencing FROM ${sql.table(LOCKS_TABLE)}`.execute(connection.kysely);
        expect(rows.rows.map((r) => [r.owner, Number(r.fencing)])).toEqual([['o2', 2]]);
        await store.release('kept', 'o2');
        const after = await sql<{ owner: string; fencing: number | string }>`
          SELECT owner, fencing FROM ${sql.table(LOCKS_TABLE)}`.execute(connection.kysely);
        expect(after.rows.map((r) => [r.owner, Number(r.fencing)])).toEqual([['', 2]]);
      } finally {
        await createKeelLocksTable.down?.(connection.kysely);
        await connection.close();
      }
    });
  });
});
