import { defineError } from '../../support/index.js';

/**
 * The rate-limit catalogue: a client over its allowance (429, with `Retry-After`), a
 * limiter store that cannot answer while the app fails closed (503), and what the
 * provider refuses at boot or a caller asks for that does not exist (500).
 */

export const E_RATE_LIMITED = defineError(
  'E_RATE_LIMITED',
  (limiter: string, retryAfter: number) =>
    `Too many requests (limiter "${limiter}"); retry in ${retryAfter} s`,
  {
    status: 429,
    help: 'Wait for the Retry-After seconds before the next request; raise the limiter in security.rate_limit (config/security.ts) if legitimate clients hit it.',
    details: (limiter, retryAfter) => ({ limiter, retryAfter }),
  },
);

export const E_RATE_LIMIT_STORE_UNAVAILABLE = defineError(
  'E_RATE_LIMIT_STORE_UNAVAILABLE',
  (limiter: string, store: string) =>
    `The rate-limit store (${store}) did not answer for limiter "${limiter}" and rate_limit.onStoreError is "closed"`,
  {
    status: 503,
    help: 'Bring the rate-limit store (Redis or the database) back, or set security.rate_limit.onStoreError to "open" to fall back to a per-process memory limiter during outages.',
    details: (limiter, store) => ({ limiter, store, retryAfter: 5 }),
  },
);

export const E_RATE_LIMIT_CONFIG_INVALID = defineError(
  'E_RATE_LIMIT_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid rate-limit config at "${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix the named key under security.rate_limit in config/security.ts (or RATE_LIMIT_STORE / RATE_LIMIT_ATTEMPTS / RATE_LIMIT_WINDOW); docs/security/rate-limiting.md lists every option.',
    details: (key) => ({ key }),
  },
);

export const E_RATE_LIMITER_NOT_FOUND = defineError(
  'E_RATE_LIMITER_NOT_FOUND',
  (name: string, suggestion: string | undefined) =>
    `No rate limiter named "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
  {
    status: 500,
    help: 'Declare the limiter under security.rate_limit.limiters in config/security.ts, or use throttle:<points>,<seconds> for an unnamed one.',
    details: (name) => ({ limiter: name }),
  },
);
