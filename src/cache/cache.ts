import { performance } from 'node:perf_hooks';
import type { Awaitable } from '../support/index.js';
import type { CacheEventName, CacheEventPayload } from './cache-events.js';
import { type CacheCall, type CacheOperation, cacheObserver } from './cache-observer.js';
import {
  checkKey,
  checkValue,
  durationMs,
  type RememberOptions,
  type ResolvedWrite,
  resolveWrite,
  type Ttl,
  ttlMs,
  type WriteOptions,
} from './cache-options.js';
import { CacheStats } from './cache-stats.js';
import { type Envelope, envelope, isEnvelope } from './entry-envelope.js';
import { E_CACHE_FACTORY_TIMEOUT, E_CACHE_INVALID_VALUE } from './errors.js';
import type { CacheStore } from './store.js';
import { TagIndex, type TagStamp } from './tag-index.js';

export {
  checkKey,
  MAX_KEY_LENGTH,
  type RememberOptions,
  type Ttl,
  ttlMs,
  type WriteOptions,
} from './cache-options.js';

/** The part of the event bus the cache uses: emit only when someone listens. */
export interface CacheEventSink {
  hasListeners(event: CacheEventName): boolean;
  emit(event: CacheEventName, payload: CacheEventPayload): unknown;
}

/** Where store outages are reported (the app's pino logger fits). */
export interface CacheLogger {
  warn(fields: object, message: string): void;
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
  /** The pool's counters (namespaces share their pool's); default: a fresh one. */
  stats?: CacheStats;
  /**
   * When the store is unreachable (E_CACHE_STORE_UNAVAILABLE, a lost database connection):
   * true (default) answers reads as misses and skips writes, logging and counting the
   * failure, so request handlers keep working on the factory's values; false throws.
   */
  failOpen?: boolean;
  /** Where outages are logged (at most one line per pool every 10 s). */
  logger?: CacheLogger;
  /** The clock grace periods are measured against (default `Date.now`). */
  now?: () => number;
}

/** A remember() computation in flight, and the stale value to serve while it runs. */
interface Flight {
  readonly run: Promise<unknown>;
  readonly stale?: { value: unknown };
}

const OUTAGE_CODES = new Set([
  'E_CACHE_STORE_UNAVAILABLE',
  'E_DB_CONNECTION_LOST',
  'E_DB_CONNECTION_FAILED',
]);
const LOG_EVERY_MS = 10_000;
/** What an observed `get` asks for instead of the caller's fallback, to tell a miss. */
const MISSING: unique symbol = Symbol('cache.missing');

