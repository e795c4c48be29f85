import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../../../test/support/databases.js';
import type { Connection } from '../../../db/index.js';
import {
  createRateLimitsTable,
  createRateLimitsTableMigration,
  RATE_LIMITS_TABLE,
} from '../migrations/create-rate-limits-table.js';
import { rateLimitStoreContract } from '../rate-limit-store.contract.js';
import { RateLimiter } from '../rate-limiter.js';
import { DatabaseRateLimitStore } from './database-rate-limit-store.js';

describeEachDialect('database rate-limit store', (database, dialect) => {
  rateLimitStoreContract(dialect, async () => {
    const connection = testConnection(database());
    const table = `rl_${randomBytes(4).toString('hex')}`;
    await createRateLimitsTable(connection.kysely, table);
    return {
      store: new DatabaseRateLimitStore({ connection, table }),
      prefix: 'test:rl',
      cleanup: async () => {
        await connection.kysely.schema.dropTable(table).ifExists().execute();
        await connection.close();
      },
    };
  });

  it('the framework migration creates rate_limits, and takes it down', async () => {
    const connection = testConnection(database());
    try {
      await createRateLimitsTableMigration.up(connection.kysely);
      const limiter = new RateLimiter({
        store: new DatabaseRateLimitStore({ connection }),
        prefix: 'migrated',
        onStoreError: 'closed',
        limiters: { a: { points: 1, duration: 60 } },
      });
      expect((await limiter.attempt('a', 'k')).allowed).toBe(true);
      expect((await limiter.attempt('a', 'k')).allowed).toBe(false);
      await createRateLimitsTableMigration.down?.(connection.kysely);
      await expect(limiter.attempt('a', 'k')).rejects.toMatchObject({
        code: 'E_RATE_LIMIT_STORE_UNAVAILABLE',
      });
    } finally {
      await connection.kysely.schema.dropTable(RATE_LIMITS_TABLE).ifExists().execute();
      await connection.close();
    }
  });

  describe('rows', () => {
    let connection: Connection;
    let limiter: RateLimiter;
    const table = `rl_${randomBytes(4).toString('hex')}`;
    beforeAll(async () => {
      connection = testConnection(database());
      await createRateLimitsTable(connection.kysely, table);
      limiter = new RateLimiter({
        store: new DatabaseRateLimitStore({ connection, table }),
        prefix: 'rows',
        onStoreError: 'closed',
        limiters: { login: { points: 3, duration: 60 } },
      });
    });
    afterAll(async () => {
      await connection.kysely.schema.dropTable(table).ifExists().execute();
      await connection.close();
    });

    const rows = () =>
      connection.kysely
        .selectFrom(table)
        .select(['limiter_key', 'points', 'expire'])
        .execute() as Promise<Array<{ limiter_key: unknown; points: unknown; expire: unknown }>>;

    it('keeps one row per key with the points and the window end', async () => {
      const before = Date.now();
      await limiter.attempt('login', 'ip:203.0.113.9');
      await limiter.attempt('login', 'ip:203.0.113.9');
      const [row] = (await rows()).filter((r) => String(r.limiter_key).endsWith('203.0.113.9'));
      expect(String(row!.limiter_key)).toBe('rows:login:ip:203.0.113.9');
      expect(Number(row!.points)).toBe(2);
      expect(Number(row!.expire)).toBeGreaterThanOrEqual(before + 60_000);
      expect(Number(row!.expire)).toBeLessThanOrEqual(Date.now() + 60_000);
    });

    it('restarts a window whose end has passed (backdated row)', async () => {
      const key = 'ip:198.51.100.7';
      for (let i = 0; i < 4; i++) await limiter.attempt('login', key);
      expect((await limiter.attempt('login', key)).allowed).toBe(false);
      await connection.kysely
        .updateTable(table)
        .set({ expire: Date.now() - 1 })
        .where('limiter_key', '=', `rows:login:${key}`)
        .execute();
      expect(await limiter.remaining('login', key)).toBe(3);
      const fresh = await limiter.attempt('login', key);
      expect(fresh).toMatchObject({ allowed: true, remaining: 2 });
      expect(fresh.retryAfter).toBeGreaterThan(55);
    });

    it('compares keys byte for byte (no collation folding case or accents)', async () => {
      await limiter.attempt('login', 'user:Alice', 3);
      expect(await limiter.remaining('login', 'user:alice')).toBe(3);
      expect(await limiter.remaining('login', 'user:ALICE')).toBe(3);
      expect(await limiter.remaining('login', 'user:Alice')).toBe(0);
    });

    it('counts outside the ambient transaction (but SQLite, whose one connection it holds)', async () => {
      const key = 'ip:192.0.2.55';
      await connection
        .transaction(async () => {
          await limiter.attempt('login', key);
          throw new Error('request failed');
        })
        .catch(() => undefined);
      // A rolled-back request still used its attempt; on SQLite the hit joined the transaction.
      expect(await limiter.remaining('login', key)).toBe(dialect === 'sqlite' ? 3 : 2);
    });

    it('prunes long-expired rows, by hand and after the first hit of a store', async () => {
      const stale = () =>
        connection.kysely
          .insertInto(table)
          .values({ limiter_key: 'rows:stale', points: 1, expire: Date.now() - 7_200_000 })
          .execute();
      const left = async () =>
        (
          await connection.kysely
            .selectFrom(table)
            .select('limiter_key')
            .where('limiter_key', '=', 'rows:stale')
            .execute()
        ).length;
      await stale();
      const store = new DatabaseRateLimitStore({ connection, table });
      expect(await store.prune()).toBeGreaterThanOrEqual(1);
      expect(await left()).toBe(0);
      // A window that ended a minute ago stays (a slow reader may still see it).
      await connection.kysely
        .insertInto(table)
        .values({ limiter_key: 'rows:recent', points: 1, expire: Date.now() - 60_000 })
        .execute();
      expect(await store.prune()).toBe(0);
      await stale();
      const fresh = new RateLimiter({
        store,
        prefix: 'prune',
        limiters: { p: { points: 1, duration: 60 } },
      });
      await fresh.attempt('p', 'k');
      // The prune runs after the hit without being awaited: poll for its result.
      for (let i = 0; i < 100 && (await left()) > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(await left()).toBe(0);
    });
  });
});
