import { defineError } from '../support/index.js';

export const E_COMMAND_NOT_FOUND = defineError(
  'E_COMMAND_NOT_FOUND',
  (name: string, suggestion?: string) =>
    `Unknown command "${name}"${suggestion ? `. Did you mean "${suggestion}"?` : ''}`,
  {
    status: 404,
    help: 'Run `keel --help` to list the commands, including those of enabled modules.',
  },
);

export const E_COMMAND_CONFLICT = defineError(
  'E_COMMAND_CONFLICT',
  (name: string, first: string, second: string) =>
    `Command name or alias "${name}" is defined twice: by ${first} and by ${second}`,
  { help: 'Rename one of the commands or drop the duplicate alias.' },
);

export const E_INVALID_COMMAND = defineError(
  'E_INVALID_COMMAND',
  (source: string, problem: string) => `Invalid command from ${source}: ${problem}`,
  {
    help: 'Commands are defineCommand({ name, description, handle }) objects; check the one named.',
  },
);

export const E_COMMAND_FAILED = defineError(
  'E_COMMAND_FAILED',
  (name: string, reason: string) => `Command ${name} failed: ${reason}`,
  { help: 'Run it again with --verbose for the stack trace and cause.' },
);
