import { defineError } from '../../support/index.js';

/**
 * The CSRF catalogue: an unsafe request on a web route refused because it did not prove it
 * came from the application's own pages (403), and configuration refused at boot (500).
 */

export const E_CSRF_TOKEN_MISMATCH = defineError(
  'E_CSRF_TOKEN_MISMATCH',
  (method: string, path: string, reason: string) =>
    `CSRF check failed for ${method} ${path}: ${reason}`,
  {
    status: 403,
    help: "Send the session's CSRF token as the csrf_token form field or the X-CSRF-TOKEN header (SPAs: echo the XSRF-TOKEN cookie in X-XSRF-TOKEN); reload the page if the token expired.",
  },
);

export const E_CSRF_ORIGIN_MISMATCH = defineError(
  'E_CSRF_ORIGIN_MISMATCH',
  (method: string, path: string, origin: string) =>
    `CSRF check failed for ${method} ${path}: the request came from another site (${JSON.stringify(origin.slice(0, 200))})`,
  {
    status: 403,
    help: 'Submit the form from a page of this application, or list the other origin in security.csrf.trustedOrigins.',
  },
);

export const E_CSRF_CONFIG_INVALID = defineError(
  'E_CSRF_CONFIG_INVALID',
  (key: string, reason: string) => `Invalid CSRF config at "security.csrf.${key}": ${reason}`,
  {
    status: 500,
    help: 'Fix the named key in config/security.ts; docs/security/csrf.md lists every option.',
    details: (key) => ({ key: `security.csrf.${key}` }),
  },
);

export const E_CSRF_NOT_STARTED = defineError(
  'E_CSRF_NOT_STARTED',
  (route: string) =>
    `ctx.csrfToken() was called on ${route}, which does not run the csrf middleware`,
  {
    status: 500,
    help: "Put the route in the 'web' middleware group (session + csrf), or add the 'session' and 'csrf' middleware to it.",
  },
);
