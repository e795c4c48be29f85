import { defineError } from '../../support/index.js';

/**
 * The health catalogue: what the health endpoints answer when they refuse a request (401
 * without a valid bearer key, 403 from an address outside the allowlist, 404 for a check
 * nobody registered, 429 past the interim rate limit) and the configuration that the
 * provider refuses at boot (500).
 */

export const E_HEALTH_CONFIG_INVALID = defineError(
  'E_HEALTH_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid health config at "${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix the key in config/health.ts (or security.health_ip_allowlist in config/security.ts); docs/observability/health.md lists every option.',
    details: (key) => ({ key }),
  },
);

export const E_HEALTH_UNAUTHORIZED = defineError(
  'E_HEALTH_UNAUTHORIZED',
  (path: string) =>
    `${path} needs an allowlisted address or "Authorization: Bearer <HEALTH_API_KEY>"`,
  {
    status: 401,
    help: 'Send the HEALTH_API_KEY as a bearer token, or call from an address in security.health_ip_allowlist.',
  },
);

export const E_HEALTH_FORBIDDEN = defineError(
  'E_HEALTH_FORBIDDEN',
  (path: string) => `${path} is not open to this address`,
  {
    status: 403,
    help: 'Add the caller (the probe, the load balancer or its network) to security.health_ip_allowlist.',
  },
);

export const E_HEALTH_CHECK_NOT_FOUND = defineError(
  'E_HEALTH_CHECK_NOT_FOUND',
  (name: string) => `No health check named "${name}"`,
  {
    status: 404,
    help: 'GET the detailed health endpoint (/health) for the registered checks, or register it with app.health.register(name, check).',
    details: (name) => ({ check: name }),
  },
);

export const E_HEALTH_RATE_LIMITED = defineError(
  'E_HEALTH_RATE_LIMITED',
  (path: string, retryAfter: number) => `Too many requests to ${path}; retry in ${retryAfter} s`,
  {
    status: 429,
    help: 'Probe less often (a Kubernetes periodSeconds of 5-10 s is plenty), or raise health.endpoints.<name>.rateLimit.',
    details: (_path, retryAfter) => ({ retryAfter }),
  },
);
