export {
  CODE_STATS_SKIP_DIRS,
  type CodeStats,
  codeStatsCommand,
  collectCodeStats,
  countLines,
  type FileStats,
  type LineCounts,
  REFACTOR_THRESHOLD,
} from './code-stats-command.js';
export {
  type HealthCheckOptions,
  type HealthCheckResult,
  type HealthReport,
  type HealthStatus,
  healthCheckCommand,
  runHealthChecks,
} from './health-check-command.js';
export { keyGenerateCommand } from './key-generate-command.js';
export { serveCommand } from './serve-command.js';
export { setEnvValue, setupInstallCommand } from './setup-install-command.js';
export {
  ensureVarFolders,
  setupPermissionsCommand,
  varFolders,
} from './setup-permissions-command.js';
export {
  addSetupUpdateStep,
  gitHash,
  type SetupUpdateContext,
  type SetupUpdateOptions,
  type SetupUpdateStep,
  type SetupUpdateStepResult,
  type SetupUpdateSummary,
  setupUpdateCommand,
  setupUpdateSteps,
  setupUpdateStepsFor,
} from './setup-update-command.js';
