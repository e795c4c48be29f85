import { isAbsolute, resolve } from 'node:path';
import type { Connection } from '../db/index.js';
import { Cache, type CacheEventSink, type RememberGuard } from './cache.js';
import type { CacheConfig, CacheStoreConfig } from './config.js';
import { E_CACHE_POOL_NOT_FOUND, E_CACHE_STORE_UNAVAILABLE } from './errors.js';
import type { CacheStore } from './store.js';
import { FileStore } from './stores/file-store.js';
import { LazyStore } from './stores/lazy-store.js';
import { MemoryStore } from './stores/memory-store.js';

export interface CacheManagerOptions {
  config: CacheConfig;
  /** The app root that relative store paths resolve against. */
  root: string;
  /** The database connection for `database` stores (by name; undefined = default). */
  connection?: (name: string | undefined) => Connection;
  events?: CacheEventSink;
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

  constructor(options: CacheManagerOptions) {
    this.config = options.config;
    this.#options = options;
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

  async #createShared(config: CacheStoreConfig): Promise<CacheStore> {
    const limits =
      'maxValueBytes' in config && config.maxValueBytes !== undefined
        ? { maxValueBytes: config.maxValueBytes }
        : {};
    if (config.driver === 'redis') {
      const { RedisStore } = await import('./stores/redis-store.js');
      return RedisStore.connect({ url: config.url ?? 'redis://127.0.0.1:6379', ...limits });
    }
    if (config.driver !== 'database') throw new Error(`not a shared store: ${config.driver}`);
    const connect = this.#options.connection;
    if (connect === undefined)
      throw new E_CACHE_STORE_UNAVAILABLE('database', 'the application has no database configured');
    const { DatabaseStore } = await import('./stores/database-store.js');
    return new DatabaseStore({
      connection: connect(config.connection),
      table: config.table,
      ...limits,
    });
  }
}
