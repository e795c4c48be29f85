import { describe, expect, it } from 'vitest';
import { isKeelError } from '../../support/index.js';
import { runCacheStoreContract } from '../cache-store.contract.js';
import { estimateBytes, MemoryStore } from './memory-store.js';

runCacheStoreContract('memory', async ({ now, maxValueBytes }) => ({
  store: new MemoryStore({ now, maxEntryBytes: maxValueBytes }),
}));

describe('MemoryStore bounds', () => {
  it('evicts the least recently used entry past maxEntries', () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) store.set(key, key, undefined);
    expect(store.get('a')).toBe('a'); // a is now the most recently used
    store.set('d', 'd', undefined);
    expect(store.get('b')).toBeUndefined();
    expect(store.getMany(['a', 'c', 'd'])).toEqual(['a', 'c', 'd']);
    expect(store.size).toBe(3);
  });

  it('evicts by estimated bytes past maxBytes, and refuses a value larger than the bound', () => {
    const store = new MemoryStore({ maxEntries: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) store.set(`k${i}`, 'x'.repeat(1000), undefined);
    expect(store.size).toBeLessThan(10);
    expect(store.get('k9')).toBe('x'.repeat(1000));
    let caught: unknown;
    try {
      store.set('huge', 'x'.repeat(6000), undefined);
    } catch (error) {
      caught = error;
    }
    expect(isKeelError(caught, 'E_CACHE_VALUE_TOO_LARGE')).toBe(true);
  });

  it('answers reads synchronously (no promise on the hot path)', () => {
    const store = new MemoryStore();
    store.set('k', { a: 1 }, 1000);
    expect(store.get('k')).toEqual({ a: 1 });
    expect(store.get('k')).not.toBeInstanceOf(Promise);
  });

  it('estimates sizes of nested and cyclic values without looping', () => {
    const cyclic: Record<string, unknown> = { a: 'abc' };
    cyclic.self = cyclic;
    expect(estimateBytes(cyclic)).toBeGreaterThan(0);
    expect(estimateBytes('abcd')).toBeGreaterThan(estimateBytes('ab'));
    expect(estimateBytes(new Map([[1, 'x']]))).toBeGreaterThan(estimateBytes(new Map()));
  });
});
