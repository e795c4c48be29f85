import { defineError } from '../support/index.js';

/**
 * The security middleware catalogue (headers, CORS, IP allowlists, HTTPS enforcement,
 * sanitizers): configuration refused at boot (500) and requests refused at the door (403).
 * Rate limiting, CSRF and the other security parts keep their codes in their own folders.
 */

export const E_SECURITY_CONFIG_INVALID = defineError(
  'E_SECURITY_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid security config at "${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix the named key in config/security.ts; docs/security/headers.md and docs/security/cors.md list every option.',
    details: (key) => ({ key }),
  },
);

export const E_CORS_ORIGIN_DENIED = defineError(
  'E_CORS_ORIGIN_DENIED',
  (origin: string, path: string, reason: string) =>
    `CORS preflight for ${path} from origin ${JSON.stringify(origin.slice(0, 200))} refused: ${reason}`,
  {
    status: 403,
    help: 'Add the origin (or a *.domain wildcard) to security.cors.origins, and the method and headers to security.cors.methods / security.cors.headers.',
  },
);

export const E_IP_FORBIDDEN = defineError(
  'E_IP_FORBIDDEN',
  (path: string) => `${path} is not open to this address`,
  {
    status: 403,
    help: 'Call from an address in the allowlist named by the allow_ip middleware (security.ip.lists in config/security.ts); behind a proxy, set http.trustProxy so the client address is used.',
  },
);

export const E_HTTPS_REQUIRED = defineError(
  'E_HTTPS_REQUIRED',
  (method: string, path: string) => `${method} ${path} must be sent over HTTPS`,
  {
    status: 403,
    help: 'Send the request to the https:// URL; behind a TLS-terminating proxy, set http.trustProxy so X-Forwarded-Proto is honoured.',
  },
);
