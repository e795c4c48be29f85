import { beforeEach, describe, expect, it, vi } from 'vitest';
import { requireRedisServer, usePrivateRedis } from '../../test/support/redis-server.js';
import type { CacheLogger } from './cache.js';
import { CacheManager } from './cache-manager.js';
import { resolveCacheConfig } from './config.js';
import type { TieredStore } from './stores/tiered-store.js';

/** Poll `read` until `done(value)` (bounded: 300 tries, 20 ms apart). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let last = await read();
  for (let i = 0; i < 300 && !done(last); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await read();
  }
  return last;
}

describe.runIf(requireRedisServer())(
  'a Redis outage under the cache (private redis-server)',
  () => {
    const redis = usePrivateRedis();
    // A server (re)started inside a test is reaped when that test ends: each test starts
    // from a running one.
    beforeEach(async () => {
      if (!redis().running) await redis().restart();
    });

    function manager(failOpen?: boolean) {
      const logger: CacheLogger = { warn: vi.fn() };
      const stores = { redis: { driver: 'redis' as const, url: redis().url } };
      const pools = {
        data: { store: 'tiered', ...(failOpen === undefined ? {} : { failOpen }) },
        plain: { store: 'redis' },
      };
      const m = new CacheManager({
        config: resolveCacheConfig({ prefix: 'outage', stores, pools }),
        root: '/tmp',
        logger,
      });
      return { m, logger };
    }

    it('keeps serving through the outage: L1 hits, factory values, skipped writes; recovers after', async () => {
      const { m, logger } = manager();
      try {
        const data = m.pool('data');
        const plain = m.pool('plain');
        await (data.store as TieredStore).ready();
        await data.set('held', 'from-l1', 600);
        await plain.set('remote', 'from-redis', 600);
        expect(await plain.get('remote')).toBe('from-redis');

        await redis().kill();

        // The tier answers what its L1 holds; nothing is thrown into the caller.
        expect(await data.get('held')).toBe('from-l1');
        expect(await data.remember('computed', 60, () => 'by-factory')).toBe('by-factory');
        await expect(data.set('written', 'lost', 60)).resolves.toBeUndefined();
        await expect(data.invalidateTags(['catalog'])).resolves.toBeUndefined();
        // The plain Redis pool has no L1: reads miss, remember computes, writes are skipped.
        expect(await plain.get('remote')).toBeUndefined();
        expect(await plain.get('remote', 'fallback')).toBe('fallback');
        expect(await plain.remember('r', 60, () => 'computed')).toBe('computed');
        await expect(plain.set('w', 1)).resolves.toBeUndefined();
        // Counters have nothing to make up: they throw.
        await expect(plain.increment('n')).rejects.toMatchObject({
          code: 'E_CACHE_STORE_UNAVAILABLE',
        });
        expect(data.stats.errors).toBeGreaterThan(0);
        expect(plain.stats.errors).toBeGreaterThan(0);
        expect(logger.warn).toHaveBeenCalled();

        await redis().restart(); // an empty server: the outage lost everything

        // The same stores reconnect by themselves.
        await until(
          async () => plain.set('back', 'yes', 60).then(() => plain.get('back')),
          (v) => v === 'yes',
        );
        expect(await plain.get('back')).toBe('yes');
        await data.set('after', 'ok', 60);
        expect(await data.get('after')).toBe('ok');
      } finally {
        await m.close();
      }
    });

    it('clears the L1 when the bus resubscribes after an outage, since messages were lost', async () => {
      const a = manager();
      const b = manager();
      try {
        const da = a.m.pool('data');
        const db = b.m.pool('data');
        await Promise.all([(da.store as TieredStore).ready(), (db.store as TieredStore).ready()]);
        await da.set('k', 'v1', 600);
        expect(await db.get('k')).toBe('v1');
        // A read that overlapped a's invalidation message does not fill L1; the next one does.
        const l1 = (db.store as TieredStore).l1;
        expect(
          await until(
            () => db.get('k').then(() => l1.get('outage:data:k')),
            (v) => v === 'v1',
          ),
        ).toBe('v1');

        await redis().kill();
        await redis().restart();

        // b could have missed a's invalidations while down: its whole L1 goes.
        expect(
          await until(
            async () => l1.get('outage:data:k'),
            (v) => v === undefined,
          ),
        ).toBe(undefined);

        // And the bus carries invalidations again: b's fresh L1 copy goes when a writes.
        // a's own clients reconnect on their own schedule, and a write they miss is skipped
        // (fail open): write until b reads it back, then until b's L1 copy is dropped.
        await until(
          async () => da.set('k', 'v2', 600).then(() => db.get('k')),
          (v) => v === 'v2',
        );
        expect(
          await until(
            () => db.get('k').then(() => l1.get('outage:data:k')),
            (v) => v === 'v2',
          ),
        ).toBe('v2');
        expect(
          await until(
            async () => da.set('k', 'v3', 600).then(() => l1.get('outage:data:k')),
            (v) => v === undefined,
          ),
        ).toBe(undefined);
        expect(await db.get('k')).toBe('v3');
      } finally {
        await Promise.all([a.m.close(), b.m.close()]);
      }
    });

    it('throws E_CACHE_STORE_UNAVAILABLE from a pool configured to fail closed', async () => {
      const { m } = manager(false);
      try {
        const data = m.pool('data');
        await data.set('k', 1, 60);
        await data.set('held', 'h', 60);
        await redis().kill();
        await expect(data.get('missing')).rejects.toMatchObject({
          code: 'E_CACHE_STORE_UNAVAILABLE',
        });
        await expect(data.set('k', 2, 60)).rejects.toMatchObject({
          code: 'E_CACHE_STORE_UNAVAILABLE',
        });
        // What L1 holds is still a hit: failing closed concerns the store, not the tier
        // (the failed write above dropped 'k' from L1, so it is not one).
        expect(await data.get('held')).toBe('h');
        await expect(data.get('k')).rejects.toMatchObject({ code: 'E_CACHE_STORE_UNAVAILABLE' });
      } finally {
        await m.close();
      }
    });
  },
);
