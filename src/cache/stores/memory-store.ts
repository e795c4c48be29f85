import { LRUCache } from 'lru-cache';
import { E_CACHE_NOT_A_NUMBER, E_CACHE_VALUE_TOO_LARGE } from '../errors.js';
import { type CacheEntry, type CacheStore, expiryOf, isCounter } from '../store.js';

export interface MemoryStoreOptions {
  /** At most this many entries; the least recently used go first (default 10,000). */
  maxEntries?: number;
  /** At most this many bytes, by an estimate of each value's size (default: unbounded). */
  maxBytes?: number;
  /** Refuse a single value estimated larger than this (default: maxBytes). */
  maxEntryBytes?: number;
  /** The clock expiry is measured against (default `Date.now`). */
  now?: () => number;
}

/**
 * What the LRU holds per key. Mutable so that increment updates in place; the expiry lives
 * here rather than in lru-cache's own TTL because lru-cache reads `performance.now()`
 * captured at import, which fake timers and an injected clock cannot move.
 */
interface Slot {
  value: unknown;
  expiresAt: number;
}

/**
 * An in-process LRU (lru-cache) bounded by entries and, optionally, by bytes. Values are
 * kept by reference, not copied: a cached object mutated by the caller changes for every
 * reader (as with lru-cache and bentocache's memory driver). Reads answer synchronously.
 *
 * @example
 * ```ts
 * const cache = new Cache({ store: new MemoryStore({ maxEntries: 50_000, maxBytes: 64 * 1024 ** 2 }) });
 * ```
 */
export class MemoryStore implements CacheStore {
  readonly driver = 'memory';
  readonly #lru: LRUCache<string, Slot>;
  readonly #now: () => number;
  readonly #maxEntryBytes: number;
  readonly #sized: boolean;
  #evictions = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sized = options.maxBytes !== undefined;
    this.#maxEntryBytes = options.maxEntryBytes ?? options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#lru = new LRUCache<string, Slot>({
      max: options.maxEntries ?? 10_000,
      // Only drops for room count as evictions (not deletes, overwrites or expiry).
      disposeAfter: (_slot, _key, reason) => {
        if (reason === 'evict') this.#evictions++;
      },
      ...(this.#sized
        ? {
            maxSize: options.maxBytes,
            sizeCalculation: (slot: Slot, key: string) =>
              estimateBytes(slot.value) + key.length * 2,
          }
        : {}),
    });
  }

  /** Entries dropped so far to stay within maxEntries / maxBytes. */
  get evictions(): number {
    return this.#evictions;
  }

  get(key: string): unknown {
    const slot = this.#lru.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt !== 0 && slot.expiresAt <= this.#now()) {
      this.#lru.delete(key);
      return undefined;
    }
    return slot.value;
  }

  getEntry(key: string): CacheEntry | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    const slot = this.#lru.peek(key) as Slot;
    return { value: slot.value, expiresAt: slot.expiresAt };
  }

  getMany(keys: readonly string[]): unknown[] {
    return keys.map((key) => this.get(key));
  }

  set(key: string, value: unknown, ttlMs: number | undefined): void {
    this.#checkSize(key, value);
    this.#lru.set(key, { value, expiresAt: expiryOf(ttlMs, this.#now()) });
  }

  setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttlMs: number | undefined): void {
    for (const [key, value] of entries) this.#checkSize(key, value);
    for (const [key, value] of entries) this.set(key, value, ttlMs);
  }

  add(key: string, value: unknown, ttlMs: number | undefined): boolean {
    if (this.get(key) !== undefined) return false;
    this.set(key, value, ttlMs);
    return true;
  }

  delete(key: string): boolean {
    const present = this.get(key) !== undefined;
    this.#lru.delete(key);
    return present;
  }

  // Synchronous read-modify-write: nothing can interleave in one process, so it is atomic.
  increment(key: string, by: number): number {
    const current = this.get(key);
    if (current === undefined) {
      this.#lru.set(key, { value: by, expiresAt: 0 });
      return by;
    }
    if (!isCounter(current)) throw new E_CACHE_NOT_A_NUMBER(key);
    const slot = this.#lru.peek(key) as Slot;
    slot.value = current + by;
    return slot.value as number;
  }

  flush(prefix: string): void {
    if (prefix === '') {
      this.#lru.clear();
      return;
    }
    for (const key of [...this.#lru.keys()]) if (key.startsWith(prefix)) this.#lru.delete(key);
  }

  async gc(): Promise<number> {
    this.#lru.purgeStale();
    let removed = 0;
    const now = this.#now();
    for (const [key, slot] of [...this.#lru.entries()]) {
      if (slot.expiresAt !== 0 && slot.expiresAt <= now) {
        this.#lru.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** How many entries are held (expired ones included until read or collected). */
  get size(): number {
    return this.#lru.size;
  }

  #checkSize(key: string, value: unknown): void {
    if (this.#maxEntryBytes === Number.POSITIVE_INFINITY) return;
    const bytes = estimateBytes(value);
    if (bytes > this.#maxEntryBytes)
      throw new E_CACHE_VALUE_TOO_LARGE(key, bytes, this.#maxEntryBytes);
  }
}

/**
 * A value's approximate heap size, without serializing it: strings count two bytes a
 * unit, numbers eight, and containers the sum of their parts. Bounded in depth and
 * breadth so that sizing a huge object costs little more than storing it.
 */
export function estimateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
    case 'undefined':
      return 4;
    case 'function':
    case 'symbol':
      return 16;
  }
  if (value === null) return 4;
  if (depth > 64) return 64;
  if (value instanceof Uint8Array) return 64 + value.byteLength;
  if (value instanceof Date) return 32;
  let total = 32;
  if (Array.isArray(value)) {
    for (const item of value) total += estimateBytes(item, depth + 1);
    return total;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) total += estimateBytes(k, depth + 1) + estimateBytes(v, depth + 1);
    return total;
  }
  if (value instanceof Set) {
    for (const v of value) total += estimateBytes(v, depth + 1);
    return total;
  }
  for (const key of Object.keys(value as object)) {
    total +=
      16 + key.length * 2 + estimateBytes((value as Record<string, unknown>)[key], depth + 1);
  }
  return total;
}
