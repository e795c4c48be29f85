import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
import { migrateSetupStep } from './commands/migrate-setup-step.js';
import { type DatabaseConfig, resolveDatabaseConfig } from './config.js';
// Types only: the manager module pulls in Kysely (hundreds of files), loaded at boot only
// by applications that use a database.
import type { DatabaseManager } from './database-manager.js';
import { MigrationRegistry } from './migrations/migration-registry.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    db: DatabaseManager;
    /** Framework migration sources (cache, queue, sessions tables) that `migrate` runs. */
    'db.migrations': MigrationRegistry;
  }
}

const DB_ENV = ['DB_DRIVER', 'DATABASE_URL', 'DB_HOST', 'DB_FILENAME'] as const;

/**
 * Whether the application uses a database: it has a `database` config, sets a `DB_*`
 * variable, or one of its modules has migrations or seeders.
 */
export function usesDatabase(app: Application): boolean {
  if (app.config.get('database' as never) !== undefined) return true;
  if (DB_ENV.some((name) => envValue(app, name) !== undefined)) return true;
  return app.modules.some((m) => m.manifest.migrations || m.manifest.seeders);
}

function envValue(app: Application, name: string): string | undefined {
  const value = app.env.variable(name);
  return value === '' ? undefined : value;
}

/**
 * Binds the database manager (`app.make('db')`), makes it the one `db()` answers from,
 * registers a readiness check per configured connection, and closes every pool at
 * shutdown. Nothing connects at boot: a connection opens on its first query. An
 * application without a database (see {@link usesDatabase}) loads none of it.
 */
export class DatabaseProvider extends ServiceProvider<Application> {
  #manager: DatabaseManager | undefined;
  #config: DatabaseConfig | undefined;

  override register(): void {
    const app = this.app;
    app.container.value('db.migrations', new MigrationRegistry());
    // addSetupUpdateStep's protocol, without loading the kernel's commands at boot.
    const steps = app.container.bound('setup.update.steps') ? app.make('setup.update.steps') : [];
    app.container.value('setup.update.steps', [
      ...steps.filter((s) => s.name !== migrateSetupStep.name),
      migrateSetupStep,
    ]);
    if (!usesDatabase(app)) return;
    // Validate now: a broken config fails the boot, not the first query.
    this.#config = resolveDatabaseConfig(app.config.get('database' as never), (name) =>
      envValue(app, name),
    );
    app.container.singleton('db', () => {
      if (!this.#manager) throw new Error('DatabaseProvider: the manager is created at boot');
      return this.#manager;
    });
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const { DatabaseManager, setDatabaseManager } = await import('./database-manager.js');
    const manager = new DatabaseManager({
      config,
      root: this.app.paths.root,
      logger: this.app.logger,
    });
    this.#manager = manager;
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
    await this.#watchNPlusOne(manager);
  }

  /**
   * Outside production, each HTTP request is one N+1 detection scope (`database.nPlusOne`);
   * queue workers wrap each job with `withQueryScope` the same way.
   */
  async #watchNPlusOne(manager: DatabaseManager): Promise<void> {
    const { mode, threshold } = manager.config.nPlusOne;
    if (mode === 'off' || this.app.env.isProduction) return;
    const { queryScopeMiddleware, watchQueries } = await import('./model/query-scope.js');
    watchQueries(manager);
    if (this.app.container.bound('http'))
      this.app.make('http').middleware.use(queryScopeMiddleware({ mode, threshold }), {
        priority: 1000,
      });
  }

  override async shutdown(): Promise<void> {
    const manager = this.#manager;
    if (!manager) return;
    const { currentDatabaseManager, setDatabaseManager } = await import('./database-manager.js');
    if (currentDatabaseManager() === manager) setDatabaseManager(undefined);
    await manager.close();
  }
}
