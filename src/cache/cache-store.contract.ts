import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKeelError } from '../support/index.js';
import { Cache } from './cache.js';
import type { CacheStore } from './store.js';

/** What a store's test gives the suite. */
export interface ContractStore {
  store: CacheStore;
  /** True when expiry is kept by a server clock the suite cannot move (Redis). */
  serverClock?: boolean;
  /** Drop what the store made (tables, folders, client). */
  cleanup?: () => Promise<void>;
}

/**
 * How to build the store under test. `now` is the suite's clock, which the store must
 * measure expiry against (unless `serverClock`); `maxValueBytes` is the limit it must
 * enforce (memory: maxEntryBytes).
 */
export type ContractFactory = (options: {
  now: () => number;
  maxValueBytes: number;
}) => Promise<ContractStore>;

export const CONTRACT_MAX_VALUE_BYTES = 64 * 1024;

async function expectCode(
  promise: Promise<unknown> | (() => unknown),
  code: string,
): Promise<void> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(isKeelError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
}

const sample: Record<string, unknown> = {
  string: 'plain',
  empty: '',
  unicode: 'héllo 🌍 ключ 鍵',
  integer: 42,
  negative: -7,
  float: 1.5,
  max: Number.MAX_SAFE_INTEGER,
  true: true,
  false: false,
  null: null,
  date: new Date('2024-05-01T12:34:56.789Z'),
  bigint: 12345678901234567890n,
  nested: { a: [1, { b: new Date(0), c: null, d: undefined }], e: { f: 'g' } },
  array: [1, 'two', null, undefined, [3]],
  map: new Map<unknown, unknown>([
    ['a', 1],
    [2, { b: new Date(5) }],
  ]),
  set: new Set([1, 'x', null]),
  buffer: Buffer.from([0, 1, 2, 255]),
  bytes: new Uint8Array([9, 8, 7]),
  regexp: /a+b/gi,
  tagLike: { $t: 'D', v: 0, $$t: 'x' },
  proto: JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown,
};

/**
 * The conformance suite every cache store runs: values round-trip exactly, expiry,
 * add/increment atomicity, batches, prefix-scoped flush, hostile keys, oversized values.
 *
 * @example
 * ```ts
 * runCacheStoreContract('memory', async ({ now, maxValueBytes }) => ({
 *   store: new MemoryStore({ now, maxEntryBytes: maxValueBytes }),
 * }));
 * ```
 */
