import { defineError } from '../../support/index.js';

/**
 * The idempotency-key catalogue: a key the client sent wrong (400), a key missing where a
 * route requires one (400), a duplicate that arrived while the first was still running
 * (409, retry later), a key reused for a different request (422), configuration refused at
 * boot (500) and a store that cannot be reached (503).
 */

export const E_IDEMPOTENCY_KEY_INVALID = defineError(
  'E_IDEMPOTENCY_KEY_INVALID',
  (header: string, reason: string) => `Invalid ${header} header: ${reason}`,
  {
    status: 400,
    help: 'Send one Idempotency-Key header of 1 to 255 printable ASCII characters (a UUID is a good key).',
    details: (header, reason) => ({ header, reason }),
  },
);

export const E_IDEMPOTENCY_KEY_REQUIRED = defineError(
  'E_IDEMPOTENCY_KEY_REQUIRED',
  (header: string, method: string, path: string) =>
    `${method} ${path} requires an ${header} header`,
  {
    status: 400,
    help: 'Generate a unique key (a UUID) per operation, send it in the Idempotency-Key header, and send the same key again when you retry that operation.',
    details: (header) => ({ header }),
  },
);

export const E_IDEMPOTENCY_IN_FLIGHT = defineError(
  'E_IDEMPOTENCY_IN_FLIGHT',
  (retryAfter: number) =>
    `A request with this idempotency key is still being processed; retry in ${retryAfter} s`,
  {
    status: 409,
    help: 'Wait for the first request to finish (see Retry-After), then retry with the same key to receive its stored response.',
    details: (retryAfter) => ({ retryAfter }),
  },
);

export const E_IDEMPOTENCY_KEY_REUSED = defineError(
  'E_IDEMPOTENCY_KEY_REUSED',
  (header: string) =>
    `This ${header} was already used for a different request (another body, path or query)`,
  {
    status: 422,
    help: 'Use a new idempotency key for a new operation; retry an operation only with exactly the same method, path, query and body.',
    details: (header) => ({ header }),
  },
);

export const E_IDEMPOTENCY_CONFIG_INVALID = defineError(
  'E_IDEMPOTENCY_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid idempotency config at "${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix the named key in config/security.ts (security.idempotency) or the idempotent middleware arguments; docs/security/idempotency.md lists every option.',
    details: (key) => ({ key }),
  },
);

export const E_IDEMPOTENCY_STORE_UNAVAILABLE = defineError(
  'E_IDEMPOTENCY_STORE_UNAVAILABLE',
  (driver: string, reason: string) => `The ${driver} idempotency store is unavailable: ${reason}`,
  {
    status: 503,
    help: 'Check that the idempotency store (Redis or the database) runs and that security.idempotency in config/security.ts points at it; the request was not processed, so retry it with the same key.',
    details: (driver, reason) => ({ driver, reason }),
  },
);
