export {
  defineModule,
  isModuleName,
  isSemver,
  resolveLazy,
  validateManifest,
} from './define-module.js';
export * from './errors.js';
export { type DiscoverOptions, discoverModules, loadModuleFromFile } from './module-discovery.js';
export { ModuleGraph, type ModuleGraphOptions, type RelationOptions } from './module-graph.js';
export {
  type HookContextFactory,
  ModuleManager,
  type ModuleManagerOptions,
  type ModuleStatus,
  type SetupAction,
  type SetupOptions,
  type SetupReport,
  type SetupStep,
  type ToggleOptions,
} from './module-manager.js';
export {
  MODULE_RUNTIME_STATES,
  type ModuleErrorRecord,
  ModuleRuntime,
  type ModuleRuntimeOptions,
  type ModuleRuntimeSnapshot,
  type ModuleRuntimeState,
  type ModuleTransition,
} from './module-runtime.js';
export {
  ModuleRuntimeRegistry,
  type ModuleRuntimeRegistryOptions,
  type ModuleRuntimeRegistrySnapshot,
  readModuleRuntimeSnapshot,
} from './module-runtime-registry.js';
export {
  diffModuleState,
  emptyModuleState,
  type ModuleState,
  type ModuleStateDiff,
  type ModuleStateEntry,
  ModuleStateStore,
  type ReconcileOptions,
} from './module-state-store.js';
export type {
  DiscoveredModule,
  Lazy,
  ModuleHookContext,
  ModuleHookName,
  ModuleHooks,
  ModuleManifest,
  ModuleNode,
} from './types.js';
