import type { Awaitable } from '../support/index.js';
import { E_INVALID_DURATION, parseDuration } from '../support/index.js';
import type { CacheEventName, CacheEventPayload } from './cache-events.js';
import { E_CACHE_INVALID_KEY, E_CACHE_INVALID_TTL, E_CACHE_INVALID_VALUE } from './errors.js';
import type { CacheStore } from './store.js';

/** A TTL: seconds as a number, or a duration string (`'30s'`, `'10m'`, `'1h30m'`). */
export type Ttl = number | string;

/** The longest key a caller may give (the prefix comes on top). */
export const MAX_KEY_LENGTH = 250;

/** The part of the event bus the cache uses: emit only when someone listens. */
export interface CacheEventSink {
  hasListeners(event: CacheEventName): boolean;
  emit(event: CacheEventName, payload: CacheEventPayload): unknown;
}

/**
 * Wraps the computation of a missing `remember` value. The in-process single flight
 * already runs the factory once per process; a distributed lock (stampede protection
 * across processes) plugs in here: acquire a lock on `key`, call `recheck` (another
 * process may have stored the value meanwhile), else `compute`.
 */
export type RememberGuard = <T>(
  key: string,
  compute: () => Promise<T>,
  recheck: () => Promise<T | undefined>,
) => Promise<T>;

export interface CacheOptions {
  store: CacheStore;
  /** Prepended to every key (`keel:data:`); flush() deletes only keys under it. */
  prefix?: string;
  /** The TTL of writes that give none (default: no expiry). */
  defaultTtl?: Ttl;
  /** The pool name events carry. */
  pool?: string;
  /** Where hit/miss/write/delete events go (the app's event bus). */
  events?: CacheEventSink;
  guard?: RememberGuard;
}

const ttlMemo = new Map<string, number>();

/**
 * A cache over one store, with a key prefix: the object `app.make('cache').pool('data')`
 * returns. Every method is async; on the memory store reads complete without awaiting
 * the store, so a hit costs one map lookup and one resolved promise.
 *
 * @example
 * ```ts
 * const cache = app.make('cache').pool('data');
 * await cache.set('user:1', user, '10m');
 * const stats = await cache.remember('stats', 60, () => computeStats());
 * const tenant = cache.namespace('tenant:42');
 * await tenant.flush(); // only tenant 42's keys
 * ```
 */
