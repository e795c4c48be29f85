import { describe, expect, it, vi } from 'vitest';
import { Cache, type CacheLogger } from './cache.js';
import { E_CACHE_STORE_UNAVAILABLE } from './errors.js';
import type { CacheStore } from './store.js';
import { MemoryStore } from './stores/memory-store.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A clock the tests move, shared by the cache (grace) and the store (expiry). */
function clock(start = 1_000_000) {
  const c = { now: start, read: () => c.now };
  return c;
}

describe('grace periods', () => {
  it('serves the stale value to others while one caller refreshes it', async () => {
    const time = clock();
    const cache = new Cache({ store: new MemoryStore({ now: time.read }), now: time.read });
    const options = { ttl: 60, grace: '1h' };
    expect(await cache.remember('k', options, () => 'v1')).toBe('v1');
    time.now += 61_000; // past the TTL, inside the grace
    const refresh = deferred<string>();
    let calls = 0;
    const factory = () => {
      calls++;
      return refresh.promise;
    };
    const refresher = cache.remember('k', options, factory);
    const others = await Promise.all([1, 2, 3].map(() => cache.remember('k', options, factory)));
    expect(others).toEqual(['v1', 'v1', 'v1']);
    refresh.resolve('v2');
    expect(await refresher).toBe('v2');
    expect(calls).toBe(1);
    expect(await cache.remember('k', options, factory)).toBe('v2');
    expect(cache.stats.stale).toBe(3);
  });

  it('answers with the stale value when the refresh throws, and keeps it', async () => {
    const time = clock();
    const logger: CacheLogger = { warn: vi.fn() };
    const cache = new Cache({
      store: new MemoryStore({ now: time.read }),
      now: time.read,
      logger,
    });
    await cache.remember('k', { ttl: 10, grace: 60 }, () => 'old');
    time.now += 11_000;
    const value = await cache.remember('k', { ttl: 10, grace: 60 }, () => {
      throw new Error('upstream down');
    });
    expect(value).toBe('old');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    // Past TTL + grace the entry is gone and a failure reaches the caller.
    time.now += 60_000;
    await expect(
      cache.remember('k', { ttl: 10, grace: 60 }, () => {
        throw new Error('upstream down');
      }),
    ).rejects.toThrow('upstream down');
  });

  it('answers with the stale value when the refresh outlasts the timeout; the refresh still lands', async () => {
    vi.useFakeTimers();
    try {
      const time = clock();
      const cache = new Cache({ store: new MemoryStore({ now: time.read }), now: time.read });
      const options = { ttl: 10, grace: 600, timeout: '200ms' };
      await cache.remember('k', options, () => 'old');
      time.now += 11_000;
      const slow = deferred<string>();
      const answer = cache.remember('k', options, () => slow.promise);
      await vi.advanceTimersByTimeAsync(200);
      expect(await answer).toBe('old');
      slow.resolve('new');
      await vi.advanceTimersByTimeAsync(0);
      expect(await cache.get('k')).toBe('new');
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not serve stale values from get(): past the TTL is a miss there', async () => {
    const time = clock();
    const cache = new Cache({ store: new MemoryStore({ now: time.read }), now: time.read });
    await cache.set('k', 'v', { ttl: 10, grace: 60 });
    expect(await cache.get('k')).toBe('v');
    time.now += 11_000;
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('k', 'fallback')).toBe('fallback');
  });

  it('refuses a grace or timeout that is not a positive duration', async () => {
    const cache = new Cache({ store: new MemoryStore() });
    await expect(cache.set('k', 1, { ttl: 10, grace: 0 })).rejects.toMatchObject({
      code: 'E_CACHE_INVALID_TTL',
    });
    await expect(
      cache.remember('k', { ttl: 10, hardTimeout: 'soon' }, () => 1),
    ).rejects.toMatchObject({ code: 'E_CACHE_INVALID_TTL' });
  });
});

