import { randomUUID } from 'node:crypto';
import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
// Types only: the manager and its stores load at boot, Redis and database stores on use.
import type { Cache } from './cache.js';
import type { CacheManager } from './cache-manager.js';
import { type CacheConfig, resolveCacheConfig } from './config.js';

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
    const manager = new CacheManager({
      config,
      root: app.paths.root,
      events: app.events,
      connection: (name) => app.make('db').connection(name),
    });
    this.#manager = manager;
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
    await this.#manager?.close();
  }
}

/** The name `migrate` records for the `keel_cache` table (here: the migration file loads Kysely). */
export const CACHE_MIGRATION_NAME = '2026_01_01_000000_create_keel_cache';

/** Whether the default store or any pool's store is a database store. */
export function usesDatabaseStore(config: CacheConfig): boolean {
  const names = [config.default, ...Object.values(config.pools).map((p) => p.store)];
  return names.some((name) => name !== undefined && config.stores[name]?.driver === 'database');
}
