import { authTokensPruneCommand } from '../auth/commands/index.js';
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
  keyGenerateCommand,
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
import { securityCheckCommand } from '../security/audit/index.js';
import { idempotencyPruneCommand } from '../security/idempotency/commands/index.js';
import { rateLimitClearCommand } from '../security/rate-limit/commands/rate-limit-clear-command.js';
import { sessionCleanupCommand } from '../session/commands/session-cleanup-command.js';

/**
 * The framework's own commands. Each subsystem keeps its commands in its `commands/`
 * folder and lists them here, so the CLI finds them without scanning the disk.
 */
export const coreCommands: readonly CommandDefinition<never>[] = [
  serveCommand,
  setupInstallCommand,
  setupPermissionsCommand,
  keyGenerateCommand,
  compileCommand,
  buildCommand,
  cacheClearCommand,
  cacheGcCommand,
  cacheStatsCommand,
  cacheWarmCommand,
  locksPruneCommand,
  idempotencyPruneCommand,
  rateLimitClearCommand,
  authTokensPruneCommand,
  sessionCleanupCommand,
  securityCheckCommand,
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
