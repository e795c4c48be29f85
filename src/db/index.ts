export { sql } from 'kysely';
export {
  type BackupFile,
  BackupManager,
  type BackupManagerOptions,
  formatBytes,
  type RestoreResult,
} from './backup/index.js';
export {
  dbBackupCommand,
  dbBackupsCommand,
  dbRestoreCommand,
  dbTablesCommand,
  makeMigrationCommand,
  migrateCommand,
  migrateFreshCommand,
  migrateResetStateCommand,
  migrateRollbackCommand,
  migrateSetupStep,
  migrateStatusCommand,
} from './commands/index.js';
export {
  type ConnectionConfig,
  type DatabaseConfig,
  type DatabaseConfigInput,
  DEFAULT_SQLITE_FILE,
  type DialectName,
  databaseConfigSchema,
  defineDatabaseConfig,
  type MysqlConnectionConfig,
  type PostgresConnectionConfig,
  resolveDatabaseConfig,
  type SqliteConnectionConfig,
  sqliteFilePath,
} from './config.js';
export {
  type AnyDatabase,
  Connection,
  type ConnectionOptions,
  type TransactionOptions,
} from './connection.js';
export {
  currentDatabaseManager,
  DatabaseManager,
  type DatabaseManagerOptions,
  db,
  setDatabaseManager,
} from './database-manager.js';
export { DatabaseProvider, usesDatabase } from './db-provider.js';
export { isDeadlock } from './deadlock.js';
export * from './errors.js';
export {
  operationOf,
  type QueryEvent,
  type QueryListener,
  type QueryOperation,
  translateError,
} from './instrumented-dialect.js';
export {
  collectMigrations,
  defineMigration,
  dialectOf,
  dropAllTables,
  type FolderMigrationSource,
  type FreshOptions,
  type FreshResult,
  increments,
  listTables,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  type MigrationEntry,
  MigrationRegistry,
  type MigrationRun,
  type MigrationSource,
  MigrationStateStore,
  type MigrationStatus,
  Migrator,
  type MigratorOptions,
  type ObjectMigrationSource,
  type RollbackOptions,
  type TableInfo,
  timestamps,
  type UnsafeState,
  withMigrationLock,
} from './migrations/index.js';
// Models: defineModel, column, the query builder, events, pagination, N+1 detection.
export * from './model/index.js';
export {
  type OperationStats,
  QueryStats,
  type QueryStatsSnapshot,
  redactParameters,
  type SlowQuery,
} from './query-stats.js';
export {
  defineSeeder,
  isSeeder,
  type Seeder,
  type SeederContext,
  type SeederDefinition,
} from './seeders/seeder.js';
export { dbSeedCommand, makeSeederCommand } from './seeders/seeder-commands.js';
export {
  discoverSeeders,
  runSeeders,
  type SeederFile,
  type SeederOutcome,
  selectSeeder,
} from './seeders/seeder-runner.js';
export {
  type DatabaseRuleOptions,
  exists,
  type UniqueOptions,
  unique,
} from './validation-rules.js';
