import { afterEach, describe, expect, it } from 'vitest';
import { Cache } from './cache.js';
import { type CacheCall, cacheObserver, observeCache } from './cache-observer.js';
import { MemoryStore } from './stores/memory-store.js';

interface Seen {
  operation: string;
  key: string | undefined;
  pool: string;
  driver: string;
  hit: boolean | undefined;
  outcome: 'ok' | 'error';
}

/** An observer that records each call once it settled (when `hit` is known). */
function record(): Seen[] {
  const seen: Seen[] = [];
  const note = (call: CacheCall, outcome: Seen['outcome']) =>
    seen.push({
      operation: call.operation,
      key: call.key,
      pool: call.pool,
      driver: call.driver,
      hit: call.hit,
      outcome,
    });
  observeCache({
    observe: (call, run) =>
      run().then(
        (value) => {
          note(call, 'ok');
          return value;
        },
        (error: unknown) => {
          note(call, 'error');
          throw error;
        },
      ),
  });
  return seen;
}

function cache(): Cache {
  return new Cache({ store: new MemoryStore(), pool: 'data', prefix: 'app:data:' });
}

afterEach(() => observeCache(undefined));

describe('cache observer', () => {
  it('is unset by default, and then sees nothing', async () => {
    expect(cacheObserver).toBeUndefined();
    const c = cache();
    await c.set('a', 1);
    expect(await c.get('a')).toBe(1);
  });

  it('sees every call with its pool, driver and key, and tells hits from misses', async () => {
    const seen = record();
    const c = cache();
    expect(await c.get('user:1')).toBeUndefined();
    expect(await c.get('user:1', () => 'computed')).toBe('computed');
    expect(await c.get('user:1', 'fallback')).toBe('fallback');
    await c.set('user:1', { name: 'Ada' }, 60);
    expect(await c.get('user:1', 'fallback')).toEqual({ name: 'Ada' });
    // A cached null is a hit, not the fallback.
    await c.set('nothing', null);
    expect(await c.get('nothing', 'fallback')).toBeNull();
    expect(await c.has('user:1')).toBe(true);
    expect(await c.has('user:2')).toBe(false);
    expect(await c.remember('stats', 60, () => 42)).toBe(42);
    expect(await c.remember('stats', 60, () => 43)).toBe(42);
    expect(await c.add('user:1', 'other')).toBe(false);
    expect(await c.many(['user:1', 'user:2'])).toEqual({
      'user:1': { name: 'Ada' },
      'user:2': undefined,
    });
    await c.setMany({ x: 1, y: 2 });
    expect(await c.increment('views')).toBe(1);
    expect(await c.decrement('views')).toBe(0);
    expect(await c.pull('x')).toBe(1);
    await c.invalidateTags(['catalog']);
    await c.flush();
    expect(seen.map((s) => [s.operation, s.key, s.hit])).toEqual([
      ['get', 'user:1', false],
      ['get', 'user:1', false],
      ['get', 'user:1', false],
      ['set', 'user:1', undefined],
      ['get', 'user:1', true],
      ['set', 'nothing', undefined],
      ['get', 'nothing', true],
      ['has', 'user:1', true],
      ['has', 'user:2', false],
      ['remember', 'stats', false],
      ['remember', 'stats', true],
      ['add', 'user:1', undefined],
      ['many', undefined, undefined],
      ['setMany', undefined, undefined],
      ['increment', 'views', undefined],
      ['increment', 'views', undefined],
      ['get', 'x', true],
      ['delete', 'x', undefined],
      ['invalidateTags', undefined, undefined],
      ['flush', undefined, undefined],
    ]);
    expect(new Set(seen.map((s) => `${s.pool}/${s.driver}/${s.outcome}`))).toEqual(
      new Set(['data/memory/ok']),
    );
    // Namespaces and tagged views go through the same observer.
    await c.namespace('tenant:1').set('k', 1);
    await c.tags(['catalog']).set('k', 2);
    expect(seen.slice(-2).map((s) => [s.operation, s.key])).toEqual([
      ['set', 'k'],
      ['set', 'k'],
    ]);
  });

  it('sees failures as they are, and leaves results and errors unchanged', async () => {
    const seen = record();
    const c = cache();
    await expect(c.get('')).rejects.toMatchObject({ code: 'E_CACHE_INVALID_KEY' });
    await expect(c.set('k', () => 'a function')).rejects.toMatchObject({
      code: 'E_CACHE_INVALID_VALUE',
    });
    await expect(
      c.remember('r', 60, () => {
        throw new Error('factory failed');
      }),
    ).rejects.toThrow('factory failed');
    await expect(c.increment('n', 1.5)).rejects.toMatchObject({ code: 'E_CACHE_INVALID_VALUE' });
    expect(seen.map((s) => [s.operation, s.outcome, s.hit])).toEqual([
      ['get', 'error', undefined],
      ['set', 'error', undefined],
      ['remember', 'error', false],
      ['increment', 'error', undefined],
    ]);
    // Concurrent callers of one missing key still share one factory call.
    let calls = 0;
    const values = await Promise.all(
      [1, 2, 3].map(() =>
        c.remember('shared', 60, async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          return 'v';
        }),
      ),
    );
    expect(values).toEqual(['v', 'v', 'v']);
    expect(calls).toBe(1);
  });
});