export class Cache {
  readonly #store: CacheStore;
  readonly #prefix: string;
  readonly #defaultTtlMs: number | undefined;
  readonly #options: CacheOptions;
  readonly #events: CacheEventSink | undefined;
  /** remember() computations in flight, by full key: the single flight. */
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: CacheOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#prefix = options.prefix ?? '';
    this.#events = options.events;
    this.#defaultTtlMs = options.defaultTtl === undefined ? undefined : ttlMs(options.defaultTtl);
  }

  /** The store underneath (for tiers, diagnostics and raw entry access). */
  get store(): CacheStore {
    return this.#store;
  }

  /** The key prefix of this cache (pool prefix plus namespaces). */
  get prefix(): string {
    return this.#prefix;
  }

  /**
   * A cache whose keys live under `name` inside this one: `flush()` on it clears only them.
   *
   * @example
   * ```ts
   * const tenant = cache.namespace(`tenant:${tenantId}`);
   * ```
   */
  namespace(name: string): Cache {
    checkKey(name);
    return new Cache({ ...this.#options, prefix: `${this.#prefix}${name}:` });
  }

  /**
   * The value of `key`, or `fallback` (a value, or a function called) when it is missing.
   * A cached `null` is returned as `null`: only a missing key falls back.
   *
   * @example
   * ```ts
   * const user = await cache.get<User>('user:1');
   * const theme = await cache.get('theme', 'light');
   * ```
   */
  get<T = unknown>(key: string): Promise<T | undefined>;
  get<T>(key: string, fallback: T | (() => Awaitable<T>)): Promise<T>;
  get(key: string, fallback?: unknown): Promise<unknown> {
    let found: unknown;
    try {
      found = this.#store.get(this.#key(key));
    } catch (error) {
      return Promise.reject(error);
    }
    if (found instanceof Promise) return found.then((value) => this.#answer(key, value, fallback));
    if (found !== undefined && this.#events === undefined) return Promise.resolve(found);
    return Promise.resolve(this.#answer(key, found, fallback));
  }

  /** True when `key` holds a value (null included). */
  async has(key: string): Promise<boolean> {
    return (await this.#store.get(this.#key(key))) !== undefined;
  }

  /**
   * Store `value` for `ttl` (seconds or a duration string; default: the pool's default,
   * else forever). A TTL of 0 deletes the key instead.
   *
   * @example
   * ```ts
   * await cache.set('report', report, '1h');
   * ```
   */
  async set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    const full = this.#key(key);
    checkValue(key, value);
    const ms = this.#ttl(ttl);
    if (ms === 0) {
      await this.#store.delete(full);
      return;
    }
    await this.#store.set(full, value, ms);
    this.#emit('cache.written', key);
  }

  /** Store `value` only when `key` is missing; true when it was stored (atomic per store). */
  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    const full = this.#key(key);
    checkValue(key, value);
    const ms = this.#ttl(ttl);
    if (ms === 0) return false;
    const added = await this.#store.add(full, value, ms);
    if (added) this.#emit('cache.written', key);
    return added;
  }

  /** Delete `key`; true when it existed. */
  async delete(key: string): Promise<boolean> {
    const deleted = await this.#store.delete(this.#key(key));
    if (deleted) this.#emit('cache.deleted', key);
    return deleted;
  }

  /** The value of `key` (or undefined), deleting it. */
  async pull<T = unknown>(key: string): Promise<T | undefined> {
    const value = await this.get<T>(key);
    if (value !== undefined) await this.delete(key);
    return value;
  }

  /**
   * The values of `keys` as an object (undefined for missing keys), in one store round trip.
   *
   * @example
   * ```ts
   * const { a, b } = await cache.many(['a', 'b']);
   * ```
   */
  async many<T = unknown>(keys: readonly string[]): Promise<Record<string, T | undefined>> {
    const values = await this.#store.getMany(keys.map((key) => this.#key(key)));
    if (this.#events !== undefined)
      for (const [i, key] of keys.entries())
        this.#emit(values[i] === undefined ? 'cache.miss' : 'cache.hit', key);
    // fromEntries defines own properties: a key named "__proto__" stays a key.
    return Object.fromEntries(keys.map((key, i) => [key, values[i] as T | undefined]));
  }

  /** Store several values with one TTL, in one store round trip. */
  async setMany(
    values: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    ttl?: Ttl,
  ): Promise<void> {
    const entries =
      Symbol.iterator in values
        ? [...(values as Iterable<readonly [string, unknown]>)]
        : Object.entries(values);
    const full = entries.map(([key, value]) => {
      checkValue(key, value);
      return [this.#key(key), value] as const;
    });
    const ms = this.#ttl(ttl);
    if (ms === 0) {
      for (const [key] of full) await this.#store.delete(key);
      return;
    }
    await this.#store.setMany(full, ms);
    for (const [key] of entries) this.#emit('cache.written', key);
  }

  /**
   * Add `by` (default 1) to an integer value atomically; a missing key counts from 0.
   *
   * @example
   * ```ts
   * const views = await cache.increment(`views:${postId}`);
   * ```
   */
  async increment(key: string, by = 1): Promise<number> {
    const full = this.#key(key);
    if (!Number.isSafeInteger(by))
      throw new E_CACHE_INVALID_VALUE(key, `increment by ${String(by)}: not an integer`);
    const value = await this.#store.increment(full, by);
    this.#emit('cache.written', key);
    return value;
  }

  /** Subtract `by` (default 1) atomically; see {@link increment}. */
  decrement(key: string, by = 1): Promise<number> {
    return this.increment(key, -by);
  }

  /** Delete every key of this cache (its prefix), leaving other pools and namespaces alone. */
  async flush(): Promise<void> {
    await this.#store.flush(this.#prefix);
  }

  /**
   * The cached value of `key`, else `factory()`'s, stored for `ttl`. Concurrent callers in
   * this process share one factory call (single flight); when it throws, nothing is
   * stored and every waiter gets the error. A factory returning undefined stores nothing.
   *
   * @example
   * ```ts
   * const rates = await cache.remember('fx:rates', '10m', () => fetchRates());
   * ```
   */
  async remember<T>(key: string, ttl: Ttl | undefined, factory: () => Awaitable<T>): Promise<T> {
    const full = this.#key(key);
    const pending = this.#inflight.get(full);
    if (pending !== undefined) return pending as Promise<T>;
    const ms = ttl === undefined ? this.#defaultTtlMs : ttlMs(ttl);
    const found = this.#store.get(full);
    if (found instanceof Promise) {
      // The read joins the flight too: callers arriving while it runs share it, so a
      // failing factory is not run again by callers whose read was still pending.
      return this.#fly(
        full,
        found.then((value) =>
          value !== undefined ? this.#hit(key, value as T) : this.#compute(full, key, ms, factory),
        ),
      );
    }
    if (found !== undefined) return this.#hit(key, found as T);
    return this.#fly(full, this.#compute(full, key, ms, factory));
  }

  #hit<T>(key: string, value: T): T {
    if (this.#events !== undefined) this.#emit('cache.hit', key);
    return value;
  }

  /** Run a missing value's factory (through the guard, if any) and store its result. */
  #compute<T>(
    full: string,
    key: string,
    ms: number | undefined,
    factory: () => Awaitable<T>,
  ): Promise<T> {
    this.#emit('cache.miss', key);
    const compute = async (): Promise<T> => {
      const value = await factory();
      if (value !== undefined && ms !== 0) {
        await this.#store.set(full, value, ms);
        this.#emit('cache.written', key);
      }
      return value;
    };
    const guard = this.#options.guard;
    return guard
      ? guard(full, compute, async () => (await this.#store.get(full)) as T | undefined)
      : compute();
  }

  /** Register `run` as the flight for `full` until it settles. */
  #fly<T>(full: string, run: Promise<T>): Promise<T> {
    this.#inflight.set(full, run);
    const release = (): void => {
      if (this.#inflight.get(full) === run) this.#inflight.delete(full);
    };
    run.then(release, release);
    return run;
  }

  /** {@link remember} without expiry. */
  rememberForever<T>(key: string, factory: () => Awaitable<T>): Promise<T> {
    return this.remember(key, Number.POSITIVE_INFINITY, factory);
  }

  #answer(key: string, value: unknown, fallback: unknown): unknown {
    if (value !== undefined) {
      this.#emit('cache.hit', key);
      return value;
    }
    this.#emit('cache.miss', key);
    return typeof fallback === 'function' ? (fallback as () => unknown)() : fallback;
  }

  #key(key: string): string {
    checkKey(key);
    return this.#prefix === '' ? key : this.#prefix + key;
  }

  #ttl(ttl: Ttl | undefined): number | undefined {
    return ttl === undefined ? this.#defaultTtlMs : ttlMs(ttl);
  }

  #emit(event: CacheEventName, key: string): void {
    const events = this.#events;
    if (events === undefined || !events.hasListeners(event)) return;
    void events.emit(event, { pool: this.#options.pool ?? 'default', key, prefix: this.#prefix });
  }
}

/** Throw E_CACHE_INVALID_KEY unless `key` is a usable key. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string')
    throw new E_CACHE_INVALID_KEY(String(key), `expected a string, got ${typeof key}`);
  if (key.length === 0) throw new E_CACHE_INVALID_KEY(key, 'it is empty');
  if (key.length > MAX_KEY_LENGTH)
    throw new E_CACHE_INVALID_KEY(
      key,
      `it is ${key.length} characters long (at most ${MAX_KEY_LENGTH})`,
    );
  // PostgreSQL text cannot hold NUL, and C-string tools truncate at it: refused everywhere.
  if (key.includes('\0'))
    throw new E_CACHE_INVALID_KEY(key.replaceAll('\0', '\\0'), 'it contains a NUL character');
}

function checkValue(key: string, value: unknown): void {
  if (value === undefined)
    throw new E_CACHE_INVALID_VALUE(key, 'undefined cannot be cached (delete the key instead)');
  if (typeof value === 'function' || typeof value === 'symbol')
    throw new E_CACHE_INVALID_VALUE(key, `a ${typeof value} cannot be cached`);
}

/** A TTL in milliseconds: undefined for infinity (no expiry), 0 for "expire now". */
export function ttlMs(ttl: Ttl): number | undefined {
  if (typeof ttl === 'number') {
    if (ttl === Number.POSITIVE_INFINITY) return undefined;
    if (!Number.isFinite(ttl) || ttl < 0) throw new E_CACHE_INVALID_TTL(String(ttl));
    return ttl * 1000;
  }
  if (typeof ttl !== 'string') throw new E_CACHE_INVALID_TTL(String(ttl));
  const known = ttlMemo.get(ttl);
  if (known !== undefined) return known;
  // A bare number in a string is seconds, as a number TTL is (parseDuration reads ms).
  let ms: number;
  try {
    ms = /^\s*\d+(\.\d+)?\s*$/.test(ttl) ? Number(ttl) * 1000 : parseDuration(ttl);
  } catch (error) {
    if (error instanceof E_INVALID_DURATION) throw new E_CACHE_INVALID_TTL(JSON.stringify(ttl));
    throw error;
  }
  if (ttlMemo.size < 1024) ttlMemo.set(ttl, ms);
  return ms;
}
