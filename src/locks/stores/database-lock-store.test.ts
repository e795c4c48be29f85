import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

  describe('prune()', () => {
    let store: DatabaseLockStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await createKeelLocksTable.down?.(connection.kysely);
      await connection.close();
    });
    const names = async (): Promise<string[]> => {
      const result = await sql<{ name: string | Uint8Array }>`
        SELECT name FROM ${sql.table(LOCKS_TABLE)} ORDER BY name`.execute(connection.kysely);
      return result.rows.map((row) => Buffer.from(row.name).toString());
    };

    it('deletes released and expired rows, keeps held ones, and records the highest token deleted', async () => {
      for (let i = 1; i <= 3; i++) {
        expect(await store.acquire('released', `r${i}`, 10_000)).toBe(i);
        await store.release('released', `r${i}`);
      }
      expect(await store.acquire('expired', 'e1', 1)).toBe(1);
      expect(await store.acquire('held', 'h1', 60_000)).toBe(1);
      await sleep(20);
      expect(await store.fenceFloor()).toBe(0);
      expect(await store.prune()).toBe(2);
      expect(await names()).toEqual(['', 'held']);
      expect(await store.fenceFloor()).toBe(3);
      expect(await store.owner('held')).toBe('h1');
      expect(await store.prune()).toBe(0);
    });

    it("keeps every name's fencing tokens increasing after its row is pruned", async () => {
      for (let i = 1; i <= 5; i++) {
        await store.acquire('busy', `b${i}`, 10_000);
        await store.release('busy', `b${i}`);
      }
      await store.acquire('quiet', 'q1', 10_000);
      await store.release('quiet', 'q1');
      expect(await store.prune()).toBe(2);
      // Both names start above the floor (5), not at 1: a holder that still carries token 5
      // of "busy" is refused by a fenced write of token 6.
      expect(await store.acquire('busy', 'b6', 10_000)).toBe(6);
      expect(await store.acquire('quiet', 'q2', 10_000)).toBe(6);
      expect(await store.acquire('never-seen', 'n1', 10_000)).toBe(6);
      await store.release('busy', 'b6');
      expect(await store.acquire('busy', 'b7', 10_000)).toBe(7);
      // A second prune never lowers the floor.
      await store.release('quiet', 'q2');
      expect(await store.prune()).toBe(1);
      expect(await store.fenceFloor()).toBe(6);
      expect(await store.acquire('quiet', 'q3', 10_000)).toBe(7);
    });

    it('deletes in batches, and spares rows freed less than olderThan ago', async () => {
      for (let i = 0; i < 7; i++) {
        await store.acquire(`batch:${i}`, 'o', 10_000);
        await store.release(`batch:${i}`, 'o');
      }
      await store.acquire('recent', 'o', 1);
      await sleep(20);
      // Released rows count as freed long ago; a lapsed lease counts from its expiry.
      expect(await store.prune({ olderThan: '1h', batchSize: 3 })).toBe(7);
      expect(await names()).toEqual(['', 'recent']);
      expect(await store.prune({ batchSize: 3 })).toBe(1);
    });

    it('keeps hostile names apart, and never deletes the floor row', async () => {
      const hostile = ["'; DROP TABLE keel_locks; --", 'Lock', 'lock', 'lock ', '%', '_', 'é'];
      for (const name of hostile) {
        await store.acquire(name, 'o', 10_000);
        await store.release(name, 'o');
      }
      await store.acquire('lock', 'held', 60_000);
      expect(await store.prune()).toBe(hostile.length - 1);
      expect(await names()).toEqual(['', 'lock']);
      expect(await store.owner('lock')).toBe('held');
    });

    it('refuses bad options with clear codes, deleting nothing', async () => {
      await store.acquire('kept', 'o', 1);
      await sleep(20);
      await expect(store.prune({ olderThan: 'soon' })).rejects.toMatchObject({
        code: 'E_LOCK_INVALID_TTL',
      });
      await expect(store.prune({ olderThan: -5 })).rejects.toMatchObject({
        code: 'E_LOCK_INVALID_TTL',
      });
      for (const batchSize of [0, 1.5, Number.NaN, 10_001, '10' as never])
        await expect(store.prune({ batchSize })).rejects.toMatchObject({
          code: 'E_LOCK_CONFIG_INVALID',
        });
      expect(await names()).toEqual(['kept']);
    });

    it('keeps tokens increasing while prunes run between acquisitions on other connections', async () => {
      // Every name is taken and freed in a loop on a second connection while prune runs in
      // a loop on the first: whatever the interleaving, each name's tokens only go up.
      // (SQLite: the same connection, as better-sqlite3 is synchronous; a second one in this
      // thread would busy-wait for a lock that this thread itself holds.)
      const other = new Connection({
        name: 'other',
        config: database().config,
        root: process.cwd(),
        logger: createNullLogger(),
      });
      const second = dialect === 'sqlite' ? store : new DatabaseLockStore({ connection: other });
      try {
        let running = true;
        const pruner = (async () => {
          let removed = 0;
          while (running) removed += await store.prune({ batchSize: 2 });
          return removed;
        })();
        const takers = ['a', 'b', 'c'].map(async (name) => {
          const tokens: number[] = [];
          for (let i = 0; i < 20; i++) {
            const token = await second.acquire(name, `${name}${i}`, 10_000);
            if (token === null) throw new Error(`${name} was held`);
            tokens.push(token);
            await second.release(name, `${name}${i}`);
          }
          return tokens;
        });
        const perName = await Promise.all(takers);
        running = false;
        await pruner;
        for (const tokens of perName)
          for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
      } finally {
        await other.close();
      }
    });
  });

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
