import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
import { resolveDatabaseConfig } from './config.js';
import { currentDatabaseManager, DatabaseManager, setDatabaseManager } from './database-manager.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    db: DatabaseManager;
  }
}

/**
 * Binds the database manager (`app.make('db')`), makes it the one `db()` answers from,
 * registers a readiness check per configured connection, and closes every pool at
 * shutdown. Nothing connects at boot: a connection opens on its first query.
 */
export class DatabaseProvider extends ServiceProvider<Application> {
  #manager: DatabaseManager | undefined;

  override register(): void {
    const app = this.app;
    app.container.singleton('db', () => {
      const config = resolveDatabaseConfig(app.config.get('database' as never), (name) => {
        const value = app.env.get(name as never) as unknown;
        return value === undefined || value === null || value === '' ? undefined : String(value);
      });
      this.#manager = new DatabaseManager({ config, root: app.paths.root, logger: app.logger });
      return this.#manager;
    });
  }

  override boot(): void {
    const manager = this.app.make('db');
    setDatabaseManager(manager);
    for (const name of manager.names()) {
      this.app.health.register(`db:${name}`, async () => {
        const connection = manager.connection(name);
        const ms = await connection.ping();
        return {
          status: 'ok',
          message: `${connection.dialect} answered in ${ms} ms`,
          details: { dialect: connection.dialect, latencyMs: ms },
        };
      });
    }
  }

  override async shutdown(): Promise<void> {
    const manager = this.#manager;
    if (!manager) return;
    if (currentDatabaseManager() === manager) setDatabaseManager(undefined);
    await manager.close();
  }
}
