import type { HttpContext, MiddlewareFn, Next } from '../../http/index.js';
import { suggest } from '../../support/index.js';
import { E_SECURITY_CONFIG_INVALID } from '../errors.js';
import { assignNonce } from './csp-nonce.js';
import {
  type CspDirectives,
  DEFAULT_CSP_DIRECTIVES,
  type ResolvedHeadersProfile,
} from './headers-config.js';

/** A profile turned into header values, computed once at boot. */
export interface CompiledHeaders {
  /** Headers whose value never changes: set as they are on every response. */
  readonly fixed: readonly (readonly [string, string])[];
  /** `Strict-Transport-Security`, sent only over HTTPS; undefined when off. */
  readonly hsts: string | undefined;
  /** The CSP header name and its value around the nonce: `parts.join(nonce)`. */
  readonly csp: { readonly name: string; readonly parts: readonly string[] } | undefined;
}

// Never a valid CSP source, so splitting on it finds exactly the places the nonce goes.
const SLOT = '\u0000nonce\u0000';

function sourcesOf(value: CspDirectives[string]): string[] {
  if (value === true) return [];
  if (value === false) return [];
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [...value];
}

function serializeCsp(profile: ResolvedHeadersProfile): string | undefined {
  const csp = profile.contentSecurityPolicy;
  if (csp === false) return undefined;
  const directives: Record<string, string[] | true> = {};
  for (const [name, value] of Object.entries(csp.directives)) {
    if (value === false) continue;
    directives[name] = value === true ? true : sourcesOf(value);
  }
  // The default directives forbid framing; a SAMEORIGIN profile means framing by itself.
  if (csp.directives === DEFAULT_CSP_DIRECTIVES && profile.frameOptions === 'SAMEORIGIN')
    directives['frame-ancestors'] = ["'self'"];
  if (csp.nonce) {
    // script-src/style-src replace default-src for their kind: start from what default-src
    // allowed, then add the nonce (a nonce makes browsers ignore 'unsafe-inline').
    const fallback = directives['default-src'];
    for (const name of ['script-src', 'style-src']) {
      const own = directives[name];
      const base = Array.isArray(own) ? own : Array.isArray(fallback) ? fallback : ["'self'"];
      directives[name] = [...base.filter((s) => s !== "'none'"), `'nonce-${SLOT}'`];
    }
  }
  return Object.entries(directives)
    .map(([name, sources]) =>
      sources === true || sources.length === 0 ? name : `${name} ${sources.join(' ')}`,
    )
    .join('; ');
}

function serializePermissions(policy: Record<string, readonly string[]>): string {
  return Object.entries(policy)
    .map(([feature, allow]) => {
      if (allow.includes('*')) return `${feature}=*`;
      const list = allow.map((origin) => (origin === 'self' ? 'self' : `"${origin}"`));
      return `${feature}=(${list.join(' ')})`;
    })
    .join(', ');
}

/**
 * Turn a resolved profile into header values. HSTS is kept only when `production` is true:
 * outside production a developer's `localhost` must never be pinned to HTTPS for a year.
 *
 * @example
 * ```ts
 * const compiled = compileHeaders(profiles.get('api')!, { production: true });
 * ```
 */
export function compileHeaders(
  profile: ResolvedHeadersProfile,
  options: { production: boolean },
): CompiledHeaders {
  const fixed: [string, string][] = [];
  const add = (name: string, value: string | false | undefined) => {
    if (value !== false && value !== undefined) fixed.push([name, value]);
  };
  const policy = serializeCsp(profile);
  const cspOptions = profile.contentSecurityPolicy;
  const cspName =
    cspOptions !== false && cspOptions.reportOnly
      ? 'content-security-policy-report-only'
      : 'content-security-policy';
  let csp: CompiledHeaders['csp'];
  if (policy !== undefined) {
    const parts = policy.split(SLOT);
    if (parts.length === 1) add(cspName, policy);
    else csp = { name: cspName, parts };
  }
  add('x-content-type-options', profile.noSniff && 'nosniff');
  add('x-frame-options', profile.frameOptions);
  add('referrer-policy', profile.referrerPolicy);
  add(
    'permissions-policy',
    profile.permissionsPolicy && Object.keys(profile.permissionsPolicy).length > 0
      ? serializePermissions(profile.permissionsPolicy)
      : false,
  );
  add('cross-origin-opener-policy', profile.crossOriginOpenerPolicy);
  add('cross-origin-resource-policy', profile.crossOriginResourcePolicy);
  add('cross-origin-embedder-policy', profile.crossOriginEmbedderPolicy);
  add('origin-agent-cluster', profile.originAgentCluster && '?1');
  add('x-dns-prefetch-control', profile.dnsPrefetch ? 'on' : 'off');
  const hsts =
    options.production && profile.hsts
      ? `max-age=${profile.hsts.maxAge}${profile.hsts.includeSubDomains ? '; includeSubDomains' : ''}${profile.hsts.preload ? '; preload' : ''}`
      : undefined;
  return { fixed, hsts, csp };
}

/**
 * The `security` middleware for one compiled profile. Headers go on before the handler
 * runs, so error responses carry them too and a handler may still override one.
 *
 * @example
 * ```ts
 * kernel.middleware.register('security', ([name]) => securityHeaders(compiled.get(name ?? 'default')!));
 * ```
 */
export function securityHeaders(compiled: CompiledHeaders): MiddlewareFn {
  const { fixed, hsts, csp } = compiled;
  return function securityHeadersMiddleware(ctx: HttpContext, next: Next) {
    for (let i = 0; i < fixed.length; i++) ctx.setHeader(fixed[i]![0], fixed[i]![1]);
    if (hsts !== undefined && ctx.secure) ctx.setHeader('strict-transport-security', hsts);
    if (csp !== undefined) {
      const nonce = assignNonce(ctx);
      ctx.setHeader(csp.name, csp.parts.join(nonce));
      ctx.shareWithViews({ cspNonce: nonce });
    }
    return next();
  };
}

/**
 * Compile every profile at once (so a broken one fails the boot) and build the factory
 * behind the `security[:profile]` alias.
 */
export function securityHeadersFactory(
  profiles: ReadonlyMap<string, ResolvedHeadersProfile>,
  options: { production: boolean },
): (args: string[]) => MiddlewareFn {
  const middleware = new Map<string, MiddlewareFn>();
  for (const [name, profile] of profiles)
    middleware.set(name, securityHeaders(compileHeaders(profile, options)));
  return (args) => {
    const name = args[0] || 'default';
    const found = middleware.get(name);
    if (found === undefined) {
      const nearest = suggest(name, middleware.keys());
      throw new E_SECURITY_CONFIG_INVALID(
        `security.headers.profiles.${name}`,
        `no such profile (used as "security:${name}")${nearest ? `; did you mean "${nearest}"?` : ''}`,
      );
    }
    return found;
  };
}
