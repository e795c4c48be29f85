import type { HttpContext } from '../../http/index.js';
import { E_HTTPS_REQUIRED, E_SECURITY_CONFIG_INVALID } from '../errors.js';

/** `security.https` in config/security.ts. */
export interface HttpsConfig {
  /** Redirect or refuse plain-HTTP requests; defaults to the `FORCE_HTTPS` env variable. */
  force?: boolean;
  /** Paths served over plain HTTP too: exact, or prefixes ending in `/*` (health probes). */
  except?: readonly string[];
  /** Status redirecting GET and HEAD: 301 (the default) or 308. */
  redirectStatus?: 301 | 308;
  /**
   * Other methods: `'reject'` (403 `E_HTTPS_REQUIRED`, the default: their body already
   * crossed the network in clear, and a silent redirect would hide that) or `'redirect'`
   * (308, which keeps the method and body).
   */
  otherMethods?: 'reject' | 'redirect';
  /** The host to redirect to (`example.com`, `example.com:8443`); the request's host otherwise. */
  host?: string;
}

export interface HttpsPolicy {
  readonly redirectStatus: 301 | 308;
  readonly otherMethods: 'reject' | 'redirect';
  readonly host: string | undefined;
  except(path: string): boolean;
}

const KEYS = ['force', 'except', 'redirectStatus', 'otherMethods', 'host'];
const HOSTNAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/;
const HOST_WITH_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

function fail(key: string, reason: string): never {
  throw new E_SECURITY_CONFIG_INVALID(key, reason);
}

function parseFlag(raw: string): boolean | undefined {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(value)) return false;
  return undefined;
}

/**
 * Validate `security.https` (with `FORCE_HTTPS` as the default of `force`); undefined when
 * HTTPS is not enforced.
 *
 * @example
 * ```ts
 * const policy = resolveHttpsPolicy({ force: true, except: ['/healthz'] }, undefined);
 * ```
 */
export function resolveHttpsPolicy(
  config: unknown,
  env: string | undefined,
): HttpsPolicy | undefined {
  const c = (config ?? {}) as Record<string, unknown>;
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    fail('security.https', 'expected an object');
  for (const key of Object.keys(c))
    if (!KEYS.includes(key))
      fail(`security.https.${key}`, `unknown option (expected one of ${KEYS.join(', ')})`);
  let force: boolean | undefined;
  if (c.force !== undefined) {
    if (typeof c.force !== 'boolean') fail('security.https.force', 'expected true or false');
    force = c.force;
  } else if (env !== undefined) {
    force = parseFlag(env);
    if (force === undefined) fail('FORCE_HTTPS', `"${env}" is not true/false/1/0`);
  }
  if (!force) return undefined;
  if (c.redirectStatus !== undefined && c.redirectStatus !== 301 && c.redirectStatus !== 308)
    fail('security.https.redirectStatus', 'expected 301 or 308');
  if (c.otherMethods !== undefined && c.otherMethods !== 'reject' && c.otherMethods !== 'redirect')
    fail('security.https.otherMethods', "expected 'reject' or 'redirect'");
  if (c.host !== undefined && (typeof c.host !== 'string' || !HOST_WITH_PORT.test(c.host)))
    fail('security.https.host', 'expected a host like example.com or example.com:8443');
  const exact = new Set<string>();
  const prefixes: string[] = [];
  if (c.except !== undefined) {
    if (!Array.isArray(c.except))
      fail('security.https.except', "expected a list like ['/healthz']");
    for (const path of c.except) {
      if (typeof path !== 'string' || !path.startsWith('/'))
        fail('security.https.except', `${JSON.stringify(path)} must start with "/"`);
      if (path.endsWith('/*')) prefixes.push(path.slice(0, -1));
      else if (path.includes('*'))
        fail('security.https.except', `"${path}": "*" may only end a prefix`);
      else exact.add(path);
    }
  }
  return {
    redirectStatus: (c.redirectStatus as 301 | 308 | undefined) ?? 301,
    otherMethods: (c.otherMethods as 'reject' | 'redirect' | undefined) ?? 'reject',
    host: c.host as string | undefined,
    except: (path) =>
      exact.has(path) ||
      prefixes.some((prefix) => path.startsWith(prefix) || path === prefix.slice(0, -1)),
  };
}

function redirectHost(ctx: HttpContext, policy: HttpsPolicy): string | undefined {
  if (policy.host !== undefined) return policy.host;
  const host = ctx.host;
  if (host === undefined) return undefined;
  // The plain-HTTP port means nothing on HTTPS: keep the name, drop the port.
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return HOSTNAME.test(name) ? name : undefined;
}

/**
 * The kernel hook enforcing HTTPS before routing (unknown paths included): GET and HEAD
 * are redirected to the same URL on `https://`, other methods refused or redirected with
 * 308. "Over HTTPS" is `ctx.secure`: the socket's TLS, or `X-Forwarded-Proto: https`
 * from a trusted proxy (`http.trustProxy`); the header from anyone else is ignored.
 *
 * @example
 * ```ts
 * kernel.beforeRouting(httpsHook(policy));
 * ```
 */
export function httpsHook(policy: HttpsPolicy): (ctx: HttpContext) => boolean {
  return (ctx) => {
    if (ctx.secure || policy.except(ctx.path)) return false;
    const safe = ctx.method === 'GET' || ctx.method === 'HEAD';
    if (!safe && policy.otherMethods === 'reject') throw new E_HTTPS_REQUIRED(ctx.method, ctx.path);
    const host = redirectHost(ctx, policy);
    // Without a trustworthy host there is nowhere safe to send the client.
    if (host === undefined) throw new E_HTTPS_REQUIRED(ctx.method, ctx.path);
    const target = ctx.req.url ?? '/';
    // An absolute URL with our host first: whatever the path holds (`//evil.example/x`),
    // it cannot become another authority.
    ctx.redirect(
      `https://${host}${target.startsWith('/') ? target : `/${target}`}`,
      safe ? policy.redirectStatus : 308,
    );
    return true;
  };
}
