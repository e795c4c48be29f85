import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
// Types only: the manager and its stores load at boot, Redis and database stores on use.
import type { Cache } from './cache.js';
import type { CacheManager } from './cache-manager.js';
import type { CacheStatsRecorder } from './cache-stats-recorder.js';
import { type CacheConfig, resolveCacheConfig } from './config.js';
import { createStampedeGuard, stampedeMigrations } from './lock-guard.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    cache: CacheManager;
    /** A request's (or job's) own in-memory cache, dropped with its container scope. */
    'cache.scope': Cache;
  }
}

/** The framework migration that creates `keel_cache`, loaded only when `migrate` runs it. */
const cacheTableMigration = {
  async up(db: never) {
    const { createCacheTable } = await import('./migrations/create-cache-table.js');
    await createCacheTable.up(db);
  },
  async down(db: never) {
    const { createCacheTable } = await import('./migrations/create-cache-table.js');
    await createCacheTable.down?.(db);
  },
};

/**
 * Binds the cache pools (`app.make('cache')`, a {@link CacheManager}) from the `cache`
 * config namespace, a per-scope memo (`cache.scope`), and — when a pool uses the database
 * store — the `keel_cache` framework migration. The config is validated at register (a
 * broken one fails the boot); stores connect on first use; shutdown closes them.
 */
export class CacheProvider extends ServiceProvider<Application> {
  #config: CacheConfig | undefined;
  #manager: CacheManager | undefined;
  #recorder: CacheStatsRecorder | undefined;
  #stampede: ReturnType<typeof createStampedeGuard>;

  override register(): void {
    const app = this.app;
    const config = resolveCacheConfig(app.config.get('cache' as never), (name) => {
      const value = app.env.variable(name);
      return value === '' ? undefined : value;
    });
    this.#config = config;
    if (usesDatabaseStore(config) && app.container.bound('db.migrations')) {
      app.make('db.migrations').add({
        module: 'keel:cache',
        migrations: { [CACHE_MIGRATION_NAME]: cacheTableMigration },
      });
    }
    // Stampede locks live beside the values: `keel_locks` on each database store's connection.
    if (app.container.bound('db.migrations'))
      for (const source of stampedeMigrations(config)) app.make('db.migrations').add(source);
    app.container.singleton('cache', () => {
      if (!this.#manager) throw new Error('CacheProvider: the manager is created at boot');
      return this.#manager;
    });
    app.container.scoped('cache.scope', (c) => c.make('cache').scoped());
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const app = this.app;
    const { CacheManager } = await import('./cache-manager.js');
    // Stampede protection across processes, for pools on shared stores: its lock stores
    // are built at the first guarded remember (not here: LockProvider boots after us, and
    // the locks live where the cache lives, whatever the locks config's own store).
    this.#stampede = createStampedeGuard(config, (name) => app.make('db').connection(name));
    const manager = new CacheManager({
      ...(this.#stampede ? { guard: this.#stampede.guard } : {}),
      config,
      root: app.paths.root,
      events: app.events,
      connection: (name) => app.make('db').connection(name),
      logger: app.logger,
      onStoreError: logEvery(app.logger, 'cache: store connection error'),
    });
    this.#manager = manager;
    await this.#recordStats(manager, config);
    // Readiness: a write, read and delete through the default pool's store, when that store
    // lives outside the process (an in-memory store cannot be down).
    const storeName = config.pools.data?.store ?? config.default;
    const driver = config.stores[storeName]?.driver;
    if (driver === undefined || driver === 'memory') return;
    app.health.register(`cache:${driver}`, async () => {
      const cache = manager.pool();
      const key = `keel:health:${process.pid}:${randomUUID()}`;
      const token = randomUUID();
      await cache.set(key, token, 10);
      const back = await cache.get(key);
      await cache.delete(key);
      return back === token
        ? { status: 'ok', message: 'write, read and delete round trip' }
        : { status: 'fail', message: 'a value written was not read back' };
    });
  }

  override async shutdown(): Promise<void> {
    // Before close(): closing forgets the pools, and with them the counters to write.
    await this.#recorder?.stop();
    this.#recorder = undefined;
    await this.#manager?.close();
    await this.#stampede?.close();
    this.#stampede = undefined;
  }

  /**
   * Write this process's pool counters to `var/state/cache-stats/<host>-<pid>.json` for
   * `keel cache:stats`, every `cache.stats.flushInterval` seconds and at shutdown. Only a
   * process whose pools counted something writes: a CLI command that boots without using
   * a pool leaves no file.
   */
  async #recordStats(manager: CacheManager, config: CacheConfig): Promise<void> {
    const { CacheStatsRecorder, CACHE_STATS_FOLDER, DEFAULT_STATS_FLUSH_SECONDS } = await import(
      './cache-stats-recorder.js'
    );
    const app = this.app;
    // Test runs leave no snapshot files behind unless their config asks for them.
    const seconds =
      config.stats?.flushInterval ??
      (app.environment === 'test' ? false : DEFAULT_STATS_FLUSH_SECONDS);
    if (seconds === false || seconds === 0) return;
    this.#recorder = new CacheStatsRecorder({
      folder: join(app.paths.state, CACHE_STATS_FOLDER),
      stats: () => manager.stats(),
      intervalMs: seconds * 1000,
      onError: (error) =>
        app.logger.warn(
          { err: error },
          'cache statistics could not be written to var/state/cache-stats (further failures are not logged)',
        ),
    });
    this.#recorder.start();
  }
}

/** The name `migrate` records for the `keel_cache` table (here: the migration file loads Kysely). */
export const CACHE_MIGRATION_NAME = '2026_01_01_000000_create_keel_cache';

/** Whether the default store or any pool's store is a database store. */
export function usesDatabaseStore(config: CacheConfig): boolean {
  const names = [config.default, ...Object.values(config.pools).map((p) => p.store)];
  return names.some((name) => name !== undefined && config.stores[name]?.driver === 'database');
}

/** A logger of repeated connection errors: one line per 10 s, with how many were held back. */
function logEvery(logger: Application['logger'], message: string): (error: unknown) => void {
  let last = 0;
  let held = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 10_000) {
      held++;
      return;
    }
    logger.warn({ err: error, suppressed: held }, message);
    last = now;
    held = 0;
  };
}
