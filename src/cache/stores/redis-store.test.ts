import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { requireService } from '../../../test/support/services.js';
import { isKeelError } from '../../support/index.js';
import { Cache } from '../cache.js';
import { runCacheStoreContract } from '../cache-store.contract.js';
import { RedisStore } from './redis-store.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

/** Delete every key under `prefix` (the test's own namespace). */
async function drop(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

describe.runIf(hasRedis)('redis cache store', () => {
  // Every key the contract writes starts with `kt_`; a sentinel outside proves flush scoping.
  const sentinel = `keel_sentinel_${randomBytes(4).toString('hex')}`;

  runCacheStoreContract('redis', async ({ maxValueBytes }) => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await client.connect();
    await client.set(sentinel, 'keep');
    const store = new RedisStore(client, { maxValueBytes });
    return {
      store,
      serverClock: true,
      cleanup: async () => {
        expect(await client.get(sentinel)).toBe('keep');
        await client.del(sentinel);
        await drop(client, 'kt_');
        await client.quit();
      },
    };
  });

  it('refuses to flush without a prefix (never FLUSHDB)', async () => {
    const store = await RedisStore.connect({ url: 'redis://127.0.0.1:6379' });
    try {
      const cache = new Cache({ store });
      await cache.flush().then(
        () => expect.fail('flush without a prefix must throw'),
        (error: unknown) => expect(isKeelError(error, 'E_CACHE_UNSCOPED_FLUSH')).toBe(true),
      );
    } finally {
      await store.close();
    }
  });

  it('flushes a prefix holding more keys than one SCAN batch', async () => {
    const prefix = `kt_${randomBytes(4).toString('hex')}:`;
    const client = new Redis({ host: '127.0.0.1', port: 6379 });
    try {
      const store = new RedisStore(client, { scanCount: 50 });
      const cache = new Cache({ store, prefix });
      await cache.setMany(Array.from({ length: 300 }, (_, i) => [`k${i}`, i] as const));
      expect(await client.keys(`${prefix}*`)).toHaveLength(300);
      await cache.flush();
      expect(await client.keys(`${prefix}*`)).toHaveLength(0);
    } finally {
      await drop(client, prefix);
      await client.quit();
    }
  });
});
