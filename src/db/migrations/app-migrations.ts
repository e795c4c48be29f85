import { join } from 'node:path';
import type { Application } from '../../kernel/index.js';
import { resolveDatabaseConfig } from '../config.js';
import { DatabaseManager } from '../database-manager.js';
import type { MigrationEntry } from './migration.js';
import { collectMigrations } from './migration-loader.js';
import { MigrationRegistry } from './migration-registry.js';
import { MigrationStateStore } from './migration-state.js';
import { Migrator, type MigratorOptions } from './migrator.js';

/** The variables that configure a database without a `database` config file. */
const DB_ENV = ['DB_DRIVER', 'DATABASE_URL', 'DB_HOST', 'DB_DATABASE', 'DB_FILENAME'] as const;

function envValue(app: Application, name: string): string | undefined {
  const value = (app.env.get(name as never) as unknown) ?? app.env.variable(name);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/** True when the app configures a database: a `database` config or a `DB_*` variable. */
export function databaseConfigured(app: Application): boolean {
  return (
    app.config.get('database' as never) !== undefined ||
    DB_ENV.some((name) => envValue(app, name) !== undefined)
  );
}

/** The database an app command works on, and whether the command must close it. */
export interface AppDatabase {
  manager: DatabaseManager;
  /** Close it if this call opened it (the app's own manager closes at shutdown). */
  release(): Promise<void>;
}

/**
 * The app's database manager once booted; before that (a dry run that only registered
 * providers), a manager of its own built from the same config, closed by `release()`.
 */
export function appDatabase(app: Application): AppDatabase {
  if (app.container.bound('db')) {
    try {
      return { manager: app.make('db'), release: async () => {} };
    } catch {
      // Bound, but made at boot: this app is not booted.
    }
  }
  const config = resolveDatabaseConfig(app.config.get('database' as never), (name) =>
    envValue(app, name),
  );
  const manager = new DatabaseManager({ config, root: app.paths.root, logger: app.logger });
  return { manager, release: () => manager.close() };
}

/** The framework's migration sources (`app.make('db.migrations')`), if any provider bound it. */
export function migrationRegistry(app: Application): MigrationRegistry {
  return app.container.bound('db.migrations') ? app.make('db.migrations') : new MigrationRegistry();
}

/** Every migration of the app: framework sources, then the enabled modules'. */
export function appMigrations(
  app: Application,
  manager: DatabaseManager,
): Promise<MigrationEntry[]> {
  return collectMigrations({
    modules: app.modules,
    registry: migrationRegistry(app),
    defaultConnection: manager.defaultName,
  });
}

/** `var/state/migrations.json` of the app. */
export function migrationState(app: Application): MigrationStateStore {
  return new MigrationStateStore(join(app.paths.state, 'migrations.json'));
}

/**
 * The connections a command works on: the one named, or the default and every connection
 * some migration runs on (default first, then by name).
 */
export function migrationConnections(
  entries: readonly MigrationEntry[],
  manager: DatabaseManager,
  only?: string,
): string[] {
  if (only !== undefined) return [manager.connection(only).name];
  const others = [...new Set(entries.map((e) => e.connection))]
    .filter((name) => name !== manager.defaultName)
    .sort();
  // A migration naming an unknown connection fails here, before anything runs.
  for (const name of others) manager.connection(name);
  return [manager.defaultName, ...others];
}

/** A migrator for one connection of the app. */
export function appMigrator(
  app: Application,
  manager: DatabaseManager,
  entries: readonly MigrationEntry[],
  connection: string,
  extra: Partial<Pick<MigratorOptions, 'lockTimeoutMs' | 'onLockWait'>> = {},
): Migrator {
  return new Migrator({
    connection: manager.connection(connection),
    migrations: entries,
    state: migrationState(app),
    root: app.paths.root,
    production: app.env.isProduction,
    ...extra,
  });
}
