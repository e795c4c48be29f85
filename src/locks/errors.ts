import { defineError } from '../support/index.js';

/**
 * The locks catalogue: contention a caller can retry (423: the resource is locked),
 * a lease lost to expiry (409: the work may have overlapped another holder's), invalid
 * names, durations or configuration (programming errors, 500), and a store that cannot
 * be reached (503).
 */

export const E_LOCK_NOT_ACQUIRED = defineError(
  'E_LOCK_NOT_ACQUIRED',
  (name: string) => `Lock "${name}" is held by another owner`,
  {
    status: 423,
    help: 'Retry later, or wait for it with lock.block(timeout) / run(fn, { wait }) instead of failing at once.',
    details: (name) => ({ name }),
  },
);

export const E_LOCK_TIMEOUT = defineError(
  'E_LOCK_TIMEOUT',
  (name: string, waitedMs: number) => `Timed out after ${waitedMs} ms waiting for lock "${name}"`,
  {
    status: 423,
    help: 'Another owner held the lock for the whole wait: wait longer, shorten the work done under the lock, or check for a holder that never releases.',
    details: (name, waitedMs) => ({ name, waitedMs }),
  },
);

export const E_LOCK_NOT_OWNED = defineError(
  'E_LOCK_NOT_OWNED',
  (name: string, reason: string) => `Lock "${name}" is not owned by this holder: ${reason}`,
  {
    status: 409,
    help: 'The lease expired (and may have been taken by another owner) before the work finished: use a longer ttl or run(fn, { autoExtend: true }), and check the fencing token where you write.',
    details: (name, reason) => ({ name, reason }),
  },
);

export const E_LOCK_INVALID_NAME = defineError(
  'E_LOCK_INVALID_NAME',
  (name: unknown, reason: string) =>
    `Invalid lock name ${typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name}: ${reason}`,
  {
    status: 500,
    help: 'Use a non-empty string of at most 255 characters, without NUL or unpaired surrogate characters.',
    details: (_name, reason) => ({ reason }),
  },
);

export const E_LOCK_INVALID_TTL = defineError(
  'E_LOCK_INVALID_TTL',
  (input: unknown, reason: string) => `Invalid lock duration ${JSON.stringify(input)}: ${reason}`,
  {
    status: 500,
    help: "Give a positive duration in milliseconds or as a string such as '500ms', '10s' or '5m' (at most 30 days).",
    details: (input, reason) => ({ input: String(input), reason }),
  },
);

export const E_LOCK_CONFIG_INVALID = defineError(
  'E_LOCK_CONFIG_INVALID',
  (path: string, reason: string) => `Invalid locks config at "${path}": ${reason}`,
  {
    status: 500,
    help: 'Fix config/locks.ts (or LOCK_DRIVER: memory, database or redis); see docs/locks.md for every option.',
    details: (path) => ({ path }),
  },
);

export const E_LOCK_STORE_UNAVAILABLE = defineError(
  'E_LOCK_STORE_UNAVAILABLE',
  (driver: string, reason: string) => `The ${driver} lock store is unavailable: ${reason}`,
  {
    status: 503,
    help: 'Check that the lock store (Redis) runs and that config/locks.ts points at it; an acquire cut off mid-way may still hold its lock until the ttl ends.',
    details: (driver, reason) => ({ driver, reason }),
  },
);