describe('hard timeouts', () => {
  it('rejects with E_CACHE_FACTORY_TIMEOUT when there is no stale value; the value still lands', async () => {
    vi.useFakeTimers();
    try {
      const cache = new Cache({ store: new MemoryStore(), prefix: 'p:' });
      const slow = deferred<string>();
      const answer = cache.remember('k', { ttl: 60, hardTimeout: 1 }, () => slow.promise);
      const joined = cache.remember('k', { ttl: 60 }, () => 'never called');
      const caught = answer.catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(1000);
      expect(await caught).toMatchObject({
        code: 'E_CACHE_FACTORY_TIMEOUT',
        details: { key: 'k', timeoutMs: 1000 },
      });
      slow.resolve('late');
      // A caller without a hard timeout waits for the flight.
      expect(await joined).toBe('late');
      expect(await cache.get('k')).toBe('late');
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A store whose every call fails as an unreachable Redis does. */
function downStore(): CacheStore {
  const fail = async (): Promise<never> => {
    throw new E_CACHE_STORE_UNAVAILABLE('redis', 'connect ECONNREFUSED 127.0.0.1:1');
  };
  return {
    driver: 'redis',
    get: fail,
    getEntry: fail,
    getMany: fail,
    set: fail,
    setMany: fail,
    add: fail,
    delete: fail,
    increment: fail,
    flush: fail,
  };
}

describe('store outages', () => {
  it('fails open by default: reads miss, writes are skipped, remember computes, all counted and logged once', async () => {
    const logger: CacheLogger = { warn: vi.fn() };
    const cache = new Cache({ store: downStore(), logger, pool: 'data' });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('k', 'fallback')).toBe('fallback');
    expect(await cache.has('k')).toBe(false);
    await expect(cache.set('k', 1)).resolves.toBeUndefined();
    await expect(cache.set('t', 1, { tags: ['a'] })).resolves.toBeUndefined();
    await expect(cache.invalidateTags(['a'])).resolves.toBeUndefined();
    expect(await cache.add('k', 1)).toBe(false);
    expect(await cache.delete('k')).toBe(false);
    expect(await cache.many(['a', 'b'])).toEqual({ a: undefined, b: undefined });
    await expect(cache.setMany({ a: 1 })).resolves.toBeUndefined();
    expect(await cache.remember('k', 60, () => 'computed')).toBe('computed');
    expect(await cache.pull('k')).toBeUndefined();
    // Counters have no value to make up, and a flush must not silently do nothing.
    await expect(cache.increment('n')).rejects.toMatchObject({ code: 'E_CACHE_STORE_UNAVAILABLE' });
    await expect(cache.flush()).rejects.toMatchObject({ code: 'E_CACHE_STORE_UNAVAILABLE' });
    expect(cache.stats.errors).toBeGreaterThanOrEqual(10);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(vi.mocked(logger.warn).mock.calls[0]?.[0]).toMatchObject({ pool: 'data' });
  });

  it('throws when configured to fail closed, still counting', async () => {
    const cache = new Cache({ store: downStore(), failOpen: false });
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_CACHE_STORE_UNAVAILABLE' });
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'E_CACHE_STORE_UNAVAILABLE' });
    await expect(cache.remember('k', 1, () => 1)).rejects.toMatchObject({
      code: 'E_CACHE_STORE_UNAVAILABLE',
    });
    expect(cache.stats.errors).toBe(3);
  });

  it('never swallows a caller’s mistake as an outage', async () => {
    const cache = new Cache({ store: downStore() });
    await expect(cache.get('')).rejects.toMatchObject({ code: 'E_CACHE_INVALID_KEY' });
    await expect(cache.set('k', undefined)).rejects.toMatchObject({
      code: 'E_CACHE_INVALID_VALUE',
    });
  });
});

describe('statistics', () => {
  it('counts hits, misses, writes, deletes and factory calls per pool, namespaces included', async () => {
    const cache = new Cache({ store: new MemoryStore({ maxEntries: 2 }), pool: 'data' });
    await cache.set('a', 1);
    await cache.get('a');
    await cache.get('missing');
    await cache.remember('r', 60, () => 'x');
    await cache.remember('r', 60, () => 'x');
    await cache.namespace('ns').set('b', 2); // evicts 'a', the least recently used
    expect(await cache.delete('r')).toBe(true);
    const s = cache.stats.snapshot();
    expect(s).toMatchObject({
      pool: 'data',
      store: 'memory',
      hits: 2,
      misses: 2,
      writes: 3,
      deletes: 1,
      factoryCalls: 1,
    });
    // maxEntries 2: the third distinct key evicted the least recently used one.
    expect(s.evictions).toBe(1);
    expect(s.latency.count).toBe(0); // memory reads are not round trips
  });
});
