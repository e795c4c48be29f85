import { cacheGcCommand, cacheStatsCommand, cacheWarmCommand } from '../cache/commands/index.js';
import { buildCommand, cacheClearCommand, compileCommand } from '../compiler/commands/index.js';
import {
  dbBackupCommand,
  dbBackupsCommand,
  dbRestoreCommand,
  dbTablesCommand,
  makeMigrationCommand,
  migrateCommand,
  migrateFreshCommand,
  migrateResetStateCommand,
  migrateRollbackCommand,
  migrateStatusCommand,
} from '../db/commands/index.js';
import { dbSeedCommand, makeSeederCommand } from '../db/seeders/seeder-commands.js';
import { errorsTopCommand } from '../http/errors/commands/index.js';
import { routesListCommand } from '../http/router/commands/routes-list-command.js';
import {
  codeStatsCommand,
  healthCheckCommand,
  serveCommand,
  setupInstallCommand,
  setupPermissionsCommand,
  setupUpdateCommand,
} from '../kernel/commands/index.js';
import type { CommandDefinition } from '../kernel/index.js';
import { locksPruneCommand } from '../locks/commands/index.js';
import {
  moduleDisableCommand,
  moduleEnableCommand,
  moduleInfoCommand,
  moduleListCommand,
  moduleMakeCommand,
} from '../modules/commands/index.js';
import { metricsShowCommand } from '../observability/metrics/commands/index.js';
import {
  queueClearCommand,
  queueFailedCommand,
  queueFlushCommand,
  queueForgetCommand,
  queueMonitorCommand,
  queuePruneCommand,
  queueRetryCommand,
  queueWorkCommand,
  queueWorkersCommand,
} from '../queue/commands/index.js';
import {
  scheduleListCommand,
  scheduleRunCommand,
  scheduleWorkCommand,
} from '../queue/schedule/commands/index.js';

/**
 * The framework's own commands. Each subsystem keeps its commands in its `commands/`
 * folder and lists them here, so the CLI finds them without scanning the disk.
 */
export const coreCommands: readonly CommandDefinition<never>[] = [
  serveCommand,
  setupInstallCommand,
  setupPermissionsCommand,
  compileCommand,
  buildCommand,
  cacheClearCommand,
  cacheGcCommand,
  cacheStatsCommand,
  cacheWarmCommand,
  locksPruneCommand,
  queueWorkCommand,
  queueFailedCommand,
  queueRetryCommand,
  queueForgetCommand,
  queueFlushCommand,
  queueMonitorCommand,
  queueClearCommand,
  queuePruneCommand,
  queueWorkersCommand,
  scheduleListCommand,
  scheduleRunCommand,
  scheduleWorkCommand,
  setupUpdateCommand,
  healthCheckCommand,
  codeStatsCommand,
  moduleListCommand,
  moduleInfoCommand,
  moduleEnableCommand,
  moduleDisableCommand,
  moduleMakeCommand,
  routesListCommand,
  errorsTopCommand,
  metricsShowCommand,
  dbSeedCommand,
  makeSeederCommand,
  migrateCommand,
  migrateRollbackCommand,
  migrateStatusCommand,
  migrateFreshCommand,
  migrateResetStateCommand,
  makeMigrationCommand,
  dbBackupCommand,
  dbBackupsCommand,
  dbRestoreCommand,
  dbTablesCommand,
] as CommandDefinition<never>[];
