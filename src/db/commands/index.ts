export { dbBackupCommand, dbBackupsCommand, dbRestoreCommand } from './backup-commands.js';
export { type DbTablesOutput, dbTablesCommand } from './db-tables-command.js';
export {
  type MakeMigrationOutput,
  makeMigrationCommand,
  migrationName,
  migrationTemplate,
  snakeCase,
} from './make-migration-command.js';
export {
  confirmProduction,
  type FreshOutput,
  type MigrateOutput,
  migrateCommand,
  migrateFreshCommand,
  migrateResetStateCommand,
  migrateRollbackCommand,
  parseStep,
} from './migrate-commands.js';
export type { ConnectionMigrateOutcome, TakenBackup } from './migrate-runner.js';
export { migrateSetupStep } from './migrate-setup-step.js';
export { type ConnectionStatus, migrateStatusCommand } from './migrate-status-command.js';
