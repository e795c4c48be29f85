import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { TSX } from '../../../test/support/keel-process.js';
import { requireService } from '../../../test/support/services.js';
import { Cache } from '../cache.js';
import { runCacheStoreContract } from '../cache-store.contract.js';
import { E_CACHE_STORE_UNAVAILABLE } from '../errors.js';
import type { CacheStore } from '../store.js';
import { MemoryStore } from './memory-store.js';
import { RedisInvalidationBus } from './redis-invalidation-bus.js';
import { RedisStore } from './redis-store.js';
import { TieredStore } from './tiered-store.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);
const URL_ = 'redis://127.0.0.1:6379';
const WORKER = fileURLToPath(new URL('../__fixtures__/tiered-worker.ts', import.meta.url));

/** Poll `read` until it returns `expected` (bounded: 200 tries, 10 ms apart). */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  let last = await read();
  for (let i = 0; i < 200 && last !== expected; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    last = await read();
  }
  return last;
}

/** A tiered store on the shared Redis with its own bus channel. */
async function tier(channel: string, bus = true) {
  const l2 = await RedisStore.connect({ url: URL_ });
  const store = new TieredStore({
    l1: new MemoryStore(),
    l2,
    ...(bus ? { bus: RedisInvalidationBus.connect({ url: URL_, channel }) } : {}),
  });
  await store.ready();
  return {
    store,
    close: async () => {
      await store.close();
      await l2.close();
    },
  };
}

