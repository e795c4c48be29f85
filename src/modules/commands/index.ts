export * from './errors.js';
export { type ModuleInfoOutput, moduleInfoCommand } from './module-info-command.js';
export {
  type ModuleListEntry,
  type ModuleListOutput,
  moduleListCommand,
} from './module-list-command.js';
export {
  camelCase,
  FRAMEWORK_MODULE_STUBS,
  kebabCase,
  MODULE_SCAFFOLD,
  type ModuleMakeOutput,
  moduleMakeCommand,
  pascalCase,
  renderStub,
  type StubVariables,
} from './module-make-command.js';
export {
  type ModuleToggleOutput,
  moduleDisableCommand,
  moduleEnableCommand,
} from './module-toggle-commands.js';
export {
  formatDuration,
  type ModuleWorkspace,
  openModuleWorkspace,
  readRuntimeView,
} from './module-workspace.js';
