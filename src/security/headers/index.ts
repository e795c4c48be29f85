/** Security headers: CSP with per-request nonces, HSTS, framing, referrer and permissions policies. */
import './csp-nonce.js';

export {
  type CspDirectives,
  type CspOptions,
  DEFAULT_CSP_DIRECTIVES,
  DEFAULT_PERMISSIONS_POLICY,
  type HeadersConfig,
  type HstsOptions,
  type ResolvedHeadersProfile,
  resolveHeadersConfig,
  type SecurityHeadersOptions,
} from './headers-config.js';
export {
  type CompiledHeaders,
  compileHeaders,
  securityHeaders,
  securityHeadersFactory,
} from './security-headers.js';
