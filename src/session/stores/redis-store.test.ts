import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { requireService } from '../../../test/support/services.js';
import { generateSessionId, sessionHandle } from '../session-id.js';
import type { SessionRecord } from '../session-record.js';
import { CONTRACT_LIFETIME, runSessionStoreContract } from '../session-store.contract.js';
import { RedisSessionStore } from './redis-store.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
}

async function dumpPrefix(client: Redis, prefix: string): Promise<string> {
  const keys = await client.keys(`${prefix}*`);
  const values = await Promise.all(
    keys.map(async (key) => {
      const type = await client.type(key);
      if (type === 'string') return client.get(key);
      if (type === 'set') return client.smembers(key);
      return client.zrange(key, 0, -1);
    }),
  );
  return JSON.stringify({ keys, values });
}

const record = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  data: {},
  flash: { new: [], old: [] },
  userId: 'u1',
  ip: null,
  userAgent: null,
  createdAt: Date.now(),
  lastActivity: Date.now(),
  ...overrides,
});

describe.runIf(hasRedis)('redis session store', () => {
  runSessionStoreContract('redis', { serverSide: true }, async (lifetime) => {
    const prefix = `keel_t_${randomBytes(4).toString('hex')}:`;
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await client.connect();
    return {
      store: new RedisSessionStore({ client, prefix, lifetime }),
      dump: () => dumpPrefix(client, prefix),
      cleanup: async () => {
        await dropPrefix(client, prefix);
        await client.quit();
      },
    };
  });

  it('gives each session a TTL of the time it has left, and indexes the user', async () => {
    const prefix = `keel_t_${randomBytes(4).toString('hex')}:`;
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    await client.connect();
    try {
      const store = new RedisSessionStore({ client, prefix, lifetime: CONTRACT_LIFETIME });
      const id = generateSessionId();
      const now = Date.now();
      // Ten minutes of absolute lifetime left: the TTL follows it, not the idle hour.
      await store.write(
        id,
        record({ createdAt: now - CONTRACT_LIFETIME.absoluteMs + 600_000, lastActivity: now }),
      );
      const ttl = await client.pttl(`${prefix}s:${sessionHandle(id)}`);
      expect(ttl).toBeGreaterThan(590_000);
      expect(ttl).toBeLessThanOrEqual(600_000);
      expect(await client.smembers(`${prefix}u:u1`)).toEqual([sessionHandle(id)]);
      // Already past its absolute deadline: written as a delete.
      await store.write(id, record({ createdAt: now - CONTRACT_LIFETIME.absoluteMs - 1 }));
      expect(await client.exists(`${prefix}s:${sessionHandle(id)}`)).toBe(0);
      // A value that is not a session record reads as none.
      const other = generateSessionId();
      await client.set(`${prefix}s:${sessionHandle(other)}`, '{"data":1}');
      expect(await store.read(other)).toBeUndefined();
    } finally {
      await dropPrefix(client, prefix);
      await client.quit();
    }
  });
});
