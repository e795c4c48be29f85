import { defineError } from '../../support/index.js';

/**
 * The logging catalogue: faults in `config/logging.ts` and log files that cannot be written,
 * raised while the application is created (before any provider runs), so a bad logging
 * setup stops the boot instead of losing lines silently.
 */

export const E_LOGGING_CONFIG_INVALID = defineError(
  'E_LOGGING_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid logging config at "logging.${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix the key named in config/logging.ts (see docs/observability/logging.md for the channel drivers and their options).',
    details: (key, reason) => ({ key, reason }),
  },
);

export const E_LOGGING_UNKNOWN_CHANNEL = defineError(
  'E_LOGGING_UNKNOWN_CHANNEL',
  (channel: string, usedBy: string, known: string[]) =>
    `Logging channel "${channel}" (used by ${usedBy}) is not defined; channels: ${known.join(', ')}`,
  {
    status: 500,
    help: 'Define the channel under logging.channels, or name one of the channels listed.',
    details: (channel, usedBy, known) => ({ channel, usedBy, known }),
  },
);

export const E_LOGGING_FILE_UNWRITABLE = defineError(
  'E_LOGGING_FILE_UNWRITABLE',
  (channel: string, path: string, reason: string) =>
    `Logging channel "${channel}" cannot write to ${path}: ${reason}`,
  {
    status: 500,
    help: "Create the log folder and give the application's user write access to it, or point the channel's path elsewhere.",
    details: (channel, path, reason) => ({ channel, path, reason }),
  },
);