/**
 * A cache over one store, with a key prefix: the object `app.make('cache').pool('data')`
 * returns. Every method is async; on the memory store reads complete without awaiting
 * the store, so a hit costs one map lookup and one resolved promise.
 *
 * Beyond get/set: tags (hierarchical and wildcard invalidation, see {@link TagIndex}),
 * grace periods (serve stale while one caller refreshes), factory timeouts, single-flight
 * `remember` (and across processes through the guard), fail-open on store outages, and
 * per-pool statistics.
 *
 * @example
 * ```ts
 * const cache = app.make('cache').pool('data');
 * await cache.set('user:1', user, '10m');
 * const stats = await cache.remember('stats', 60, () => computeStats());
 * const list = await cache.remember('products:page:1', { ttl: '5m', tags: ['catalog:products'] }, load);
 * await cache.invalidateTags(['catalog:products']);
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
  readonly #stats: CacheStats;
  readonly #now: () => number;
  readonly #failOpen: boolean;
  /** Whether store calls leave the process (their latency is worth measuring). */
  readonly #remote: boolean;
  /** remember() computations in flight, by full key: the single flight. */
  readonly #inflight = new Map<string, Flight>();
  #tags: TagIndex | undefined;
  #lastLog = 0;
  #unlogged = 0;

  constructor(options: CacheOptions) {
    this.#store = options.store;
    this.#prefix = options.prefix ?? '';
    this.#events = options.events;
    this.#stats =
      options.stats ??
      new CacheStats(
        options.pool ?? 'default',
        options.store.driver,
        () => options.store.evictions ?? 0,
      );
    // Namespaces made from this cache count into the same stats.
    this.#options = { ...options, stats: this.#stats };
    this.#now = options.now ?? Date.now;
    this.#failOpen = options.failOpen ?? true;
    this.#remote = options.store.driver !== 'memory';
    this.#defaultTtlMs = options.defaultTtl === undefined ? undefined : ttlMs(options.defaultTtl);
  }

  /** The store underneath (for tiers, diagnostics and raw entry access). */
  get store(): CacheStore {
    return this.#store;
  }

  /** The pool's hit, miss, write, error and latency counters. */
  get stats(): CacheStats {
    return this.#stats;
  }

  /** The key prefix of this cache (pool prefix plus namespaces). */
  get prefix(): string {
    return this.#prefix;
  }

  /**
   * A cache whose keys live under `name` inside this one: `flush()` on it clears only them,
   * and its tags are its own.
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
   * This cache with `tags` applied to every write (`set`, `add`, `remember`, ...), the
   * tags of each call's options added to them.
   *
   * @example
   * ```ts
   * const products = cache.tags(['catalog:products']);
   * await products.remember('page:1', '5m', () => listProducts(1));
   * ```
   */
  tags(tags: readonly string[]): TaggedCache {
    return new TaggedCache(this, tags);
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
    if (cacheObserver === undefined) return this.#get(key, fallback);
    return this.#observe('get', key, (call) =>
      this.#get(key, MISSING).then((value) => {
        call.hit = value !== MISSING;
        if (call.hit) return value;
        return typeof fallback === 'function' ? (fallback as () => unknown)() : fallback;
      }),
    );
  }

  #get(key: string, fallback: unknown): Promise<unknown> {
    let full = '';
    let found: unknown;
    const started = this.#remote ? performance.now() : 0;
    try {
      full = this.#key(key);
      found = this.#store.get(full);
    } catch (error) {
      return this.#readFailed(error).then(() => this.#answer(key, undefined, fallback));
    }
    if (found instanceof Promise) {
      return found.then(
        (value) => {
          this.#stats.observe(performance.now() - started);
          return this.#settle(full, key, value, fallback);
        },
        (error: unknown) =>
          this.#readFailed(error).then(() => this.#answer(key, undefined, fallback)),
      );
    }
    if (found !== undefined && this.#events === undefined && !isEnvelope(found)) {
      this.#stats.hits++;
      return Promise.resolve(found);
    }
    return Promise.resolve(this.#settle(full, key, found, fallback));
  }

  /** True when `key` holds a fresh value (null included). */
  has(key: string): Promise<boolean> {
    if (cacheObserver === undefined) return this.#has(key);
    return this.#observe('has', key, async (call) => {
      call.hit = await this.#has(key);
      return call.hit;
    });
  }

  async #has(key: string): Promise<boolean> {
    return (await this.#read(this.#key(key))) !== undefined;
  }

  /**
   * Store `value` for `ttl` (seconds or a duration string; default: the pool's default,
   * else forever), or with {@link WriteOptions} (ttl, tags, grace). A TTL of 0 deletes the
   * key instead.
   *
   * @example
   * ```ts
   * await cache.set('report', report, '1h');
   * await cache.set('product:42', product, { ttl: '10m', tags: ['catalog:products:42'] });
   * ```
   */
  set(key: string, value: unknown, ttl?: Ttl | WriteOptions): Promise<void> {
    if (cacheObserver === undefined) return this.#set(key, value, ttl);
    return this.#observe('set', key, () => this.#set(key, value, ttl));
  }

  async #set(key: string, value: unknown, ttl?: Ttl | WriteOptions): Promise<void> {
    const full = this.#key(key);
    checkValue(key, value);
    const write = resolveWrite(ttl, this.#defaultTtlMs);
    if (write.ttlMs === 0) {
      await this.#guarded(() => this.#store.delete(full), undefined);
      return;
    }
    const stamp = await this.#stamp(write);
    if (stamp !== null) await this.#write(full, key, value, write, stamp);
  }

  /** Store `value` only when `key` is missing; true when it was stored (atomic per store). */
  add(key: string, value: unknown, ttl?: Ttl | WriteOptions): Promise<boolean> {
    if (cacheObserver === undefined) return this.#add(key, value, ttl);
    return this.#observe('add', key, () => this.#add(key, value, ttl));
  }

  async #add(key: string, value: unknown, ttl?: Ttl | WriteOptions): Promise<boolean> {
    const full = this.#key(key);
    checkValue(key, value);
    const write = resolveWrite(ttl, this.#defaultTtlMs);
    if (write.ttlMs === 0) return false;
    const stamp = await this.#stamp(write);
    if (stamp === null) return false;
    const stored = this.#wrap(value, write, stamp);
    const added = await this.#guarded(
      () => this.#store.add(full, stored, physicalTtl(write)),
      false,
    );
    if (added) this.#written(key);
    return added;
  }

  /** Delete `key`; true when it existed (false when the store is down and failOpen). */
  delete(key: string): Promise<boolean> {
    if (cacheObserver === undefined) return this.#delete(key);
    return this.#observe('delete', key, () => this.#delete(key));
  }

  async #delete(key: string): Promise<boolean> {
    const deleted = await this.#guarded(() => this.#store.delete(this.#key(key)), false);
    if (deleted) {
      this.#stats.deletes++;
      this.#emit('cache.deleted', key);
    }
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
  many<T = unknown>(keys: readonly string[]): Promise<Record<string, T | undefined>> {
    if (cacheObserver === undefined) return this.#many<T>(keys);
    return this.#observe('many', undefined, () => this.#many<T>(keys));
  }

  async #many<T>(keys: readonly string[]): Promise<Record<string, T | undefined>> {
    const full = keys.map((key) => this.#key(key));
    const raw = await this.#guarded(
      () => this.#store.getMany(full),
      keys.map(() => undefined),
      true,
    );
    const values = await Promise.all(raw.map((value, i) => this.#unwrap(full[i] as string, value)));
    for (const [i, key] of keys.entries()) {
      if (values[i] === undefined) this.#missed(key);
      else this.#hit(key, undefined);
    }
    // fromEntries defines own properties: a key named "__proto__" stays a key.
    return Object.fromEntries(keys.map((key, i) => [key, values[i] as T | undefined]));
  }

  /** Store several values with one TTL (or options), in one store round trip. */
  setMany(
    values: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    ttl?: Ttl | WriteOptions,
  ): Promise<void> {
    if (cacheObserver === undefined) return this.#setMany(values, ttl);
    return this.#observe('setMany', undefined, () => this.#setMany(values, ttl));
  }

  async #setMany(
    values: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    ttl?: Ttl | WriteOptions,
  ): Promise<void> {
    const entries =
      Symbol.iterator in values
        ? [...(values as Iterable<readonly [string, unknown]>)]
        : Object.entries(values);
    const write = resolveWrite(ttl, this.#defaultTtlMs);
    const stamp = await this.#stamp(write);
    if (stamp === null) return;
    const full = entries.map(([key, value]) => {
      checkValue(key, value);
      return [this.#key(key), this.#wrap(value, write, stamp)] as const;
    });
    if (write.ttlMs === 0) {
      for (const [key] of full) await this.#guarded(() => this.#store.delete(key), false);
      return;
    }
    const ok = await this.#guarded(async () => {
      await this.#store.setMany(full, physicalTtl(write));
      return true;
    }, false);
    if (ok) for (const [key] of entries) this.#written(key);
  }

  /**
   * Add `by` (default 1) to an integer value atomically; a missing key counts from 0.
   * Throws when the store is down, even with failOpen: there is no value to make up.
   *
   * @example
   * ```ts
   * const views = await cache.increment(`views:${postId}`);
   * ```
   */
  increment(key: string, by = 1): Promise<number> {
    if (cacheObserver === undefined) return this.#increment(key, by);
    return this.#observe('increment', key, () => this.#increment(key, by));
  }

  async #increment(key: string, by: number): Promise<number> {
    const full = this.#key(key);
    if (!Number.isSafeInteger(by))
      throw new E_CACHE_INVALID_VALUE(key, `increment by ${String(by)}: not an integer`);
    const value = await this.#store.increment(full, by);
    this.#written(key);
    return value;
  }

  /** Subtract `by` (default 1) atomically; see {@link increment}. */
  decrement(key: string, by = 1): Promise<number> {
    return this.increment(key, -by);
  }

  /** Delete every key of this cache (its prefix), leaving other pools and namespaces alone. */
  async flush(): Promise<void> {
    if (cacheObserver === undefined) return this.#store.flush(this.#prefix);
    return this.#observe('flush', undefined, async () => this.#store.flush(this.#prefix));
  }

  /**
   * Invalidate every entry of this cache tagged with one of `tags` or with a tag below one
   * (`catalog:products` reaches `catalog:products:42`); a `*` segment is a wildcard for one
   * segment (`tenant:*:products`). Entries are not scanned: each reads as a miss from now
   * on and is deleted when next read (or when its TTL ends).
   *
   * @example
   * ```ts
   * await cache.invalidateTags([`catalog:products:${product.id}`]);
   * ```
   */
  invalidateTags(tags: readonly string[]): Promise<void> {
    const index = this.#tagIndex();
    const run = () => this.#guarded(() => index.invalidate(tags), undefined);
    return cacheObserver === undefined ? run() : this.#observe('invalidateTags', undefined, run);
  }

  /**
   * The cached value of `key`, else `factory()`'s, stored for `ttl` (or with
   * {@link RememberOptions}: tags, grace, timeout, hardTimeout). Concurrent callers in this
   * process share one factory call (single flight), and the guard extends that across
   * processes; when the factory throws, nothing is stored and every waiter gets the error.
   * A factory returning undefined stores nothing.
   *
   * With a grace period, a value past its TTL is stale: the first caller refreshes it and
   * the others get the stale value at once; the refreshing caller gets it too when the
   * factory throws or outlasts `timeout`.
   *
   * @example
   * ```ts
   * const rates = await cache.remember('fx:rates', '10m', () => fetchRates());
   * const feed = await cache.remember('feed', { ttl: '1m', grace: '1h', timeout: '300ms' }, fetchFeed);
   * ```
   */
  remember<T>(
    key: string,
    ttl: Ttl | RememberOptions | undefined,
    factory: () => Awaitable<T>,
  ): Promise<T> {
    if (cacheObserver === undefined) return this.#remember(key, ttl, factory);
    return this.#observe('remember', key, (call) =>
      this.#remember(key, ttl, () => {
        call.hit = false;
        return factory();
      }).then((value) => {
        call.hit ??= true;
        return value;
      }),
    );
  }

  #remember<T>(
    key: string,
    ttl: Ttl | RememberOptions | undefined,
    factory: () => Awaitable<T>,
  ): Promise<T> {
    let full: string;
    try {
      full = this.#key(key);
    } catch (error) {
      return Promise.reject(error);
    }
    const flight = this.#inflight.get(full);
    if (flight !== undefined) {
      if (flight.stale === undefined) return this.#bounded(full, flight.run as Promise<T>, ttl);
      this.#stats.stale++;
      return Promise.resolve(flight.stale.value as T);
    }
    const started = this.#remote ? performance.now() : 0;
    let found: unknown;
    try {
      found = this.#store.get(full);
    } catch (error) {
      return this.#readFailed(error).then(() =>
        this.#decide<T>(full, key, undefined, ttl, factory, false),
      );
    }
    // The hot path: a plain hit answered synchronously costs a lookup and a resolved promise.
    if (found !== undefined && !(found instanceof Promise) && !isEnvelope(found))
      return Promise.resolve(this.#hit(key, found as T));
    if (found instanceof Promise) {
      // The read joins the flight too: callers arriving while it runs share it, so a
      // failing factory is not run again by callers whose read was still pending.
      const run = found.then(
        (value) => {
          this.#stats.observe(performance.now() - started);
          return this.#decide<T>(full, key, value, ttl, factory, true);
        },
        async (error: unknown) => {
          await this.#readFailed(error);
          return this.#decide<T>(full, key, undefined, ttl, factory, true);
        },
      );
      return this.#bounded(full, this.#fly(full, run), ttl);
    }
    return this.#decide<T>(full, key, found, ttl, factory, false);
  }

  /** {@link remember} without expiry. */
  rememberForever<T>(key: string, factory: () => Awaitable<T>): Promise<T> {
    return this.remember(key, Number.POSITIVE_INFINITY, factory);
  }

  /**
   * What remember does with what the store holds: hit, stale refresh, or compute. `owner`:
   * this call already is the flight for `full` (its store read was asynchronous).
   */
  async #decide<T>(
    full: string,
    key: string,
    found: unknown,
    ttl: Ttl | RememberOptions | undefined,
    factory: () => Awaitable<T>,
    owner: boolean,
  ): Promise<T> {
    if (found !== undefined && !isEnvelope(found)) return this.#hit(key, found as T);
    // No await before the flight is registered when nothing was found: 1,000 concurrent
    // callers of a missing key see the first one's flight.
    const entry = found === undefined ? undefined : await this.#check(full, found as Envelope);
    if (entry !== undefined && !entry.stale) return this.#hit(key, entry.value as T);
    const write = resolveWrite(ttl, this.#defaultTtlMs);
    if (entry !== undefined)
      return this.#refresh(full, key, entry.value as T, write, ttl, factory, owner);
    if (owner) return this.#compute(full, key, write, factory);
    // Another caller may have started the flight while this one checked the entry's tags.
    const flight = this.#inflight.get(full);
    if (flight !== undefined) return this.#bounded(full, flight.run as Promise<T>, ttl);
    return this.#bounded(full, this.#fly(full, this.#compute(full, key, write, factory)), ttl);
  }

  /**
   * A stale value within its grace period: this caller refreshes it (others get the stale
   * value meanwhile); a failing or slow (past `timeout`) factory answers with the stale one.
   */
  async #refresh<T>(
    full: string,
    key: string,
    stale: T,
    write: ResolvedWrite,
    ttl: Ttl | RememberOptions | undefined,
    factory: () => Awaitable<T>,
    owner: boolean,
  ): Promise<T> {
    const fallback = (): T => {
      this.#stats.stale++;
      return stale;
    };
    let run: Promise<T>;
    if (owner) run = this.#compute(full, key, write, factory);
    else if (this.#inflight.has(full)) return fallback();
    else run = this.#fly(full, this.#compute(full, key, write, factory), { value: stale });
    const refreshed = run.catch((error: unknown) => {
      this.#log(error, 'cache: refreshing a stale value failed; serving it within its grace');
      return fallback();
    });
    const timeout =
      typeof ttl === 'object' && ttl?.timeout !== undefined ? durationMs(ttl.timeout) : undefined;
    return timeout === undefined ? refreshed : raceTimer(refreshed, timeout, fallback);
  }

  /** Run a missing value's factory (through the guard, if any) and store its result. */
  #compute<T>(
    full: string,
    key: string,
    write: ResolvedWrite,
    factory: () => Awaitable<T>,
  ): Promise<T> {
    this.#missed(key);
    const compute = async (): Promise<T> => {
      // Versions read before the factory runs: an invalidation during it makes this stale.
      const stamp = await this.#stamp(write);
      this.#stats.factoryCalls++;
      const value = await factory();
      if (value !== undefined && write.ttlMs !== 0 && stamp !== null)
        await this.#write(full, key, value, write, stamp);
      return value;
    };
    const guard = this.#options.guard;
    return guard
      ? guard(full, compute, async () => {
          const entry = await this.#read(full);
          return entry as T | undefined;
        })
      : compute();
  }

  /** Register `run` as the flight for `full` until it settles. */
  #fly<T>(full: string, run: Promise<T>, stale?: { value: unknown }): Promise<T> {
    const flight: Flight = stale === undefined ? { run } : { run, stale };
    this.#inflight.set(full, flight);
    const release = (): void => {
      if (this.#inflight.get(full) === flight) this.#inflight.delete(full);
    };
    run.then(release, release);
    return run;
  }

  /** `run`, or E_CACHE_FACTORY_TIMEOUT past the caller's hardTimeout (run goes on). */
  #bounded<T>(full: string, run: Promise<T>, ttl: Ttl | RememberOptions | undefined): Promise<T> {
    if (typeof ttl !== 'object' || ttl?.hardTimeout === undefined) return run;
    const ms = durationMs(ttl.hardTimeout);
    return raceTimer(run, ms, () => {
      throw new E_CACHE_FACTORY_TIMEOUT(full.slice(this.#prefix.length), ms);
    });
  }

  /**
   * The tag versions a write records (undefined without tags); null when the store is down
   * and failOpen: the write is then skipped, as any write is.
   */
  async #stamp(write: ResolvedWrite): Promise<TagStamp | undefined | null> {
    const tags = write.tags;
    if (tags === undefined) return undefined;
    const index = this.#tagIndex();
    return this.#guarded<TagStamp | null>(() => index.stamp(tags), null, true);
  }

  /** Write `value` (wrapped when it has tags or grace), counting and emitting. */
  async #write(
    full: string,
    key: string,
    value: unknown,
    write: ResolvedWrite,
    stamp: TagStamp | undefined,
  ): Promise<void> {
    const stored = this.#wrap(value, write, stamp);
    const ok = await this.#guarded(async () => {
      await this.#store.set(full, stored, physicalTtl(write));
      return true;
    }, false);
    if (ok) this.#written(key);
  }

  #wrap(value: unknown, write: ResolvedWrite, stamp: TagStamp | undefined): unknown {
    const grace = write.graceMs !== undefined && write.ttlMs !== undefined;
    if (stamp === undefined && !grace) return value;
    return envelope(value, {
      ...(grace ? { x: this.#now() + (write.ttlMs as number) } : {}),
      ...(stamp ?? {}),
    });
  }

  /** The fresh value at `full` (envelopes checked), or undefined; store outages read as a miss. */
  async #read(full: string): Promise<unknown> {
    const raw = await this.#guarded(() => this.#store.get(full), undefined, true);
    return this.#unwrap(full, raw);
  }

  /** A stored value without its envelope; undefined when invalidated or past its TTL. */
  #unwrap(full: string, raw: unknown): Awaitable<unknown> {
    if (!isEnvelope(raw)) return raw;
    const checked = this.#check(full, raw);
    const fresh = (entry: { value: unknown; stale: boolean } | undefined) =>
      entry === undefined || entry.stale ? undefined : entry.value;
    return checked instanceof Promise ? checked.then(fresh) : fresh(checked);
  }

  /**
   * An envelope's value and whether it is stale (past its TTL, within grace); undefined
   * when a tag was invalidated since it was written (the entry is then deleted).
   */
  #check(full: string, entry: Envelope): Awaitable<{ value: unknown; stale: boolean } | undefined> {
    const result = { value: entry.v, stale: entry.x !== undefined && entry.x <= this.#now() };
    if (entry.tc === undefined) return result;
    const fresh = this.#tagIndex().isFresh(entry);
    const decide = (ok: boolean) => {
      if (ok) return result;
      // Invalidated: drop it now rather than at its TTL (best effort).
      void this.#guarded(() => this.#store.delete(full), false).catch(() => {});
      return undefined;
    };
    return fresh instanceof Promise ? fresh.then(decide, () => undefined) : decide(fresh);
  }

  /** get()'s answer for what the store held. */
  #settle(full: string, key: string, raw: unknown, fallback: unknown): Awaitable<unknown> {
    const value = this.#unwrap(full, raw);
    return value instanceof Promise
      ? value.then((v) => this.#answer(key, v, fallback))
      : this.#answer(key, value, fallback);
  }

  #answer(key: string, value: unknown, fallback: unknown): unknown {
    if (value !== undefined) return this.#hit(key, value);
    this.#missed(key);
    return typeof fallback === 'function' ? (fallback as () => unknown)() : fallback;
  }

  #hit<T>(key: string, value: T): T {
    this.#stats.hits++;
    if (this.#events !== undefined) this.#emit('cache.hit', key);
    return value;
  }

  #missed(key: string): void {
    this.#stats.misses++;
    this.#emit('cache.miss', key);
  }

  #written(key: string): void {
    this.#stats.writes++;
    this.#emit('cache.written', key);
  }

  /**
   * Run a store call; on an outage with failOpen, log, count and answer `fallback`. Other
   * errors (bad keys, values too large) always throw. `read` calls are timed.
   */
  async #guarded<R>(call: () => Awaitable<R>, fallback: R, read = false): Promise<R> {
    const started = read && this.#remote ? performance.now() : 0;
    try {
      const result = await call();
      if (started !== 0) this.#stats.observe(performance.now() - started);
      return result;
    } catch (error) {
      if (!this.#outage(error)) throw error;
      return fallback;
    }
  }

  /** A failed read: swallowed (as a miss) on an outage with failOpen, else rethrown. */
  async #readFailed(error: unknown): Promise<void> {
    if (!this.#outage(error)) throw error;
  }

  /** Count and log an outage; true when failOpen lets the caller carry on. */
  #outage(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !OUTAGE_CODES.has(code)) return false;
    this.#stats.errors++;
    if (!this.#failOpen) return false;
    this.#log(error, 'cache: store unavailable; serving without it (failOpen)');
    return true;
  }

  /** Log at most one line per LOG_EVERY_MS, with how many were held back. */
  #log(error: unknown, message: string): void {
    const logger = this.#options.logger;
    if (logger === undefined) return;
    const now = Date.now();
    if (now - this.#lastLog < LOG_EVERY_MS) {
      this.#unlogged++;
      return;
    }
    logger.warn(
      { err: error, pool: this.#options.pool ?? 'default', suppressed: this.#unlogged },
      message,
    );
    this.#lastLog = now;
    this.#unlogged = 0;
  }

  /** Run one call through the cache observer (tracing); only called when one is set. */
  #observe<R>(
    operation: CacheOperation,
    key: string | undefined,
    run: (call: CacheCall) => Promise<R>,
  ): Promise<R> {
    const call: CacheCall = {
      operation,
      pool: this.#options.pool ?? 'default',
      driver: this.#store.driver,
      key,
      hit: undefined,
    };
    return (cacheObserver as NonNullable<typeof cacheObserver>).observe(call, () => run(call));
  }

  #tagIndex(): TagIndex {
    this.#tags ??= new TagIndex(this.#store, this.#prefix);
    return this.#tags;
  }

  #key(key: string): string {
    checkKey(key);
    return this.#prefix === '' ? key : this.#prefix + key;
  }

  #emit(event: CacheEventName, key: string): void {
    const events = this.#events;
    if (events === undefined || !events.hasListeners(event)) return;
    void events.emit(event, { pool: this.#options.pool ?? 'default', key, prefix: this.#prefix });
  }
}

