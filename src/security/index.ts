/**
 * Keel's security layer: encryption and signing, CSRF, security headers, CORS, IP
 * allowlists, HTTPS enforcement, input sanitizers, rate limiting, idempotency keys and
 * the `security:check` audit.
 */
export * from './audit/index.js';
export * from './cors/index.js';
export * from './csrf/index.js';
export * from './encryption/index.js';
export {
  E_CORS_ORIGIN_DENIED,
  E_HTTPS_REQUIRED,
  E_IP_FORBIDDEN,
  E_SECURITY_CONFIG_INVALID,
} from './errors.js';
export * from './headers/index.js';
export * from './https/index.js';
export * from './idempotency/index.js';
export * from './ip/index.js';
export * from './rate-limit/index.js';
export {
  compileSanitizeProfiles,
  compileSanitizers,
  DEFAULT_SANITIZERS,
  type PartRules,
  type SanitizeConfig,
  type SanitizeOptions,
  type Sanitizer,
  type SanitizerSpec,
  sanitize,
  sanitizeFactory,
  sanitizeMiddleware,
} from './sanitize/index.js';
export * as sanitizers from './sanitize/sanitizers.js';
export { SecurityGroupsProvider } from './security-groups-provider.js';
export {
  SECURITY_MIDDLEWARE_PRIORITY,
  SecurityMiddlewareProvider,
} from './security-middleware-provider.js';
export * from './signed-url/index.js';
