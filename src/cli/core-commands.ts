import { buildCommand, cacheClearCommand, compileCommand } from '../compiler/commands/index.js';
import {
  serveCommand,
  setupInstallCommand,
  setupPermissionsCommand,
} from '../kernel/commands/index.js';
import type { CommandDefinition } from '../kernel/index.js';

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
] as CommandDefinition<never>[];
