import { resolve } from 'node:path';
import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
import { resolveSessionConfig, type SessionConfig } from './config.js';
import { SessionManager } from './session-manager.js';
import { sessionMiddleware } from './session-middleware.js';
import type { SessionStore } from './store.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    /** Sessions: start/save, and a user's sessions (list, end one, others, all). */
    'session.manager': SessionManager;
  }
}

/** The framework migration's name in `keel_migrations`. */
export const SESSIONS_MIGRATION_NAME = '2026_11_27_000000_create_sessions_table';

/** Loaded only when `migrate` runs it. */
const sessionsTableMigration = {
  async up(db: never) {
    const { createSessionsTable } = await import('./migrations/create-sessions-table.js');
    await createSessionsTable.up(db);
  },
  async down(db: never) {
    const { createSessionsTable } = await import('./migrations/create-sessions-table.js');
    await createSessionsTable.down?.(db);
  },
};

/**
 * Sessions from `config/session.ts`: binds `session.manager`, registers the `session`
 * middleware alias on the HTTP kernel, the `sessions` table migration when the driver is
 * `database`, and the `keel_sessions_active` gauge when metrics are on. The config is
 * validated at register; the store is made at boot (its client library loaded only then).
 *
 * @example
 * ```ts
 * // config/session.ts
 * export default { driver: 'database', lifetime: '2h', absoluteLifetime: '12h' };
 * // routes.ts
 * router.group(() => { ... }).middleware(['session']);
 * ```
 */
export class SessionProvider extends ServiceProvider<Application> {
  #config: SessionConfig | undefined;
  #manager: SessionManager | undefined;

  override register(): void {
    const app = this.app;
    const config = resolveSessionConfig(
      app.config.get('session' as never),
      (name) => app.env.variable(name),
      app.env.isProduction,
    );
    this.#config = config;
    if (config.driver === 'database' && app.container.bound('db.migrations')) {
      const connection = config.database.connection;
      app.make('db.migrations').add({
        module: connection === undefined ? 'keel:session' : `keel:session:${connection}`,
        migrations: { [SESSIONS_MIGRATION_NAME]: sessionsTableMigration },
        ...(connection !== undefined ? { connection } : {}),
      });
    }
    app.container.singleton('session.manager', () => {
      if (!this.#manager) throw new Error('SessionProvider: the manager is created at boot');
      return this.#manager;
    });
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const app = this.app;
    const manager = new SessionManager({
      store: await this.#store(config),
      lifetime: config.lifetime,
      touchIntervalMs: config.touchIntervalMs,
    });
    this.#manager = manager;
    if (app.container.bound('http')) {
      const middleware = sessionMiddleware({
        manager,
        cookie: config.cookie,
        onError: (error) => app.logger.error({ err: error }, 'session: saving failed'),
      });
      app.make('http').middleware.register('session', () => middleware);
    }
    if (app.container.bound('metrics') && config.driver !== 'cookie' && config.driver !== 'file') {
      const metrics = app.make('metrics');
      const gauge = metrics.gauge({
        name: 'sessions_active',
        help: 'Sessions that have not expired (counted at most every 15 s)',
      });
      metrics.onCollect('sessions', async () => {
        const count = await manager.countActive();
        if (count !== undefined) gauge.set(undefined, count);
      });
    }
  }

  override async shutdown(): Promise<void> {
    await this.#manager?.close();
  }

  async #store(config: SessionConfig): Promise<SessionStore> {
    const app = this.app;
    const options = { lifetime: config.lifetime };
    switch (config.driver) {
      case 'memory': {
        const { MemorySessionStore } = await import('./stores/memory-store.js');
        return new MemorySessionStore(options);
      }
      case 'file': {
        const { FileSessionStore } = await import('./stores/file-store.js');
        return new FileSessionStore({
          ...options,
          directory: resolve(app.paths.root, config.file.directory),
        });
      }
      case 'database': {
        const { DatabaseSessionStore } = await import('./stores/database-store.js');
        return new DatabaseSessionStore({
          ...options,
          connection: app.make('db').connection(config.database.connection),
          table: config.database.table,
        });
      }
      case 'redis': {
        const [{ RedisSessionStore }, { createRedisClient, closeRedisClient }] = await Promise.all([
          import('./stores/redis-store.js'),
          import('../support/index.js'),
        ]);
        const client = await createRedisClient({
          ...(config.redis.url ? { url: config.redis.url } : {}),
          onError: (error) => app.logger.warn({ err: error }, 'session: redis error'),
        });
        const store = new RedisSessionStore({ ...options, client, prefix: config.redis.prefix });
        return Object.assign(store, { close: () => closeRedisClient(client) });
      }
      case 'cookie': {
        const { CookieSessionStore } = await import('./stores/cookie-store.js');
        const encrypter = app.container.bound('encryption')
          ? app.make('encryption')
          : await import('../security/encryption/index.js').then(
              ({ Encrypter, appKeys }) => new Encrypter({ keys: appKeys(app) }),
            );
        return new CookieSessionStore({
          ...options,
          encrypter,
          maxBytes: config.cookieStore.maxBytes,
        });
      }
    }
  }
}
