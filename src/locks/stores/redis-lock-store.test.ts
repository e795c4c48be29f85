import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { requireService } from '../../../test/support/services.js';
import { lockStoreContract } from '../lock-store.contract.js';
import { RedisLockStore } from './redis-lock-store.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

/** Delete every key under `prefix` (this run's namespace). */
export async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

describe.runIf(hasRedis)('RedisLockStore', () => {
  const prefix = `keel:test:${randomBytes(5).toString('hex')}:`;

  lockStoreContract('redis', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    return {
      store: new RedisLockStore({ client, prefix }),
      cleanup: async () => {
        await dropPrefix(client, prefix);
        await client.quit();
      },
    };
  });

  it('keeps the fencing counter in its own key, without expiry, under the prefix', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    const own = `${prefix}keys:`;
    const store = new RedisLockStore({ client, prefix: own, ownsClient: true });
    try {
      expect(await store.acquire('a', 'o1', 10_000)).toBe(1);
      expect((await client.keys(`${own}*`)).sort()).toEqual([`${own}fence:a`, `${own}lock:a`]);
      expect(await client.pttl(`${own}fence:a`)).toBe(-1);
      expect(await client.pttl(`${own}lock:a`)).toBeGreaterThan(0);
      expect(await store.release('a', 'o1')).toBe(true);
      expect(await client.keys(`${own}*`)).toEqual([`${own}fence:a`]);
    } finally {
      await dropPrefix(client, own);
      await store.close();
    }
    // ownsClient: close() quit the connection.
    await expect(client.ping()).rejects.toThrow('Connection is closed');
  });
});
