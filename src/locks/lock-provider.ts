import { randomUUID } from 'node:crypto';
import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
import { outageWarning, redisConnectArgs } from '../support/index.js';
import { type LocksConfig, resolveLocksConfig } from './config.js';
import { E_LOCK_CONFIG_INVALID } from './errors.js';
// Types only: the manager and the stores (Kysely, ioredis) load at boot, and only the
// configured store's.
import type { LockManager } from './lock-manager.js';
import type { LockStore } from './lock-store.js';
import {
  createKeelLocksTable,
  LOCKS_MIGRATION_MODULE,
  LOCKS_MIGRATION_NAME,
} from './migrations/create-keel-locks-table.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    locks: LockManager;
  }
}

/**
 * Binds `app.make('locks')` (a {@link LockManager}) from the `locks` config, with
 * `LOCK_DRIVER` (memory, database, redis) as the default driver. With the database driver
 * it adds the `keel_locks` framework migration (`keel:locks`) to `app.make('db.migrations')`,
 * so register it after DatabaseProvider. The store's module, and its client library, load
 * at boot only when configured; the store is closed at shutdown.
 */
export class LockProvider extends ServiceProvider<Application> {
  #manager: LockManager | undefined;
  #config: LocksConfig | undefined;

  override register(): void {
    const app = this.app;
    // Validate now: a broken config fails the boot, not the first lock.
    const config = resolveLocksConfig(app.config.get('locks' as never), (name) => {
      const value = app.env.variable(name);
      return value === '' ? undefined : value;
    });
    this.#config = config;
    if (config.driver === 'database') {
      if (!app.container.bound('db.migrations'))
        throw new E_LOCK_CONFIG_INVALID(
          'driver',
          'the database driver needs DatabaseProvider, registered before LockProvider',
        );
      app.make('db.migrations').add({
        module: LOCKS_MIGRATION_MODULE,
        migrations: { [LOCKS_MIGRATION_NAME]: createKeelLocksTable },
        ...(config.database.connection ? { connection: config.database.connection } : {}),
      });
    }
    app.container.singleton('locks', () => {
      if (!this.#manager) throw new Error('LockProvider: the manager is created at boot');
      return this.#manager;
    });
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const { LockManager } = await import('./lock-manager.js');
    const manager = new LockManager({
      store: await this.#store(config),
      defaultTtl: config.ttl,
      maxPollMs: config.maxPollMs,
    });
    this.#manager = manager;
    // Readiness: the store grants and releases a lock of this process's own (a store
    // outside the process only: an in-memory one cannot be down).
    if (config.driver === 'memory') return;
    this.app.health.register(`locks:${config.driver}`, async () => {
      const lock = manager.lock(`keel:health:${process.pid}:${randomUUID()}`, 5_000);
      const fencing = await lock.acquire();
      if (fencing === null) return { status: 'fail', message: 'the store refused a free lock' };
      await lock.release();
      return { status: 'ok', message: `${config.driver} store acquires and releases` };
    });
  }

  async #store(config: LocksConfig): Promise<LockStore> {
    if (config.driver === 'memory') {
      const { MemoryLockStore } = await import('./stores/memory-lock-store.js');
      return new MemoryLockStore();
    }
    if (config.driver === 'database') {
      if (!this.app.container.bound('db'))
        throw new E_LOCK_CONFIG_INVALID(
          'driver',
          'the database driver needs a configured database',
        );
      const { DatabaseLockStore } = await import('./stores/database-lock-store.js');
      return new DatabaseLockStore({
        connection: this.app.make('db').connection(config.database.connection),
      });
    }
    const { RedisLockStore } = await import('./stores/redis-lock-store.js');
    // Nothing connects at boot; the first lock opens the connection. The store's client
    // fails fast while Redis is down (E_LOCK_STORE_UNAVAILABLE) and reconnects by itself.
    const outage = outageWarning((error) =>
      this.app.logger.warn(
        { err: error },
        'locks: the Redis lock store lost its connection (reconnecting; not logged again until it is back)',
      ),
    );
    const store = await RedisLockStore.connect({
      ...redisConnectArgs(config.redis),
      prefix: config.redis.prefix,
      onError: outage.onError,
    });
    outage.watch(store.client);
    return store;
  }

  override async shutdown(): Promise<void> {
    await this.#manager?.close();
    this.#manager = undefined;
  }
}