export function runCacheStoreContract(name: string, factory: ContractFactory): void {
  describe(`cache store contract: ${name}`, () => {
    let offset = 0;
    const now = (): number => Date.now() + offset;
    let subject: ContractStore;
    let store: CacheStore;
    let cache: Cache;

    beforeAll(async () => {
      subject = await factory({ now, maxValueBytes: CONTRACT_MAX_VALUE_BYTES });
      store = subject.store;
    });
    afterAll(async () => {
      await store?.close?.();
      await subject?.cleanup?.();
    });

    /** A fresh cache under a random prefix, so each test sees only its own keys. */
    function fresh(): Cache {
      cache = new Cache({ store, prefix: `kt_${randomBytes(4).toString('hex')}:` });
      return cache;
    }

    /** Let `ms` pass: on the suite's clock, or for real when the server keeps expiry. */
    async function elapse(ms: number): Promise<void> {
      if (subject.serverClock) await new Promise((r) => setTimeout(r, ms));
      else offset += ms;
    }

    it('round-trips every value type exactly', async () => {
      const c = fresh();
      for (const [key, value] of Object.entries(sample)) await c.set(key, value);
      for (const [key, value] of Object.entries(sample))
        expect(await c.get(key), key).toEqual(value);
      const proto = (await c.get<Record<string, unknown>>('proto'))!;
      expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.keys(proto).sort()).toEqual(['__proto__', 'ok']);
      for (const special of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]) {
        await c.set('special', special);
        expect(Object.is(await c.get('special'), special), String(special)).toBe(true);
      }
      expect(await c.get('date')).toBeInstanceOf(Date);
      expect(await c.get('buffer')).toBeInstanceOf(Buffer);
    });

    it('tells a cached null from a missing key', async () => {
      const c = fresh();
      await c.set('nothing', null);
      expect(await c.get('nothing')).toBeNull();
      expect(await c.has('nothing')).toBe(true);
      expect(await c.get('missing')).toBeUndefined();
      expect(await c.has('missing')).toBe(false);
      expect(await c.get('missing', 'fallback')).toBe('fallback');
      expect(await c.get('nothing', 'fallback')).toBeNull();
      expect(await c.get('missing', () => 'computed')).toBe('computed');
    });

    it('expires entries after their TTL, and keeps forever ones', async () => {
      const c = fresh();
      await c.set('short', 'v', 0.05);
      await c.set('forever', 'v');
      await c.setMany({ m1: 1, m2: 2 }, '50ms');
      const entry = await store.getEntry(`${c.prefix}short`);
      expect(entry?.value).toBe('v');
      expect(entry?.expiresAt).toBeGreaterThan(0);
      expect((await store.getEntry(`${c.prefix}forever`))?.expiresAt).toBe(0);
      await elapse(120);
      expect(await c.get('short')).toBeUndefined();
      expect(await c.has('short')).toBe(false);
      expect(await c.many(['m1', 'm2'])).toEqual({ m1: undefined, m2: undefined });
      expect(await c.get('forever')).toBe('v');
      expect(await c.add('short', 'again')).toBe(true);
      expect(await c.get('short')).toBe('again');
    });

    it('treats a TTL of 0 as "delete" and refuses invalid TTLs', async () => {
      const c = fresh();
      await c.set('k', 1);
      await c.set('k', 2, 0);
      expect(await c.get('k')).toBeUndefined();
      await expectCode(c.set('k', 1, -1), 'E_CACHE_INVALID_TTL');
      await expectCode(c.set('k', 1, 'soon'), 'E_CACHE_INVALID_TTL');
      await expectCode(c.set('k', 1, Number.NaN), 'E_CACHE_INVALID_TTL');
      expect(await c.get('k')).toBeUndefined();
    });

    it('adds only when missing, atomically', async () => {
      const c = fresh();
      expect(await c.add('a', 'first')).toBe(true);
      expect(await c.add('a', 'second')).toBe(false);
      expect(await c.get('a')).toBe('first');
      await c.set('n', null);
      expect(await c.add('n', 'x')).toBe(false);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.add('race', i)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await c.get('race')).toBe(results.indexOf(true));
    });

    it('increments and decrements atomically', async () => {
      const c = fresh();
      expect(await c.increment('hits')).toBe(1);
      await Promise.all(Array.from({ length: 30 }, () => c.increment('hits')));
      expect(await c.get('hits')).toBe(31);
      expect(await c.decrement('hits', 11)).toBe(20);
      expect(await c.decrement('fresh')).toBe(-1);
      await c.set('counter', 5, 60);
      expect(await c.increment('counter', 10)).toBe(15);
      expect((await store.getEntry(`${c.prefix}counter`))?.expiresAt).toBeGreaterThan(0);
      await c.set('word', 'abc');
      await expectCode(c.increment('word'), 'E_CACHE_NOT_A_NUMBER');
      await c.set('float', 1.5);
      await expectCode(c.increment('float'), 'E_CACHE_NOT_A_NUMBER');
      await expectCode(c.increment('hits', 1.5), 'E_CACHE_INVALID_VALUE');
      expect(await c.get('word')).toBe('abc');
    });

    it('reads and writes many keys at once', async () => {
      const c = fresh();
      await c.setMany({ a: 1, b: null, c: { d: new Date(3) } });
      await c.setMany([['e', 'five']]);
      expect(await c.many(['a', 'b', 'c', 'missing', 'e'])).toEqual({
        a: 1,
        b: null,
        c: { d: new Date(3) },
        missing: undefined,
        e: 'five',
      });
      expect(await c.many([])).toEqual({});
      await c.setMany({});
    });

    it('deletes and pulls', async () => {
      const c = fresh();
      await c.set('k', 'v');
      expect(await c.delete('k')).toBe(true);
      expect(await c.delete('k')).toBe(false);
      await c.set('p', { x: 1 });
      expect(await c.pull('p')).toEqual({ x: 1 });
      expect(await c.has('p')).toBe(false);
      expect(await c.pull('p')).toBeUndefined();
    });

    it('flushes only its own prefix', async () => {
      const base = `kt_${randomBytes(4).toString('hex')}`;
      // LIKE and glob wildcards, a case twin and a longer sibling must all survive.
      const target = new Cache({ store, prefix: `${base}:%_*[x]?:` });
      const twin = new Cache({ store, prefix: `${base}:%_*[X]?:` });
      const sibling = new Cache({ store, prefix: `${base}:aa_*[x]?:` });
      const parent = new Cache({ store, prefix: `${base}:` });
      for (const c of [target, twin, sibling, parent]) await c.set('k', c.prefix);
      const tenant = parent.namespace('tenant:1');
      await tenant.set('k', 'tenant');
      await target.flush();
      expect(await target.get('k')).toBeUndefined();
      expect(await twin.get('k')).toBe(twin.prefix);
      expect(await sibling.get('k')).toBe(sibling.prefix);
      expect(await parent.get('k')).toBe(parent.prefix);
      await tenant.flush();
      expect(await tenant.get('k')).toBeUndefined();
      expect(await parent.get('k')).toBe(parent.prefix);
      await parent.flush();
      expect(await twin.get('k')).toBeUndefined();
    });

    it('stores hostile keys as distinct keys, and refuses unusable ones with E_CACHE_INVALID_KEY', async () => {
      const c = fresh();
      const keys = [
        'x'.repeat(250),
        'ключ 🔑 鍵',
        '../../etc/passwd',
        '..\\..\\windows',
        `it's "quoted" \`here\``,
        'a',
        'A',
        'a ',
        'line\nbreak',
        '%_*?[]',
        '$t',
        '__proto__',
        'constructor',
      ];
      for (const [i, key] of keys.entries()) await c.set(key, i);
      for (const [i, key] of keys.entries()) expect(await c.get(key), key).toBe(i);
      expect(Object.keys(await c.many(keys))).toEqual(keys);
      await expectCode(() => c.get('x'.repeat(251)), 'E_CACHE_INVALID_KEY');
      await expectCode(c.set('nul\0byte', 1), 'E_CACHE_INVALID_KEY');
      await expectCode(c.set('', 1), 'E_CACHE_INVALID_KEY');
      await expectCode(c.set(42 as unknown as string, 1), 'E_CACHE_INVALID_KEY');
      await expectCode(() => c.namespace('bad\0'), 'E_CACHE_INVALID_KEY');
    });

    it('refuses oversized and uncacheable values, storing nothing', async () => {
      const c = fresh();
      const big = 'x'.repeat(CONTRACT_MAX_VALUE_BYTES + 1);
      await expectCode(c.set('big', big), 'E_CACHE_VALUE_TOO_LARGE');
      expect(await c.has('big')).toBe(false);
      await expectCode(c.setMany({ small: 1, big }), 'E_CACHE_VALUE_TOO_LARGE');
      expect(await c.has('small')).toBe(false);
      await expectCode(c.add('big', big), 'E_CACHE_VALUE_TOO_LARGE');
      await expectCode(c.set('u', undefined), 'E_CACHE_INVALID_VALUE');
      await expectCode(
        c.set('f', () => 1),
        'E_CACHE_INVALID_VALUE',
      );
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      if (store.driver !== 'memory')
        await expectCode(c.set('cycle', cyclic), 'E_CACHE_INVALID_VALUE');
    });

    it('remembers with one factory call for concurrent callers', async () => {
      const c = fresh();
      let calls = 0;
      const factory = async (): Promise<{ n: number }> => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return { n: 1 };
      };
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => c.remember('once', 60, factory)),
      );
      expect(calls).toBe(1);
      expect(results.every((r) => r.n === 1)).toBe(true);
      expect(await c.remember('once', 60, factory)).toEqual({ n: 1 });
      expect(calls).toBe(1);
      expect(await c.rememberForever('forever', () => null)).toBeNull();
      expect(await c.rememberForever('forever', () => 'other')).toBeNull();
    });

    it("hands a throwing factory's error to every waiter and caches nothing", async () => {
      const c = fresh();
      let calls = 0;
      const boom = new Error('boom');
      const failing = async (): Promise<number> => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        throw boom;
      };
      const settled = await Promise.allSettled(
        Array.from({ length: 50 }, () => c.remember('fail', 60, failing)),
      );
      expect(calls).toBe(1);
      expect(settled.every((s) => s.status === 'rejected' && s.reason === boom)).toBe(true);
      expect(await c.has('fail')).toBe(false);
      expect(await c.remember('fail', 60, () => 7)).toBe(7);
    });

    it('collects expired entries', async () => {
      if (!store.gc || subject.serverClock) return;
      const c = fresh();
      await c.set('old', 1, 0.05);
      await c.set('keep', 2);
      await elapse(120);
      expect(await store.gc()).toBeGreaterThanOrEqual(1);
      expect(await c.get('keep')).toBe(2);
    });
  });
}