/**
 * A cache view that adds its tags to every write: `cache.tags([...])`. Reads need no
 * tags (an entry carries its own), so only the writing methods are here, plus
 * `invalidate()` for the view's own tags.
 *
 * @example
 * ```ts
 * const products = cache.tags(['catalog:products']);
 * await products.set('featured', list, '10m');
 * await products.invalidate();
 * ```
 */
export class TaggedCache {
  readonly #cache: Cache;
  readonly #tags: readonly string[];

  constructor(cache: Cache, tags: readonly string[]) {
    this.#cache = cache;
    this.#tags = tags;
  }

  set(key: string, value: unknown, ttl?: Ttl | WriteOptions): Promise<void> {
    return this.#cache.set(key, value, this.#with(ttl));
  }

  add(key: string, value: unknown, ttl?: Ttl | WriteOptions): Promise<boolean> {
    return this.#cache.add(key, value, this.#with(ttl));
  }

  setMany(
    values: Record<string, unknown> | Iterable<readonly [string, unknown]>,
    ttl?: Ttl | WriteOptions,
  ): Promise<void> {
    return this.#cache.setMany(values, this.#with(ttl));
  }

  remember<T>(
    key: string,
    ttl: Ttl | RememberOptions | undefined,
    factory: () => Awaitable<T>,
  ): Promise<T> {
    return this.#cache.remember(key, this.#with(ttl), factory);
  }

  /** Invalidate this view's tags. */
  invalidate(): Promise<void> {
    return this.#cache.invalidateTags(this.#tags);
  }

  #with<O extends WriteOptions>(ttl: Ttl | O | undefined): O {
    if (typeof ttl === 'object' && ttl !== null)
      return { ...ttl, tags: [...this.#tags, ...(ttl.tags ?? [])] };
    return { ...(ttl === undefined ? {} : { ttl }), tags: this.#tags } as O;
  }
}

/** How long the store keeps an entry: its TTL plus its grace. */
function physicalTtl(write: ResolvedWrite): number | undefined {
  if (write.ttlMs === undefined) return undefined;
  return write.graceMs === undefined ? write.ttlMs : write.ttlMs + write.graceMs;
}

/** `run`, or `onTimeout()`'s answer when `ms` pass first (the timer never holds the process). */
function raceTimer<T>(run: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
    timer.unref?.();
    run.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
