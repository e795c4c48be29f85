import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { requireService } from '../../../../test/support/services.js';
import { idempotencyStoreContract } from '../idempotency-store.contract.js';
import { RedisIdempotencyStore } from './redis-idempotency-store.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

describe.runIf(hasRedis)('RedisIdempotencyStore', () => {
  const prefix = `keel:test:${randomBytes(5).toString('hex')}:`;

  idempotencyStoreContract('redis', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    return {
      store: new RedisIdempotencyStore({ client, prefix }),
      cleanup: async () => {
        await dropPrefix(client, prefix);
        await client.quit();
      },
    };
  });

  it('keeps one hash per key under the prefix, expiring with the retention', async () => {
    const own = `${prefix}own:`;
    const store = await RedisIdempotencyStore.connect({ prefix: own });
    const client = store.client;
    try {
      const now = Date.now();
      const token = randomUUID();
      const key = 'a'.repeat(64);
      const claim = { key, fingerprint: 'f'.repeat(64), token, now };
      expect(
        await store.claim({ ...claim, lockedUntil: now + 1000, expiresAt: now + 60_000 }),
      ).toEqual({
        kind: 'claimed',
      });
      expect(await client.keys(`${own}*`)).toEqual([`${own}${key}`]);
      const ttl = await client.pttl(`${own}${key}`);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      await store.complete(
        key,
        token,
        { status: 200, headers: {}, body: Buffer.from('ok') },
        now,
        now + 120_000,
      );
      expect(await client.pttl(`${own}${key}`)).toBeGreaterThan(110_000);
      expect(await store.prune(now + 500_000)).toBe(0);
    } finally {
      await dropPrefix(client, own);
      await store.close();
    }
    await expect(client.ping()).rejects.toThrow('Connection is closed');
  });

  it('fails with E_IDEMPOTENCY_STORE_UNAVAILABLE while Redis cannot be reached', async () => {
    const store = await RedisIdempotencyStore.connect({
      options: { host: '127.0.0.1', port: 1 },
      prefix,
    });
    try {
      const now = Date.now();
      await expect(
        store.claim({
          key: 'b'.repeat(64),
          fingerprint: 'f'.repeat(64),
          token: 't',
          now,
          lockedUntil: now + 1,
          expiresAt: now + 2,
        }),
      ).rejects.toMatchObject({ code: 'E_IDEMPOTENCY_STORE_UNAVAILABLE', status: 503 });
    } finally {
      await store.close();
    }
  });
});
