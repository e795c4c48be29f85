import { defineError } from '../support/index.js';

export const E_ILLEGAL_STATE_TRANSITION = defineError(
  'E_ILLEGAL_STATE_TRANSITION',
  (from: string, to: string) => `Illegal application state transition: ${from} → ${to}`,
  {
    help: 'Call the lifecycle methods in order: register, boot, start, ready, shutdown. A failed application must be recreated.',
  },
);

export const E_APP_FAILED = defineError(
  'E_APP_FAILED',
  (phase: string, reason: string) => `Application failed during ${phase}: ${reason}`,
  { help: 'Read the cause below; the provider or module named there is the one to fix.' },
);

export const E_APP_CONFIG_NOT_FOUND = defineError(
  'E_APP_CONFIG_NOT_FOUND',
  (dir: string) => `No keel.config.ts or keel.config.js found in ${dir}`,
  {
    help: 'Run the command from the application folder, pass --cwd <dir>, or create keel.config.ts with defineApp({ name }).',
  },
);

export const E_INVALID_APP_CONFIG = defineError(
  'E_INVALID_APP_CONFIG',
  (file: string, problems: string[]) =>
    `Invalid application definition in ${file}:\n  ${problems.join('\n  ')}`,
  {
    help: 'keel.config.ts must default-export defineApp({ name, modules, ... }); fix the fields listed.',
  },
);

export const E_SHUTDOWN_TIMEOUT = defineError(
  'E_SHUTDOWN_TIMEOUT',
  (ms: number, pending: string) =>
    `Graceful shutdown did not finish within ${ms} ms (still running: ${pending})`,
  {
    help: 'Raise app.shutdownTimeout, or make the named provider’s shutdown() finish sooner (close pools, stop timers).',
  },
);
