import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../../test/support/services.js';
import { Cache } from './cache.js';
import type { CacheStore } from './store.js';
import { MemoryStore } from './stores/memory-store.js';
import type { RedisStore } from './stores/redis-store.js';
import { PATTERN_SLOTS } from './tag-index.js';

/** A memory store whose every answer is a promise, as a remote store's is. */
function asyncStore(inner = new MemoryStore()): CacheStore {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    async (...args: A): Promise<Awaited<R>> =>
      await fn(...args);
  return {
    driver: 'async-memory',
    get: wrap((k: string) => inner.get(k)),
    getEntry: wrap((k: string) => inner.getEntry(k)),
    getMany: wrap((k: readonly string[]) => inner.getMany(k)),
    set: wrap((k: string, v: unknown, t: number | undefined) => inner.set(k, v, t)),
    setMany: wrap((e: ReadonlyArray<readonly [string, unknown]>, t: number | undefined) =>
      inner.setMany(e, t),
    ),
    add: wrap((k: string, v: unknown, t: number | undefined) => inner.add(k, v, t)),
    delete: wrap((k: string) => inner.delete(k)),
    increment: wrap((k: string, by: number) => inner.increment(k, by)),
    flush: wrap((p: string) => inner.flush(p)),
  };
}

const stores = {
  memory: () => new MemoryStore(),
  'async store': () => asyncStore(),
};

for (const [name, makeStore] of Object.entries(stores)) {
  describe(`tags (${name})`, () => {
    it('invalidates the entries of a tag and leaves the others', async () => {
      const cache = new Cache({ store: makeStore(), prefix: 't:' });
      await cache.set('a', 1, { tags: ['catalog:products'] });
      await cache.set('b', 2, { tags: ['catalog:categories'] });
      await cache.set('c', 3);
      await cache.invalidateTags(['catalog:products']);
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.get('b')).toBe(2);
      expect(await cache.get('c')).toBe(3);
      expect(await cache.has('a')).toBe(false);
    });

    it('is hierarchical: a parent tag reaches every tag below it, not its siblings', async () => {
      const cache = new Cache({ store: makeStore() });
      await cache.set('p42', 'chair', { tags: ['catalog:products:42'] });
      await cache.set('p43', 'desk', { tags: ['catalog:products:43'] });
      await cache.set('cat', 'chairs', { tags: ['catalog:categories:7'] });
      await cache.invalidateTags(['catalog:products:42']);
      expect(await cache.get('p42')).toBeUndefined();
      expect(await cache.get('p43')).toBe('desk');
      await cache.invalidateTags(['catalog:products']);
      expect(await cache.get('p43')).toBeUndefined();
      expect(await cache.get('cat')).toBe('chairs');
      await cache.invalidateTags(['catalog']);
      expect(await cache.get('cat')).toBeUndefined();
    });

    it('invalidates by wildcard, one segment per "*", and below the match', async () => {
      const cache = new Cache({ store: makeStore() });
      await cache.set('t1', 1, { tags: ['tenant:1:products'] });
      await cache.set('t2', 2, { tags: ['tenant:2:products:9'] });
      await cache.set('t1o', 3, { tags: ['tenant:1:orders'] });
      await cache.set('other', 4, { tags: ['products'] });
      await cache.invalidateTags(['tenant:*:products']);
      expect(await cache.get('t1')).toBeUndefined();
      expect(await cache.get('t2')).toBeUndefined();
      expect(await cache.get('t1o')).toBe(3);
      expect(await cache.get('other')).toBe(4);
      // Entries written after a wildcard invalidation are fresh.
      await cache.set('t1', 5, { tags: ['tenant:1:products'] });
      expect(await cache.get('t1')).toBe(5);
    });

    it('treats entries more wildcards behind than the ring holds as invalidated', async () => {
      const cache = new Cache({ store: makeStore() });
      await cache.set('old', 1, { tags: ['x:y'] });
      for (let i = 0; i <= PATTERN_SLOTS; i++) await cache.invalidateTags([`z:*:${i}`]);
      expect(await cache.get('old')).toBeUndefined();
    });

    it('tags remember() values, and a value computed during an invalidation reads as stale', async () => {
      const cache = new Cache({ store: makeStore() });
      let calls = 0;
      const load = async () => ++calls;
      expect(await cache.remember('k', { ttl: 60, tags: ['t'] }, load)).toBe(1);
      expect(await cache.remember('k', { ttl: 60, tags: ['t'] }, load)).toBe(1);
      await cache.invalidateTags(['t']);
      expect(await cache.remember('k', { ttl: 60, tags: ['t'] }, load)).toBe(2);

      // The factory runs while the tag is invalidated: the value it returns was read
      // before the invalidation, so the next read must not trust it.
      const racing = cache.remember('r', { tags: ['t'] }, async () => {
        await cache.invalidateTags(['t']);
        return 'computed-before';
      });
      expect(await racing).toBe('computed-before');
      expect(await cache.get('r')).toBeUndefined();
    });

    it('applies a tagged view to every write and invalidates its own tags', async () => {
      const cache = new Cache({ store: makeStore() });
      const products = cache.tags(['catalog:products']);
      await products.set('a', 1, '1m');
      await products.add('b', 2);
      await products.setMany({ c: 3 }, { ttl: 60, tags: ['extra'] });
      expect(await products.remember('d', undefined, () => 4)).toBe(4);
      expect(await cache.many(['a', 'b', 'c', 'd'])).toEqual({ a: 1, b: 2, c: 3, d: 4 });
      await products.invalidate();
      expect(await cache.many(['a', 'b', 'c', 'd'])).toEqual({
        a: undefined,
        b: undefined,
        c: undefined,
        d: undefined,
      });
      await cache.set('e', 5, { tags: ['extra'] });
      await cache.invalidateTags(['extra']);
      expect(await cache.get('e')).toBeUndefined();
    });

    it('keeps namespaces’ tags apart', async () => {
      const cache = new Cache({ store: makeStore(), prefix: 'app:' });
      const a = cache.namespace('tenant:a');
      const b = cache.namespace('tenant:b');
      await a.set('k', 'a', { tags: ['products'] });
      await b.set('k', 'b', { tags: ['products'] });
      await a.invalidateTags(['products']);
      expect(await a.get('k')).toBeUndefined();
      expect(await b.get('k')).toBe('b');
    });
  });
}

