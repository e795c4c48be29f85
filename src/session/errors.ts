import { defineError } from '../support/index.js';

export const E_SESSION_NOT_STARTED = defineError(
  'E_SESSION_NOT_STARTED',
  (path: string) => `ctx.session was read on ${path}, but the session middleware did not run`,
  {
    status: 500,
    help: "Add the 'session' middleware to the route or its group: router.get(...).middleware(['session']), or kernel.middleware.group('web', ['session']).",
  },
);

export const E_SESSION_CONFIG_INVALID = defineError(
  'E_SESSION_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid session config at session.${key}: ${reason}`,
  {
    status: 500,
    help: 'Fix the key in config/session.ts (or SESSION_DRIVER, SESSION_LIFETIME, SESSION_COOKIE, SESSION_SECURE_COOKIE); docs/sessions.md lists every option.',
  },
);

export const E_SESSION_COOKIE_TOO_LARGE = defineError(
  'E_SESSION_COOKIE_TOO_LARGE',
  (bytes: number, max: number) =>
    `The cookie session store needs ${bytes} bytes for this session; a cookie holds at most ${max}`,
  {
    status: 500,
    help: 'Keep less in the session (ids, not records), or switch SESSION_DRIVER to database, redis or file, which keep the data on the server.',
  },
);

export const E_SESSION_STORE_UNSUPPORTED = defineError(
  'E_SESSION_STORE_UNSUPPORTED',
  (driver: string, operation: string) =>
    `The ${driver} session store cannot ${operation}: its sessions live in the browser, not on the server`,
  {
    status: 500,
    help: 'Listing and ending sessions from the server needs a server-side store: set SESSION_DRIVER to database, redis, file or memory.',
  },
);

export const E_SESSION_DATA_INVALID = defineError(
  'E_SESSION_DATA_INVALID',
  (key: string, reason: string) => `Cannot store session key "${key}": ${reason}`,
  {
    status: 500,
    help: 'Session values are stored as JSON: put strings, numbers, booleans, null, arrays and plain objects (no undefined, functions, BigInt or class instances with hidden state).',
  },
);
