export { CommandRegistry } from './command-registry.js';
export { ConsoleUI, type ConsoleUIOptions } from './console-ui.js';
export { coreCommands } from './core-commands.js';
export * from './errors.js';
export { printError, type RunCliOptions, runCli } from './kernel-cli.js';
export { type BundledApp, runBundledApp } from './run-bundled.js';