describe.runIf(hasRedis)('tiered store (memory L1 + Redis L2 + bus)', () => {
  const admin = new Redis(URL_);
  const prefix = `kt_tier_${randomBytes(4).toString('hex')}:`;
  const channel = `keel:test:${prefix}`;

  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  runCacheStoreContract('tiered', async ({ maxValueBytes }) => {
    const l2 = new RedisStore(new Redis(URL_), { maxValueBytes });
    const bus = await RedisInvalidationBus.connect({ url: URL_, channel: `${channel}contract` });
    const store = new TieredStore({ l1: new MemoryStore(), l2, bus });
    return {
      store,
      serverClock: true,
      cleanup: async () => {
        await store.close();
        const keys = await l2.client.keys('kt_*');
        if (keys.length > 0) await l2.client.del(...keys);
        await l2.client.quit();
      },
    };
  });

  it('answers L1 hits without a round trip and fills L1 from L2 with the L2 expiry', async () => {
    const a = await tier(channel);
    try {
      await admin.set(`${prefix}seeded`, '"from-l2"', 'PX', 60_000);
      expect(a.store.l1.get(`${prefix}seeded`)).toBeUndefined();
      expect(await a.store.get(`${prefix}seeded`)).toBe('from-l2');
      const entry = a.store.l1.getEntry(`${prefix}seeded`);
      expect(entry?.value).toBe('from-l2');
      expect(entry?.expiresAt).toBeGreaterThan(Date.now());
      // A hit is synchronous: a value, not a promise.
      expect(a.store.get(`${prefix}seeded`)).toBe('from-l2');
    } finally {
      await a.close();
    }
  });

  it('a write in one store evicts the other’s L1 through the bus; without a bus it would not', async () => {
    const a = await tier(channel);
    const b = await tier(channel);
    const c = await tier(`${channel}:none`, false);
    const key = `${prefix}shared`;
    try {
      await a.store.set(key, 'v1', undefined);
      expect(await b.store.get(key)).toBe('v1');
      expect(await c.store.get(key)).toBe('v1');
      await a.store.set(key, 'v2', undefined);
      expect(await eventually(async () => b.store.l1.get(key), undefined)).toBeUndefined();
      expect(await b.store.get(key)).toBe('v2');
      // The store without a bus still serves its L1 copy: the bus is what made b coherent.
      expect(await c.store.get(key)).toBe('v1');
      await a.store.delete(key);
      expect(await eventually(async () => b.store.get(key), undefined)).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('carries flushes and tag invalidations between processes’ L1s', async () => {
    const a = await tier(channel);
    const b = await tier(channel);
    try {
      const ca = new Cache({ store: a.store, prefix });
      const cb = new Cache({ store: b.store, prefix });
      await ca.set('p1', 'chair', { tags: ['catalog:products:1'] });
      expect(await cb.get('p1')).toBe('chair');
      await ca.invalidateTags(['catalog:products']);
      expect(await eventually(() => cb.get('p1'), undefined)).toBeUndefined();
      await ca.set('p2', 'desk');
      expect(await cb.get('p2')).toBe('desk');
      await ca.flush();
      expect(await eventually(() => cb.get('p2'), undefined)).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('is what a pool gets from config (`default: tiered`), L1 and bus included', async () => {
    const { CacheManager } = await import('../cache-manager.js');
    const { resolveCacheConfig } = await import('../config.js');
    const manager = new CacheManager({
      config: resolveCacheConfig({ default: 'tiered', prefix: prefix.slice(0, -1) }),
      root: '/tmp',
    });
    try {
      const data = manager.pool('data');
      expect(data.store.driver).toBe('tiered');
      await data.set('from-config', { ok: true }, 60);
      expect(await data.get('from-config')).toEqual({ ok: true });
      expect((data.store as TieredStore).l1.get(`${prefix}data:from-config`)).toEqual({ ok: true });
      expect(await admin.exists(`${prefix}data:from-config`)).toBe(1);
      expect(manager.stats().find((s) => s.pool === 'data')?.store).toBe('tiered');
    } finally {
      await manager.close();
    }
  });

  it('proves it across two processes: a write here evicts the worker’s L1', async () => {
    const key = `${prefix}two-processes`;
    const worker = startWorker(channel);
    const a = await tier(channel);
    try {
      await worker.ready;
      await a.store.set(key, 'v1', undefined);
      expect(await worker.send({ op: 'get', key })).toEqual({ value: 'v1' });
      expect(await worker.send({ op: 'l1', key })).toEqual({ value: 'v1' });
      await a.store.set(key, 'v2', undefined);
      const l1 = await eventually(
        async () => ((await worker.send({ op: 'l1', key })) as { value: unknown }).value,
        null,
      );
      expect(l1).toBeNull();
      expect(await worker.send({ op: 'get', key })).toEqual({ value: 'v2' });
      // And the other way: the worker's write evicts this process's L1.
      expect(await a.store.get(key)).toBe('v2');
      await worker.send({ op: 'set', key, value: 'v3' });
      expect(await eventually(async () => a.store.l1.get(key), undefined)).toBeUndefined();
      expect(await a.store.get(key)).toBe('v3');
      await worker.send({ op: 'close' });
    } finally {
      worker.child.kill('SIGKILL');
      await a.close();
    }
  });
});

describe('tiered store when L2 is down', () => {
  /** An L2 that holds one entry until `down` is set, then fails like an unreachable Redis. */
  function flakyL2() {
    const inner = new MemoryStore();
    const state = { down: false };
    const guard =
      <A extends unknown[], R>(fn: (...args: A) => R) =>
      async (...args: A): Promise<Awaited<R>> => {
        if (state.down) throw new E_CACHE_STORE_UNAVAILABLE('redis', 'connection refused');
        return await fn(...args);
      };
    const store: CacheStore = {
      driver: 'redis',
      get: guard((k: string) => inner.get(k)),
      getEntry: guard((k: string) => inner.getEntry(k)),
      getMany: guard((k: readonly string[]) => inner.getMany(k)),
      set: guard((k: string, v: unknown, t: number | undefined) => inner.set(k, v, t)),
      setMany: guard((e: ReadonlyArray<readonly [string, unknown]>, t: number | undefined) =>
        inner.setMany(e, t),
      ),
      add: guard((k: string, v: unknown, t: number | undefined) => inner.add(k, v, t)),
      delete: guard((k: string) => inner.delete(k)),
      increment: guard((k: string, by: number) => inner.increment(k, by)),
      flush: guard((p: string) => inner.flush(p)),
    };
    return { store, state };
  }

  it('keeps serving L1 and computing the rest; a failed write drops the L1 copy', async () => {
    const { store: l2, state } = flakyL2();
    const store = new TieredStore({ l1: new MemoryStore(), l2 });
    const cache = new Cache({ store, prefix: 'app:' });
    await cache.set('held', 'in-l1');
    await cache.set('stale', 'old');
    state.down = true;
    expect(await cache.get('held')).toBe('in-l1');
    expect(await cache.remember('missing', 60, () => 'computed')).toBe('computed');
    await cache.set('stale', 'new'); // fails open: skipped, and L1 must not keep 'old'
    expect(store.l1.get('app:stale')).toBeUndefined();
    expect(await cache.get('stale')).toBeUndefined();
    expect(cache.stats.errors).toBeGreaterThanOrEqual(3);
    state.down = false;
    expect(await cache.get('stale')).toBe('old'); // L2 kept what it had
  });

  it('remembers absent keys briefly so untouched tag counters cost no round trip', async () => {
    const { store: l2 } = flakyL2();
    let reads = 0;
    const counting: CacheStore = {
      ...l2,
      getEntry: (key) => {
        reads++;
        return l2.getEntry(key);
      },
    };
    const store = new TieredStore({ l1: new MemoryStore(), l2: counting });
    const cache = new Cache({ store });
    await cache.set('p', 1, { tags: ['catalog:products:1'] });
    const before = reads;
    for (let i = 0; i < 10; i++) expect(await cache.get('p')).toBe(1);
    expect(reads).toBe(before);
    // The absence is forgotten on a write anywhere (here: this process's own invalidation).
    await cache.invalidateTags(['catalog:products']);
    expect(await cache.get('p')).toBeUndefined();
  });
});

function startWorker(channel: string) {
  const child = spawn(process.execPath, ['--import', TSX, WORKER], {
    env: { ...process.env, TIER_TEST_URL: URL_, TIER_TEST_CHANNEL: channel },
    stdio: ['pipe', 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    const line = await lines.next();
    if (line.done) throw new Error(`tiered worker exited:\n${stderr}`);
    return JSON.parse(line.value);
  };
  return {
    child,
    ready: next(),
    send: async (command: object): Promise<unknown> => {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      return next();
    },
  };
}
