import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireRedisServer, usePrivateRedis } from '../../../test/support/redis-server.js';
import { isKeelError } from '../../support/index.js';
import { RedisStore } from './redis-store.js';

// A private redis-server (its own port, no persistence): these tests kill it, which the
// machine's shared Redis must never suffer.
describe.runIf(requireRedisServer())('redis cache store during a Redis outage', () => {
  const redis = usePrivateRedis();
  const stores: RedisStore[] = [];

  afterEach(async () => {
    redis().resume();
    for (const store of stores.splice(0)) await store.close();
    if (!redis().running) await redis().restart();
  });

  async function connect(errors: Error[] = []): Promise<RedisStore> {
    const store = await RedisStore.connect({
      url: redis().url,
      onError: (error) => errors.push(error),
    });
    stores.push(store);
    return store;
  }

  /** The rejection of `promise`, which must be E_CACHE_STORE_UNAVAILABLE with a cause. */
  async function unavailable(promise: Promise<unknown>): Promise<Error> {
    const error = await promise.then(
      () => expect.fail('expected E_CACHE_STORE_UNAVAILABLE'),
      (e: unknown) => e,
    );
    expect(isKeelError(error, 'E_CACHE_STORE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/^The redis cache store is unavailable: /);
    expect((error as Error).cause).toBeInstanceOf(Error);
    return error as Error;
  }

  /** Poll (bounded) until the store answers again. */
  async function recovered(store: RedisStore): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        await store.set('probe', 1, undefined);
        return;
      } catch (error) {
        if (!isKeelError(error, 'E_CACHE_STORE_UNAVAILABLE')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect.fail('the store did not recover after Redis came back');
  }

  it('works right after connect(), without waiting for the connection', async () => {
    const store = await connect();
    // The very first command: no "Stream isn't writeable" race with the handshake.
    await store.set('a', { n: 1 }, 60_000);
    expect(await store.get('a')).toEqual({ n: 1 });
    expect(await store.getMany(['a', 'b'])).toEqual([{ n: 1 }, undefined]);
    expect(await store.increment('n', 2)).toBe(2);
    expect(await store.delete('a')).toBe(true);
  });

  it('fails every operation fast with E_CACHE_STORE_UNAVAILABLE once Redis is killed', async () => {
    const errors: Error[] = [];
    const store = await connect(errors);
    await store.set('a', 1, undefined);
    await redis().kill();

    await unavailable(store.get('a'));
    await unavailable(store.getEntry('a'));
    await unavailable(store.getMany(['a', 'b']));
    await unavailable(store.set('a', 2, 1000));
    await unavailable(store.setMany([['a', 2]], undefined));
    await unavailable(store.add('b', 1, undefined));
    await unavailable(store.delete('a'));
    await unavailable(store.increment('n', 1));
    await unavailable(store.flush('kt_'));
    // Hundreds of calls while down: each rejected, none queued for later.
    const calls = Array.from({ length: 200 }, (_, i) => store.get(`k${i}`).catch((e) => e));
    for (const error of await Promise.all(calls))
      expect(isKeelError(error, 'E_CACHE_STORE_UNAVAILABLE')).toBe(true);
    // The failed reconnection attempts reach onError.
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 10_000 });
  });

  it('recovers by itself when Redis returns on the same port', async () => {
    const store = await connect();
    await store.set('a', 1, undefined);
    await redis().kill();
    await unavailable(store.get('a'));

    await redis().restart();
    await recovered(store);
    // The restarted server is empty (no persistence): the same store reads and writes it.
    expect(await store.get('a')).toBeUndefined();
    await store.set('a', 'back', 60_000);
    expect(await store.get('a')).toBe('back');
    expect(await store.increment('n', 5)).toBe(5);
  });

  it('rejects a command in flight when the connection drops, without replaying it', async () => {
    const store = await connect();
    await store.set('a', 1, undefined);
    // Stopped, the server accepts the command into its socket but never answers it.
    redis().pause();
    const pending = unavailable(store.set('late', 1, undefined));
    await redis().kill();
    await pending;
    await redis().restart();
    await recovered(store);
    expect(await store.get('late')).toBeUndefined();
  });

  it('fails a command with no reply after commandTimeoutMs (a hung server)', async () => {
    const store = await RedisStore.connect({ url: redis().url, commandTimeoutMs: 200 });
    stores.push(store);
    await store.set('a', 1, undefined);
    redis().pause();
    try {
      const error = await unavailable(store.get('a'));
      expect(error.message).toContain('no reply within the command timeout');
    } finally {
      redis().resume();
    }
    expect(await store.get('a')).toBe(1);
  });

  it('starts while Redis is down, fails fast, and works once it is up', async () => {
    await redis().kill();
    const errors: Error[] = [];
    const store = await connect(errors);
    await unavailable(store.get('a'));
    await unavailable(store.set('a', 1, undefined));
    expect(errors.some((error) => (error as { code?: string }).code === 'ECONNREFUSED')).toBe(true);
    await redis().restart();
    await recovered(store);
    expect(await store.get('probe')).toBe(1);
  });

  it('closes without hanging while Redis is down, and stops reconnecting', async () => {
    // Reconnection every 10 ms, so that a loop surviving close() would show at once.
    const store = await RedisStore.connect({
      url: redis().url,
      options: { retryStrategy: () => 10 },
    });
    await redis().kill();
    await unavailable(store.get('a'));
    await store.close();
    let attempts = 0;
    store.client.on('connecting', () => attempts++);
    await redis().restart();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(attempts).toBe(0);
    expect(store.client.status).not.toBe('ready');
    await unavailable(store.get('a'));
  });

  it('keeps errors about the command itself, and a broken onError does not crash', async () => {
    const store = await RedisStore.connect({
      url: redis().url,
      onError: () => {
        throw new Error('logger down');
      },
    });
    stores.push(store);
    await store.client.hset('hash', 'f', 'v');
    await expect(store.get('hash')).rejects.toThrow(/WRONGTYPE/);
    await store.set('text', 'abc', undefined);
    await expect(store.increment('text', 1)).rejects.toMatchObject({
      code: 'E_CACHE_NOT_A_NUMBER',
    });
    await redis().kill();
    await unavailable(store.get('a'));
  });

  it("listens to a caller's client only with onError, and leaves it open on close", async () => {
    const client = new Redis(redis().url, { lazyConnect: true });
    await client.connect();
    try {
      const before = client.listenerCount('error');
      const store = await RedisStore.connect({ client, onError: () => {} });
      expect(client.listenerCount('error')).toBe(before + 1);
      expect(await store.add('a', 1, undefined)).toBe(true);
      await store.close();
      expect(client.listenerCount('error')).toBe(before);
      expect(await client.get('a')).toBe('1');
    } finally {
      client.disconnect();
    }
  });
});
