import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { EventBus } from '../events/index.js';
import { isKeelError } from '../support/index.js';
import { Cache, type CacheEventSink, ttlMs } from './cache.js';
import type { CacheEventPayload } from './cache-events.js';
import { CacheManager } from './cache-manager.js';
import { argumentsKey, cached } from './cached.js';
import { resolveCacheConfig } from './config.js';
import { deserialize, serialize } from './serializer.js';
import { MemoryStore } from './stores/memory-store.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isKeelError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('TTLs', () => {
  it('reads numbers as seconds and strings as durations', () => {
    expect(ttlMs(30)).toBe(30_000);
    expect(ttlMs(0.05)).toBe(50);
    expect(ttlMs('10m')).toBe(600_000);
    expect(ttlMs('1h30m')).toBe(5_400_000);
    expect(ttlMs('45')).toBe(45_000);
    expect(ttlMs(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('refuses bad TTLs with E_CACHE_INVALID_TTL', () => {
    for (const bad of [-1, Number.NaN, '10 parsecs', '', 'm', {} as unknown as string])
      expect(
        codeOf(() => ttlMs(bad)),
        String(bad),
      ).toBe('E_CACHE_INVALID_TTL');
  });

  it('applies the default TTL to writes that give none', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const cache = new Cache({ store, prefix: 'p:', defaultTtl: '1m' });
    await cache.set('k', 1);
    expect(store.getEntry('p:k')?.expiresAt).toBe(now + 60_000);
    now += 60_000;
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('Cache', () => {
  it('types get and remember by their arguments', () => {
    const cache = new Cache({ store: new MemoryStore() });
    expectTypeOf(cache.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(cache.get('k', 'x')).toEqualTypeOf<Promise<string>>();
    expectTypeOf(cache.remember('k', 1, () => 42)).toEqualTypeOf<Promise<number>>();
  });

  it('keeps namespaces apart and nests them', async () => {
    const store = new MemoryStore();
    const cache = new Cache({ store, prefix: 'app:' });
    const t1 = cache.namespace('tenant:1');
    const t2 = cache.namespace('tenant:2');
    await t1.set('name', 'one');
    await t2.set('name', 'two');
    expect(t1.prefix).toBe('app:tenant:1:');
    expect(store.get('app:tenant:1:name')).toBe('one');
    await t1.namespace('users').set('u', 1);
    await t1.flush();
    expect(await t1.get('name')).toBeUndefined();
    expect(await t1.namespace('users').get('u')).toBeUndefined();
    expect(await t2.get('name')).toBe('two');
  });

  it('emits no event and builds no payload when nobody listens', async () => {
    const sink: CacheEventSink = { hasListeners: vi.fn(() => false), emit: vi.fn() };
    const cache = new Cache({ store: new MemoryStore(), events: sink });
    await cache.set('k', 1);
    await cache.get('k');
    await cache.get('missing');
    expect(sink.emit).not.toHaveBeenCalled();
  });

  it('emits hit, miss, written and deleted on the event bus', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    for (const event of ['cache.hit', 'cache.miss', 'cache.written', 'cache.deleted'] as const)
      bus.on(event, (payload: CacheEventPayload) => {
        seen.push(`${event}:${payload.pool}:${payload.key}`);
      });
    const cache = new Cache({ store: new MemoryStore(), events: bus, pool: 'data', prefix: 'x:' });
    await cache.set('a', 1);
    await cache.get('a');
    await cache.get('b');
    await cache.remember('c', 60, () => 3);
    await cache.remember('c', 60, () => 3);
    await cache.delete('a');
    await cache.delete('a');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([
      'cache.written:data:a',
      'cache.hit:data:a',
      'cache.miss:data:b',
      'cache.miss:data:c',
      'cache.written:data:c',
      'cache.hit:data:c',
      'cache.deleted:data:a',
    ]);
  });

  it('runs a missing value through the remember guard, which may answer from a recheck', async () => {
    const store = new MemoryStore();
    const calls: string[] = [];
    const cache = new Cache({
      store,
      guard: async (key, compute, recheck) => {
        calls.push(key);
        if (key === 'warm') {
          store.set('warm', 'from another process', undefined);
          return (await recheck()) as never;
        }
        return compute();
      },
    });
    expect(await cache.remember('cold', 60, () => 'computed')).toBe('computed');
    expect(await cache.remember('warm', 60, () => 'computed')).toBe('from another process');
    expect(await cache.remember('cold', 60, () => 'again')).toBe('computed');
    expect(calls).toEqual(['cold', 'warm']);
  });

  it('does not cache a factory result of undefined', async () => {
    const cache = new Cache({ store: new MemoryStore() });
    let calls = 0;
    const factory = (): undefined => {
      calls++;
      return undefined;
    };
    expect(await cache.remember('k', 60, factory)).toBeUndefined();
    await cache.remember('k', 60, factory);
    expect(calls).toBe(2);
  });
});

describe('serializer', () => {
  it('keeps plain numbers as plain JSON text (for INCRBY and SQL increments)', () => {
    expect(serialize('k', 42)).toBe('42');
    expect(serialize('k', 'a"b')).toBe('"a\\"b"');
    expect(serialize('k', null)).toBe('null');
  });

  it('does not mistake user data for a tag, nor pollute prototypes', () => {
    const value = { $t: 'D', v: 1, $$t: 'u', nested: [{ $t: 'M', v: [] }] };
    expect(deserialize(serialize('k', value))).toEqual(value);
    const hostile = deserialize('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
  });

  it('refuses cycles, functions and symbols with E_CACHE_INVALID_VALUE', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(codeOf(() => serialize('k', cyclic))).toBe('E_CACHE_INVALID_VALUE');
    expect(codeOf(() => serialize('k', { f: () => 1 }))).toBe('E_CACHE_INVALID_VALUE');
    expect(codeOf(() => serialize('k', [Symbol('s')]))).toBe('E_CACHE_INVALID_VALUE');
  });
});

describe('cached()', () => {
  it('caches results by arguments, object key order aside', async () => {
    const cache = new Cache({ store: new MemoryStore(), prefix: 'svc:' });
    let calls = 0;
    const quote = cached(
      async (sku: string, options: { qty: number; currency: string }) => {
        calls++;
        return `${sku}x${options.qty}${options.currency}`;
      },
      { cache, key: 'prices.quote', ttl: '5m' },
    );
    expect(await quote('A', { qty: 2, currency: 'EUR' })).toBe('Ax2EUR');
    expect(await quote('A', { currency: 'EUR', qty: 2 })).toBe('Ax2EUR');
    expect(await quote('B', { qty: 2, currency: 'EUR' })).toBe('Bx2EUR');
    expect(calls).toBe(2);
    expectTypeOf(quote).parameters.toEqualTypeOf<[string, { qty: number; currency: string }]>();
  });

  it('keeps `this`, takes a key function, and hashes long argument lists', async () => {
    const cache = new Cache({ store: new MemoryStore() });
    const service = {
      rate: 3,
      times: cached(
        function (this: { rate: number }, n: number) {
          return n * this.rate;
        },
        { cache, key: (n) => `times:${n}` },
      ),
    };
    expect(await service.times(2)).toBe(6);
    expect(await cache.get('times:2')).toBe(6);
    expect(argumentsKey(['x'.repeat(500)])).toMatch(/^#[0-9a-f]{64}$/);
    expect(argumentsKey([1n, new Map([[1, 2]])])).toBe('["1n",{"$map":[[1,2]]}]');
  });

  it('needs a key for an anonymous function', () => {
    const cache = new Cache({ store: new MemoryStore() });
    expect(codeOf(() => cached(() => 1, { cache }))).toBe('E_CACHE_INVALID_KEY');
  });
});

describe('config and pools', () => {
  it('fills in the default stores and framework pools, with CACHE_DRIVER and CACHE_PREFIX', () => {
    const config = resolveCacheConfig(
      undefined,
      (name) => ({ CACHE_DRIVER: 'file', CACHE_PREFIX: 'shop' })[name],
    );
    expect(config.default).toBe('file');
    expect(config.prefix).toBe('shop');
    expect(Object.keys(config.stores)).toEqual(['memory', 'file', 'database', 'redis', 'tiered']);
    expect(Object.keys(config.pools)).toEqual(['config', 'runtime', 'views', 'data']);
  });

  it('refuses a broken config with E_CACHE_CONFIG_INVALID naming the path', () => {
    const cases: Array<[unknown, string]> = [
      [{ default: 'nope' }, 'default'],
      [{ stores: { x: { driver: 'memcached' } } }, 'stores.x'],
      [{ pools: { data: { store: 'missing' } } }, 'pools.data.store'],
      [{ stores: { t: { driver: 'tiered', l2: 'memory' } } }, 'stores.t.l2'],
      [{ stores: { t: { driver: 'tiered', l2: 'nope' } } }, 'stores.t.l2'],
      [{ stores: { t: { driver: 'tiered', bus: { port: 1 } } } }, 'stores.t.bus'],
      [{ pools: { data: { failOpen: 'yes' } } }, 'pools.data.failOpen'],
      [{ pools: { Bad: {} } }, 'pools'],
      [{ prefix: 'a\0b' }, 'prefix'],
      [{ extra: true }, '(root)'],
    ];
    for (const [raw, path] of cases) {
      let caught: unknown;
      try {
        resolveCacheConfig(raw);
      } catch (error) {
        caught = error;
      }
      expect(isKeelError(caught, 'E_CACHE_CONFIG_INVALID'), JSON.stringify(raw)).toBe(true);
      expect((caught as Error).message).toContain(path);
    }
  });

  it('serves named pools with their prefixes and stores, and clears one pool only', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keel-cache-'));
    try {
      const manager = new CacheManager({
        config: resolveCacheConfig({ pools: { views: { store: 'file' }, reports: { ttl: '1h' } } }),
        root,
      });
      expect(manager.names()).toEqual(['config', 'runtime', 'views', 'data', 'reports']);
      expect(manager.pool().prefix).toBe('keel:data:');
      expect(manager.pool('views').store.driver).toBe('file');
      expect(manager.pool('data')).toBe(manager.pool('data'));
      await manager.pool('data').set('k', 'data');
      await manager.pool('views').set('k', 'views');
      await manager.pool('runtime').set('k', 'runtime');
      expect(await manager.get('k')).toBe('data');
      expect(await manager.clear('data')).toEqual(['data']);
      expect(await manager.pool('data').get('k')).toBeUndefined();
      expect(await manager.pool('views').get('k')).toBe('views');
      await manager.pool('views').set('old', 1, 0.001);
      await new Promise((r) => setTimeout(r, 5));
      expect(await manager.gc()).toEqual({ file: 1 });
      await manager.clear();
      expect(await manager.pool('views').get('k')).toBeUndefined();
      expect(await manager.pool('runtime').get('k')).toBeUndefined();
      expect(codeOf(() => manager.pool('nope'))).toBe('E_CACHE_POOL_NOT_FOUND');
      expect(codeOf(() => manager.pool('toString'))).toBe('E_CACHE_POOL_NOT_FOUND');
      const scoped = manager.scoped();
      await scoped.set('k', 1);
      expect(await manager.scoped().get('k')).toBeUndefined();
      await manager.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('reports a database store without a database as E_CACHE_CONFIG_INVALID, even failing open', async () => {
    const manager = new CacheManager({
      config: resolveCacheConfig({ default: 'database' }),
      root: '/tmp',
    });
    await expect(manager.pool().get('k')).rejects.toMatchObject({
      code: 'E_CACHE_CONFIG_INVALID',
    });
    await manager.close();
  });
});
