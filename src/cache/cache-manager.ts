import { isAbsolute, resolve } from 'node:path';
import type { Connection } from '../db/index.js';
import {
  Cache,
  type CacheEventSink,
  type CacheLogger,
  type RememberGuard,
  ttlMs,
} from './cache.js';
import type { CacheStatsSnapshot } from './cache-stats.js';
import {
  type CacheWarmerDefinition,
  CacheWarmers,
  type CacheWarmOptions,
  type CacheWarmResult,
} from './cache-warmers.js';
import type { CacheConfig, CacheStoreConfig } from './config.js';
import { E_CACHE_CONFIG_INVALID, E_CACHE_POOL_NOT_FOUND } from './errors.js';
import type { CacheStore } from './store.js';
import { FileStore } from './stores/file-store.js';
import { LazyStore } from './stores/lazy-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { TieredStore } from './stores/tiered-store.js';

export interface CacheManagerOptions {
  config: CacheConfig;
  /** The app root that relative store paths resolve against. */
  root: string;
  /** The database connection for `database` stores (by name; undefined = default). */
  connection?: (name: string | undefined) => Connection;
  events?: CacheEventSink;
  /** Where outages are logged (fail-open warnings, the tier bus's connection errors). */
  logger?: CacheLogger;
  /** Connection errors of stores and buses, for logging. */
  onStoreError?: (error: unknown) => void;
  guard?: RememberGuard;
}

/**
 * The named cache pools of an application (`config`, `runtime`, `views`, `data` and the
 * app's own), each a {@link Cache} with its store and prefix: `app.make('cache')`. A
 * pool's store is built on first use; Redis and database stores import their client
 * only then.
 *
 * @example
 * ```ts
 * const cache = app.make('cache');
 * await cache.pool('views').remember(`page:${slug}`, '5m', () => render(slug));
 * await cache.get('user:1'); // the default pool, `data`
 * ```
 */
export class CacheManager {
  readonly config: CacheConfig;
  readonly #options: CacheManagerOptions;
  readonly #pools = new Map<string, Cache>();
  /** Redis and database stores, shared by the pools that name them. */
  readonly #shared = new Map<string, CacheStore>();

  /** The warmers modules registered (see {@link CacheManager.warmer}). */
  readonly warmers: CacheWarmers;

  constructor(options: CacheManagerOptions) {
    this.config = options.config;
    this.#options = options;
    this.warmers = new CacheWarmers(() => this.names());
  }

  /** The pool names, framework ones first. */
  names(): string[] {
    return Object.keys(this.config.pools);
  }

