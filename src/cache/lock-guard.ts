import { createHash } from 'node:crypto';
import type { Connection, Migration } from '../db/index.js';
// Types only: the lock classes load with the first guarded remember (see lockGuards).
import type { LockManager, LockStore } from '../locks/index.js';
import { parseDuration } from '../support/index.js';
import type { RememberGuard } from './cache.js';
import type { CacheConfig, CacheStoreConfig } from './config.js';
import { E_CACHE_CONFIG_INVALID } from './errors.js';

/** The stampede-lock settings of a cache (config `cache.stampede`), in milliseconds. */
export interface StampedeSettings {
  /** The lease of the lock around a factory; extended every third of it while it runs. */
  ttlMs: number;
  /** The longest a process waits for another's factory before computing anyway. */
  waitMs: number;
  /** Longest pause between two attempts while waiting. */
  maxPollMs: number;
}

export const DEFAULT_STAMPEDE: StampedeSettings = { ttlMs: 30_000, waitMs: 10_000, maxPollMs: 100 };

/** Lock names longer than this (or not valid lock names) are replaced by their hash. */
const MAX_PLAIN_NAME = 200;
const INVALID_NAME_CHAR = /[\0\uD800-\uDFFF]/;

/**
 * The lock name of a full cache key (`keel:data:user:1` → `cache:keel:data:user:1`). A key
 * too long for a lock name (255), or holding characters a lock name refuses, becomes
 * `cache:#` + its SHA-256: still one name per key, and the same in every process.
 *
 * @example
 * ```ts
 * stampedeLockName('keel:data:report'); // 'cache:keel:data:report'
 * ```
 */
export function stampedeLockName(fullKey: string): string {
  if (fullKey.length <= MAX_PLAIN_NAME && !INVALID_NAME_CHAR.test(fullKey))
    return `cache:${fullKey}`;
  return `cache:#${createHash('sha256').update(fullKey).digest('hex')}`;
}

/**
 * A {@link RememberGuard} on one lock store: the process that takes the key's lock runs the
 * factory (the lease extended every ttl/3 while it runs) and releases the lock when it
 * settles, thrown or not; the others wait for the lock, then read the value the first one
 * stored (`recheck`) instead of calling their factory. After `waitMs` without the lock a
 * waiter computes anyway: a stuck or very slow factory elsewhere costs one more
 * computation, never an error or an unbounded wait. A lock store that fails (unreachable)
 * also means computing unguarded: the lock saves work, it is not needed for correctness.
 *
 * @example
 * ```ts
 * const guard = lockGuard(async () => new LockManager({ store }), DEFAULT_STAMPEDE);
 * const cache = new Cache({ store: redisCacheStore, guard });
 * ```
 */
export function lockGuard(
  locks: () => Promise<LockManager>,
  settings: StampedeSettings,
): RememberGuard {
  return async <T>(
    key: string,
    compute: () => Promise<T>,
    recheck: () => Promise<T | undefined>,
  ): Promise<T> => {
    let lock: ReturnType<LockManager['lock']>;
    try {
      lock = (await locks()).lock(stampedeLockName(key), settings.ttlMs);
      const token = await lock.acquire();
      // Busy: another process computes; wait for it (E_LOCK_TIMEOUT past waitMs).
      if (token === null) await lock.block(settings.waitMs);
    } catch {
      return compute();
    }
    const heartbeat = setInterval(
      () => void lock.extend().catch(() => false),
      Math.max(1, Math.floor(settings.ttlMs / 3)),
    );
    heartbeat.unref?.();
    try {
      // Always re-read: the holder before us may have stored the value between our miss
      // and our acquire, even when the lock looked free.
      const found = await recheck();
      if (found !== undefined) return found;
      return await compute();
    } finally {
      clearInterval(heartbeat);
      // A failed release only leaves the lease to expire; the caller's answer matters more.
      await lock.release().catch(() => false);
    }
  };
}

/** Where a cache store's locks live: its Redis server, or its database connection. */
export type LockHome =
  | { kind: 'redis'; url: string }
  | { kind: 'database'; connection: string | undefined };

/**
 * The lock home of a store, or undefined for a store of one process (memory, file): those
 * need no distributed lock. A `tiered` store's locks live with its shared tier (`l2`).
 */
