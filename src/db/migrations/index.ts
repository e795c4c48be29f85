export {
  type AppDatabase,
  appDatabase,
  appMigrations,
  appMigrator,
  databaseConfigured,
  migrationConnections,
  migrationRegistry,
  migrationState,
} from './app-migrations.js';
export {
  defineMigration,
  isMigrationName,
  type Migration,
  type MigrationEntry,
  migrationTimestamp,
} from './migration.js';
export {
  type CollectMigrationsOptions,
  collectMigrations,
  type MigrationModule,
} from './migration-loader.js';
export { type MigrationLockOptions, withMigrationLock } from './migration-lock.js';
export {
  type FolderMigrationSource,
  MigrationRegistry,
  type MigrationSource,
  type ObjectMigrationSource,
} from './migration-registry.js';
export {
  MIGRATIONS_TABLE,
  type MigrationRecord,
  MigrationRepository,
} from './migration-repository.js';
export {
  type ConnectionMigrationState,
  isAlive,
  MigrationStateStore,
  type RunningMigration,
  type UnsafeState,
} from './migration-state.js';
export {
  type FreshOptions,
  type FreshResult,
  type MigrateOptions,
  type MigrateResult,
  type MigrationRun,
  type MigrationStatus,
  Migrator,
  type MigratorOptions,
  type RollbackOptions,
} from './migrator.js';
export { dialectOf, increments, timestamps } from './schema-helpers.js';
export { recordSql } from './sql-recorder.js';
export {
  dropAllTables,
  listTables,
  sqliteDatabaseBytes,
  type TableInfo,
  tableNames,
} from './table-inspector.js';