  /**
   * A pool by name (default: `data`).
   *
   * @example
   * ```ts
   * const views = app.make('cache').pool('views');
   * ```
   */
  pool(name = 'data'): Cache {
    const existing = this.#pools.get(name);
    if (existing !== undefined) return existing;
    const config = this.config.pools[name];
    if (config === undefined || !Object.hasOwn(this.config.pools, name))
      throw new E_CACHE_POOL_NOT_FOUND(name, this.names());
    const storeName = config.store ?? this.config.default;
    const cache = new Cache({
      store: this.#store(storeName),
      prefix: `${this.config.prefix}:${config.prefix ?? name}:`,
      ...(config.ttl !== undefined ? { defaultTtl: config.ttl } : {}),
      pool: name,
      ...(this.#options.events ? { events: this.#options.events } : {}),
      ...(this.#options.logger ? { logger: this.#options.logger } : {}),
      ...(config.failOpen !== undefined ? { failOpen: config.failOpen } : {}),
      ...(this.#options.guard ? { guard: this.#options.guard } : {}),
    });
    this.#pools.set(name, cache);
    return cache;
  }

  /**
   * A fresh in-memory cache for one request or job, dropped with it: memoise what a
   * request computes several times without sharing it with the next one. The provider
   * binds one per container scope as `cache.scope`.
   *
   * @example
   * ```ts
   * const memo = ctx.container.make('cache.scope');
   * const user = await memo.remember('me', undefined, () => loadUser(ctx));
   * ```
   */
  scoped(): Cache {
    return new Cache({ store: new MemoryStore({ maxEntries: 1_000 }), pool: 'scope' });
  }

  /** The default pool's value of `key` (see {@link Cache.get}). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.pool().get<T>(key);
  }

  /** The counters of every pool used so far in this process. */
  stats(): CacheStatsSnapshot[] {
    return [...this.#pools.values()].map((cache) => cache.stats.snapshot());
  }

  /**
   * Register a cache warmer, run by `keel cache:warm` in registration order. Call it from a
   * provider's `boot()`; a duplicate name throws `E_CACHE_WARMER_DUPLICATE`.
   *
   * @example
   * ```ts
   * // modules/catalog/catalog-provider.ts
   * override boot() {
   *   this.app.make('cache').warmer({
   *     name: 'catalog:categories',
   *     pool: 'data',
   *     description: 'The category tree and each category page',
   *     async warm(cache, progress) {
   *       const categories = await listCategories();
   *       progress.total(categories.length);
   *       for (const c of categories) {
   *         await cache.set(`category:${c.id}`, c, '1h');
   *         progress.tick();
   *       }
   *     },
   *   });
   * }
   * ```
   */
  warmer(definition: CacheWarmerDefinition): void {
    this.warmers.add(definition);
  }

  /**
   * Run the registered warmers (all, one pool's, or the ones named), one after the other; a
   * failing warmer is reported in its result and the next one runs.
   *
   * @example
   * ```ts
   * const results = await app.make('cache').warm({ pool: 'views' });
   * const failed = results.filter((r) => !r.ok);
   * ```
   */
  warm(options: CacheWarmOptions = {}): Promise<CacheWarmResult[]> {
    return this.warmers.run((name) => this.pool(name), options);
  }

  /** Clear one pool, or every pool; returns the names cleared. */
  async clear(name?: string): Promise<string[]> {
    const names = name === undefined ? this.names() : [name];
    for (const pool of names) await this.pool(pool).flush();
    return names;
  }

  /** Remove expired entries from every store that keeps them (file, database). */
  async gc(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    const seen = new Set<CacheStore>();
    for (const name of this.names()) {
      const store = this.pool(name).store;
      if (seen.has(store) || store.driver === 'memory' || store.driver === 'redis') continue;
      seen.add(store);
      const storeName = this.config.pools[name]?.store ?? this.config.default;
      removed[storeName] = (removed[storeName] ?? 0) + ((await store.gc?.()) ?? 0);
    }
    return removed;
  }

  /** Close the stores' connections (Redis clients this manager opened). */
  async close(): Promise<void> {
    const stores = new Set([...this.#shared.values()]);
    this.#pools.clear();
    this.#shared.clear();
    for (const store of stores) await store.close?.();
  }

  #store(name: string): CacheStore {
    const config = this.config.stores[name] as CacheStoreConfig;
    switch (config.driver) {
      case 'memory':
        return new MemoryStore({
          maxEntries: config.maxEntries,
          ...(config.maxBytes !== undefined ? { maxBytes: config.maxBytes } : {}),
          ...(config.maxEntryBytes !== undefined ? { maxEntryBytes: config.maxEntryBytes } : {}),
        });
      case 'file': {
        const directory = isAbsolute(config.path)
          ? config.path
          : resolve(this.#options.root, config.path);
        return new FileStore({
          directory,
          ...(config.maxValueBytes !== undefined ? { maxValueBytes: config.maxValueBytes } : {}),
        });
      }
      case 'tiered': {
        let store = this.#shared.get(name);
        if (store === undefined) {
          store = this.#tiered(config);
          this.#shared.set(name, store);
        }
        return store;
      }
      case 'database':
      case 'redis': {
        let store = this.#shared.get(name);
        if (store === undefined) {
          store = new LazyStore(config.driver, () => this.#createShared(config));
          this.#shared.set(name, store);
        }
        return store;
      }
    }
  }

  /**
   * A memory L1 over the named L2 store (shared with pools that use it directly), kept
   * coherent across processes by a Redis bus that connects in the background.
   */
  #tiered(config: Extract<CacheStoreConfig, { driver: 'tiered' }>): TieredStore {
    const l2Config = this.config.stores[config.l2];
    const bus = config.bus;
    const url =
      (bus === false ? undefined : bus.url) ??
      (l2Config?.driver === 'redis' ? l2Config.url : undefined) ??
      (this.config.stores.redis?.driver === 'redis' ? this.config.stores.redis.url : undefined);
    const onError = this.#options.onStoreError;
    return new TieredStore({
      l1: new MemoryStore({
        maxEntries: config.l1.maxEntries,
        ...(config.l1.maxBytes !== undefined ? { maxBytes: config.l1.maxBytes } : {}),
        ...(config.l1.maxEntryBytes !== undefined
          ? { maxEntryBytes: config.l1.maxEntryBytes }
          : {}),
      }),
      l2: this.#store(config.l2),
      ...(config.l1.ttl !== undefined ? { l1TtlMs: ttlMs(config.l1.ttl) ?? 0 } : {}),
      ...(bus === false
        ? {}
        : {
            bus: import('./stores/redis-invalidation-bus.js').then(({ RedisInvalidationBus }) =>
              RedisInvalidationBus.connect({
                ...(url !== undefined ? { url } : {}),
                channel: bus.channel ?? `${this.config.prefix}:cache:invalidate`,
                ...(onError ? { onError } : {}),
              }),
            ),
          }),
      ...(onError ? { onError } : {}),
    });
  }

  async #createShared(config: CacheStoreConfig): Promise<CacheStore> {
    const limits =
      'maxValueBytes' in config && config.maxValueBytes !== undefined
        ? { maxValueBytes: config.maxValueBytes }
        : {};
    if (config.driver === 'redis') {
      const { RedisStore } = await import('./stores/redis-store.js');
      const onError = this.#options.onStoreError;
      return RedisStore.connect({
        url: config.url ?? 'redis://127.0.0.1:6379',
        ...limits,
        ...(config.commandTimeoutMs !== undefined
          ? { commandTimeoutMs: config.commandTimeoutMs }
          : {}),
        ...(config.connectTimeoutMs !== undefined
          ? { connectTimeoutMs: config.connectTimeoutMs }
          : {}),
        ...(onError ? { onError } : {}),
      });
    }
    if (config.driver !== 'database') throw new Error(`not a shared store: ${config.driver}`);
    const connect = this.#options.connection;
    // A configuration fault, not an outage: it must fail loudly even with failOpen.
    if (connect === undefined)
      throw new E_CACHE_CONFIG_INVALID(
        'stores.database',
        'a database store needs a database connection, and the application has none configured',
      );
    const { DatabaseStore } = await import('./stores/database-store.js');
    return new DatabaseStore({
      connection: connect(config.connection),
      table: config.table,
      ...limits,
    });
  }
}
