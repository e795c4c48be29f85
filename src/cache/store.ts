import type { Awaitable } from '../support/index.js';

/**
 * An entry as a store holds it: the value and when it expires (epoch ms; 0 = never).
 * Tiers (a memory store in front of Redis) copy entries between stores with their expiry
 * intact, which is why stores expose it.
 */
export interface CacheEntry {
  readonly value: unknown;
  readonly expiresAt: number;
}

/**
 * The contract every cache store implements: memory, file, database, Redis. Keys arrive
 * validated and already prefixed by the {@link Cache}; TTLs arrive in milliseconds
 * (`undefined` = no expiry). A missing or expired key reads as `undefined`; `null` is a
 * value like any other.
 *
 * Reads may answer synchronously (the memory store does): the Cache returns such values
 * without awaiting a promise, which keeps the in-memory hot path free of promise chains.
 * Every store runs the one conformance suite in `cache-store.contract.ts`.
 *
 * @example
 * ```ts
 * const store: CacheStore = new MemoryStore({ maxEntries: 10_000 });
 * await store.set('keel:data:user:1', { name: 'Ada' }, 60_000);
 * store.get('keel:data:user:1'); // { name: 'Ada' }
 * ```
 */
export interface CacheStore {
  /** `memory`, `file`, `database`, `redis`, `tiered`. */
  readonly driver: string;
  /** Entries dropped for room so far (stores that evict: memory, a tier's L1). */
  readonly evictions?: number;
  /** The value, or undefined when missing or expired. */
  get(key: string): Awaitable<unknown>;
  /** The value with its expiry, or undefined when missing or expired. */
  getEntry(key: string): Awaitable<CacheEntry | undefined>;
  /** The values of `keys`, in order, undefined for each missing one. */
  getMany(keys: readonly string[]): Awaitable<unknown[]>;
  set(key: string, value: unknown, ttlMs: number | undefined): Awaitable<void>;
  setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttlMs: number | undefined,
  ): Awaitable<void>;
  /** Store only when the key is missing (or expired), atomically; true when it was stored. */
  add(key: string, value: unknown, ttlMs: number | undefined): Awaitable<boolean>;
  /** True when the key existed (and had not expired). */
  delete(key: string): Awaitable<boolean>;
  /**
   * Add `by` (an integer, may be negative) to an integer value atomically, a missing key
   * counting as 0 and getting no expiry; an existing key keeps its expiry. Resolves to
   * the new value; E_CACHE_NOT_A_NUMBER when the value is not an integer.
   */
  increment(key: string, by: number): Awaitable<number>;
  /** Delete every key that starts with `prefix` (and only those). */
  flush(prefix: string): Awaitable<void>;
  /** Remove expired entries that a read has not already removed; resolves to how many. */
  gc?(): Promise<number>;
  /** Release connections and handles (a pool's store closes with the manager). */
  close?(): Promise<void>;
}

/** Store options shared by the stores that keep values as bytes. */
export interface SerializingStoreOptions {
  /** The largest serialized value accepted, in bytes (default 16 MiB). */
  maxValueBytes?: number;
  /** The clock expiry is measured against (default `Date.now`); tests move it forward. */
  now?: () => number;
}

export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** The epoch ms a TTL ends at, or 0 for none. */
export function expiryOf(ttlMs: number | undefined, now: number): number {
  return ttlMs === undefined ? 0 : now + ttlMs;
}

/** Whether `value` is a safe integer, the only kind `increment` works on. */
export function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}