describe('tag validation', () => {
  const cache = new Cache({ store: new MemoryStore() });

  it('refuses malformed tags with E_CACHE_INVALID_TAG', async () => {
    const bad: unknown[] = ['', 'a::b', ':a', 'a:', 'x'.repeat(201), 'a\u0000b', 'a\nb', 42, null];
    for (const tag of bad) {
      await expect(cache.set('k', 1, { tags: [tag as string] }), String(tag)).rejects.toMatchObject(
        { code: 'E_CACHE_INVALID_TAG' },
      );
      await expect(cache.invalidateTags([tag as string]), String(tag)).rejects.toMatchObject({
        code: 'E_CACHE_INVALID_TAG',
      });
    }
    await expect(
      cache.set('k', 1, { tags: 'catalog' as unknown as string[] }),
    ).rejects.toMatchObject({ code: 'E_CACHE_INVALID_TAG' });
  });

  it('allows wildcards only when invalidating, and only as whole segments', async () => {
    await expect(cache.set('k', 1, { tags: ['tenant:*'] })).rejects.toMatchObject({
      code: 'E_CACHE_INVALID_TAG',
    });
    await expect(cache.invalidateTags(['tenant:a*'])).rejects.toMatchObject({
      code: 'E_CACHE_INVALID_TAG',
    });
    await expect(cache.invalidateTags(['tenant:*'])).resolves.toBeUndefined();
  });

  it('refuses user keys that start with a control character (the index’s own keys)', async () => {
    await expect(cache.get('\u0001t:x')).rejects.toMatchObject({ code: 'E_CACHE_INVALID_KEY' });
    await expect(cache.set('\u0001p', 1)).rejects.toMatchObject({ code: 'E_CACHE_INVALID_KEY' });
  });
});

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

describe.runIf(hasRedis)('tags on Redis', () => {
  let store: RedisStore;
  const prefix = `keel-test:tags:${randomUUID()}:`;

  beforeAll(async () => {
    const { RedisStore } = await import('./stores/redis-store.js');
    store = await RedisStore.connect({ url: 'redis://127.0.0.1:6379' });
  });

  afterAll(async () => {
    if (!store) return;
    const keys = await store.client.keys(`${prefix}*`);
    if (keys.length > 0) await store.client.del(...keys);
    await store.close();
  });

  it('leaves no keys growing with invalidations: one counter per tag, entries overwritten', async () => {
    const cache = new Cache({ store, prefix });
    for (let i = 0; i < 500; i++) {
      const id = i % 10;
      await cache.remember(`product:${id}`, { ttl: 600, tags: [`catalog:products:${id}`] }, () => ({
        id,
        round: i,
      }));
      await cache.invalidateTags([i % 2 === 0 ? `catalog:products:${id}` : 'catalog:products']);
      if (i % 50 === 0) await cache.invalidateTags(['catalog:*:3']);
    }
    const keys = await store.client.keys(`${prefix}*`);
    // 10 entries, 10 product tags + catalog:products, the wildcard sequence and its
    // (at most 10 here) slots: bounded by what exists, not by how often it was invalidated.
    expect(keys.length).toBeLessThanOrEqual(10 + 11 + 1 + 10);
    const entry = await cache.remember(
      'product:1',
      { ttl: 600, tags: ['catalog:products:1'] },
      () => 'fresh',
    );
    expect(entry).toBe('fresh');
  });

  it('round-trips a tagged, graceful entry through Redis', async () => {
    const cache = new Cache({ store, prefix });
    const value = { at: new Date('2026-01-02T03:04:05Z'), n: [1, null] };
    await cache.set('rt', value, { ttl: 60, grace: 60, tags: ['a:b'] });
    expect(await cache.get('rt')).toEqual(value);
    await cache.invalidateTags(['a']);
    expect(await cache.get('rt')).toBeUndefined();
    // The invalidated entry is deleted on that read (in the background: poll, bounded).
    for (let i = 0; i < 100 && (await store.client.exists(`${prefix}rt`)) === 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await store.client.exists(`${prefix}rt`)).toBe(0);
  });
});
