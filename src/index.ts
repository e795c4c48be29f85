/**
 * Keel's main entry: what an application's `keel.config.ts`, modules and config files use.
 * Each subsystem also has its own entry (`keel/http`, `keel/container`, ...).
 */
export {
  type BindingKey,
  Container,
  type ContainerBindings,
  inject,
  ServiceProvider,
  type Token,
  token,
} from './container/index.js';
export { defineListeners, EventBus, type EventMap } from './events/index.js';
export {
  type AppDefinition,
  Application,
  type CommandContext,
  type CommandDefinition,
  type ConfigBindings,
  defineApp,
  defineCommand,
  defineConfig,
  defineEnvSchema,
  env,
  type Logger,
} from './kernel/index.js';
export { defineModule, type ModuleHooks, type ModuleManifest } from './modules/index.js';
export { defineError, isKeelError, KeelError, parseDuration } from './support/index.js';
