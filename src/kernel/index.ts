export { findAppFile, importSource, loadAppDefinition } from './app-loader.js';
export { type AppPaths, resolveAppPaths } from './app-paths.js';
export {
  type AppEnvironment,
  Application,
  type ApplicationOptions,
  type LoadedModule,
} from './application.js';
export { BootProfiler, type ProfileEntry } from './boot-profiler.js';
export {
  type CommandArgument,
  type CommandContext,
  type CommandDefinition,
  type CommandNeeds,
  type CommandOption,
  type CommandUI,
  defineCommand,
} from './command.js';
export * from './config/index.js';
export { type AppDefinition, defineApp } from './define-app.js';
export * from './env/index.js';
export * from './errors.js';
export {
  type ContextPropagator,
  type ExecutionScope,
  executionContext,
} from './execution-context.js';
export {
  type HealthCheckOptions,
  type HealthCheckOutcome,
  type HealthCheckRun,
  type HealthCheckStatus,
  HealthRegistry,
} from './health.js';
export { type AppState, Lifecycle } from './lifecycle.js';
export {
  createLogger,
  createNullLogger,
  isoTimeCached,
  type Logger,
  type LoggerSettings,
} from './logger.js';
export * from './logging/index.js';
export { type ModuleSource, scanModuleSource } from './module-source.js';
export { installSignalHandlers, type SignalHandlerOptions } from './signals.js';
export { canImportTypeScript, registerTypeScriptLoader } from './ts-loader.js';
