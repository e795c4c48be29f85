import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { requireRedisServer, usePrivateRedis } from '../../../test/support/redis-server.js';
import { isKeelError } from '../../support/index.js';
import { LockManager } from '../lock-manager.js';
import { RedisLockStore } from './redis-lock-store.js';

// A private redis-server (its own port, no persistence): these tests kill it, which the
// machine's shared Redis must never suffer.
describe.runIf(requireRedisServer())('redis lock store during a Redis outage', () => {
  const redis = usePrivateRedis();
  const stores: RedisLockStore[] = [];

  afterEach(async () => {
    redis().resume();
    for (const store of stores.splice(0)) await store.close();
    if (!redis().running) await redis().restart();
  });

  /** A store under a prefix of its own (the server outlives each test unless killed). */
  async function connect(
    errors: Error[] = [],
    options: { commandTimeoutMs?: number } = {},
  ): Promise<RedisLockStore> {
    const store = await RedisLockStore.connect({
      url: redis().url,
      prefix: `locks:${randomUUID()}:`,
      onError: (error) => errors.push(error),
      ...options,
    });
    stores.push(store);
    return store;
  }

  /** The rejection of `promise`, which must be E_LOCK_STORE_UNAVAILABLE with a cause. */
  async function unavailable(promise: Promise<unknown>): Promise<Error> {
    const error = await promise.then(
      () => expect.fail('expected E_LOCK_STORE_UNAVAILABLE'),
      (e: unknown) => e,
    );
    expect(isKeelError(error, 'E_LOCK_STORE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/^The redis lock store is unavailable: /);
    expect((error as Error).cause).toBeInstanceOf(Error);
    return error as Error;
  }

  it('connects on first use, and the first call waits for the connection', async () => {
    const store = await connect();
    expect(store.client.status).toBe('wait');
    expect(await store.acquire('a', 'o1', 10_000)).toBe(1);
    expect(await store.owner('a')).toBe('o1');
    expect(await store.release('a', 'o1')).toBe(true);
  });

  it('fails every call with E_LOCK_STORE_UNAVAILABLE once Redis is killed', async () => {
    const store = await connect();
    expect(await store.acquire('a', 'o1', 10_000)).toBe(1);
    await redis().kill();

    await unavailable(store.acquire('b', 'o1', 10_000));
    await unavailable(store.release('a', 'o1'));
    await unavailable(store.extend('a', 'o1', 10_000));
    await unavailable(store.owner('a'));
    await unavailable(store.forceRelease('a'));
    // run() gets no lease, so the callback never runs.
    let ran = false;
    await unavailable(
      new LockManager({ store }).lock('job', 10_000).run(() => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
  });

  it('recovers by itself when Redis returns on the same port', async () => {
    const store = await connect();
    expect(await store.acquire('a', 'o1', 10_000)).toBe(1);
    await redis().kill();
    await unavailable(store.acquire('a', 'o2', 10_000));

    await redis().restart();
    let token: number | null = null;
    for (let attempt = 0; attempt < 200 && token === null; attempt++) {
      try {
        token = await store.acquire('a', 'o2', 10_000);
      } catch (error) {
        if (!isKeelError(error, 'E_LOCK_STORE_UNAVAILABLE')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    // The restarted server is empty (no persistence): the lease of o1 and the fencing
    // counter went with it, so tokens start again at 1.
    expect(token).toBe(1);
    expect(await store.owner('a')).toBe('o2');
    expect(await store.release('a', 'o2')).toBe(true);
  });

  it('fails the first call instead of waiting when Redis is down from the start', async () => {
    await redis().kill();
    const errors: Error[] = [];
    const store = await connect(errors);
    await unavailable(store.acquire('a', 'o1', 10_000));
    await unavailable(store.owner('a'));
    expect(errors.some((error) => (error as { code?: string }).code === 'ECONNREFUSED')).toBe(true);
  });

  it('fails a call with no reply after commandTimeoutMs (a hung server)', async () => {
    const store = await connect([], { commandTimeoutMs: 200 });
    expect(await store.acquire('a', 'o1', 10_000)).toBe(1);
    redis().pause();
    try {
      const error = await unavailable(store.extend('a', 'o1', 10_000));
      expect(error.message).toContain('no reply within the command timeout');
    } finally {
      redis().resume();
    }
    expect(await store.owner('a')).toBe('o1');
  });

  it('closes without hanging while Redis is down', async () => {
    const store = await RedisLockStore.connect({ url: redis().url, prefix: `${randomUUID()}:` });
    expect(await store.acquire('a', 'o1', 10_000)).toBe(1);
    await redis().kill();
    await store.close();
    await unavailable(store.owner('a'));
  });
});