export function lockHome(config: CacheConfig, storeName: string, depth = 0): LockHome | undefined {
  const store = config.stores[storeName] as CacheStoreConfig | undefined;
  if (store === undefined || depth > 2) return undefined;
  if (store.driver === 'redis') return { kind: 'redis', url: store.url ?? DEFAULT_REDIS_URL };
  if (store.driver === 'database') return { kind: 'database', connection: store.connection };
  const shared = (store as { l2?: unknown }).l2;
  return typeof shared === 'string' ? lockHome(config, shared, depth + 1) : undefined;
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** How {@link lockGuards} builds a lock store for a home (the provider gives the connections). */
export interface LockGuardsOptions {
  config: CacheConfig;
  settings: StampedeSettings;
  /** The lock store of a home; called once per home, at its first guarded remember. */
  store: (home: LockHome) => Promise<LockStore>;
}

/**
 * The guard of every pool whose store is shared across processes, with its locks where
 * its values live: a Redis store's in that Redis, a database store's in `keel_locks` on
 * that connection. The manager gives every pool the same guard, so this one finds the
 * pool of a key by its prefix (the longest pool prefix it starts with); keys of a pool on
 * a store of one process are computed without a lock. Lock stores are built at the first
 * guarded remember of their home, and closed by `close()`.
 */
export function lockGuards(options: LockGuardsOptions): {
  guard: RememberGuard;
  close: () => Promise<void>;
} {
  const { config, settings } = options;
  const homes = new Map<string, Promise<LockManager>>();
  const guards = new Map<string, RememberGuard>();
  // Pool prefixes, longest first, each with its home's guard (or none).
  const routes: Array<{ prefix: string; guard: RememberGuard | undefined }> = [];
  for (const [name, pool] of Object.entries(config.pools)) {
    const home = lockHome(config, pool.store ?? config.default);
    const id = home === undefined ? undefined : JSON.stringify(home);
    let guard = id === undefined ? undefined : guards.get(id);
    if (home !== undefined && id !== undefined && guard === undefined) {
      guard = lockGuard(() => {
        let manager = homes.get(id);
        if (manager === undefined) {
          manager = (async () => {
            const { LockManager } = await import('../locks/index.js');
            return new LockManager({
              store: await options.store(home),
              maxPollMs: settings.maxPollMs,
            });
          })();
          // A failed build (Redis down at first use) is retried by the next remember.
          manager.catch(() => homes.delete(id));
          homes.set(id, manager);
        }
        return manager;
      }, settings);
      guards.set(id, guard);
    }
    routes.push({ prefix: `${config.prefix}:${pool.prefix ?? name}:`, guard });
  }
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  const guard: RememberGuard = (key, compute, recheck) => {
    const route = routes.find((r) => key.startsWith(r.prefix));
    return route?.guard ? route.guard(key, compute, recheck) : compute();
  };
  const close = async (): Promise<void> => {
    const managers = [...homes.values()];
    homes.clear();
    for (const manager of managers) await (await manager.catch(() => undefined))?.close();
  };
  return { guard, close };
}

/** The `cache.stampede` config in milliseconds (E_CACHE_CONFIG_INVALID for a bad duration). */
export function stampedeSettings(config: CacheConfig): StampedeSettings {
  const raw = config.stampede;
  const ms = (path: string, value: number | string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (value === 0) return 0;
    let result: number;
    try {
      // Seconds as a number, or a duration string, as every cache TTL.
      result = typeof value === 'number' ? value * 1000 : parseDuration(value);
    } catch (error) {
      throw new E_CACHE_CONFIG_INVALID(path, (error as Error).message).withCause(error);
    }
    if (!(result > 0) || result > MAX_LOCK_MS)
      throw new E_CACHE_CONFIG_INVALID(path, `${String(value)} is not between 1 ms and 30 days`);
    return Math.ceil(result);
  };
  return {
    ttlMs: ms('stampede.ttl', raw?.ttl, DEFAULT_STAMPEDE.ttlMs),
    waitMs: ms('stampede.wait', raw?.wait, DEFAULT_STAMPEDE.waitMs),
    maxPollMs: DEFAULT_STAMPEDE.maxPollMs,
  };
}

const MAX_LOCK_MS = 30 * 24 * 60 * 60 * 1000;

/** The homes of the pools' stores, when stampede protection is on (deduplicated). */
export function stampedeHomes(config: CacheConfig): LockHome[] {
  if (config.stampede?.enabled === false) return [];
  const homes = new Map<string, LockHome>();
  for (const pool of Object.values(config.pools)) {
    const home = lockHome(config, pool.store ?? config.default);
    if (home) homes.set(JSON.stringify(home), home);
  }
  return [...homes.values()];
}

/**
 * The `keel_locks` migration for each database connection a guarded pool's store uses, as
 * sources for `app.make('db.migrations')` (module `keel:cache-locks[:<connection>]`). The
 * table is created only if missing: the locks subsystem may create it on the same
 * connection; rolling back leaves it (it may be the locks subsystem's too).
 */
export function stampedeMigrations(
  config: CacheConfig,
): Array<{ module: string; connection?: string; migrations: Record<string, Migration> }> {
  return stampedeHomes(config).flatMap((home) =>
    home.kind === 'database'
      ? [
          {
            module: `keel:cache-locks${home.connection ? `:${home.connection}` : ''}`,
            ...(home.connection ? { connection: home.connection } : {}),
            migrations: { [STAMPEDE_MIGRATION_NAME]: locksTableMigration },
          },
        ]
      : [],
  );
}

/** The name `migrate` records for the cache's `keel_locks` migration. */
export const STAMPEDE_MIGRATION_NAME = '2026_11_27_000001_create_keel_locks_for_cache';

const locksTableMigration: Migration = {
  async up(db) {
    const { createKeelLocksTable } = await import('../locks/index.js');
    await createKeelLocksTable.up(db);
  },
  async down() {},
};

/**
 * The stampede guard of a cache config, or undefined when no pool needs one (stores of one
 * process only, or `stampede.enabled: false`). Redis homes get a client of their own (same
 * URL as the store) whose fence counters expire; database homes use `keel_locks` on the
 * store's connection.
 */
export function createStampedeGuard(
  config: CacheConfig,
  connection: (name: string | undefined) => Connection,
): { guard: RememberGuard; close: () => Promise<void> } | undefined {
  if (stampedeHomes(config).length === 0) return undefined;
  const settings = stampedeSettings(config);
  return lockGuards({
    config,
    settings,
    async store(home) {
      const { DatabaseLockStore, RedisLockStore } = await import('../locks/index.js');
      if (home.kind === 'database')
        return new DatabaseLockStore({ connection: connection(home.connection) });
      const { Redis } = await import('ioredis');
      // lazyConnect: connects at the first lock; one retry, so an outage fails the lock
      // (and the guard computes unguarded) instead of queueing behind reconnects.
      const client = new Redis(home.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      return new RedisLockStore({
        client,
        prefix: `${config.prefix}:locks:`,
        ownsClient: true,
        // Nobody reads these fencing tokens; a counter per key ever missed would pile up.
        fenceTtlMs: settings.ttlMs,
      });
    },
  });
}
