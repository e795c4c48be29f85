import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RouteListEntry } from '../../http/router/route-table.js';
import { parseAppKey } from '../../kernel/index.js';
import type { AuditFinding } from './audit-finding.js';

/** What the checks read: the configuration as the app would run it, and its routes. */
export interface AuditInput {
  /** Audit as production (`--production`, or the app runs in production). */
  production: boolean;
  /** APP_DEBUG as the app resolved it. */
  debug: boolean;
  env(name: string): string | undefined;
  config(key: string): unknown;
  /** The route table (`routes:list`), when the HTTP kernel is registered. */
  routes: readonly RouteListEntry[] | undefined;
  /** The app root, where `.env.example` may hold the placeholder key. */
  root: string;
  /** Whether the container binds `key` (which subsystems the app runs). */
  bound(key: string): boolean;
  /** Resolvers of the subsystems' configs (each throws on an invalid config). */
  resolve: {
    session?(): { driver: string; cookie: { secure: boolean; sameSite: string } } | undefined;
    headers?(): { hsts: unknown; contentSecurityPolicy: unknown } | undefined;
    database?(): Record<string, Record<string, unknown>> | undefined;
  };
}

type Check = (input: AuditInput) => AuditFinding[];

const UNSAFE = /\b(POST|PUT|PATCH|DELETE|ANY)\b/;
/** Routes that authenticate or reset credentials: brute-force targets, reachable without auth. */
const AUTH_PATH =
  /\/(login|log-in|signin|sign-in|logout|register|signup|sign-up|password|passwords|forgot|reset|token|tokens|oauth|2fa|otp|mfa|verify)(\/|$)/i;
const COMMON_PASSWORDS = new Set([
  'password',
  'secret',
  'root',
  'postgres',
  'admin',
  'changeme',
  'mysql',
  '123456',
  'test',
]);

const finding = (f: AuditFinding): AuditFinding => f;

const appKey: Check = ({ env, root }) => {
  const key = env('APP_KEY');
  const fix =
    'Run `keel key:generate` and keep the key in the deployment secrets, not in the repository.';
  if (key === undefined || key.trim() === '')
    return [
      finding({
        id: 'app-key-missing',
        severity: 'critical',
        title: 'APP_KEY is not set: nothing can be encrypted or signed',
        subject: 'APP_KEY',
        fix,
      }),
    ];
  let bytes: Buffer;
  try {
    bytes = parseAppKey(key);
  } catch (error) {
    return [
      finding({
        id: 'app-key-invalid',
        severity: 'critical',
        title: `APP_KEY is unusable: ${(error as Error).message}`,
        subject: 'APP_KEY',
        fix,
      }),
    ];
  }
  const found: AuditFinding[] = [];
  if (new Set(bytes).size < 16)
    found.push(
      finding({
        id: 'app-key-weak',
        severity: 'critical',
        title: 'APP_KEY is a placeholder (its 32 bytes are nearly all the same), not a random key',
        subject: 'APP_KEY',
        fix,
      }),
    );
  const example = join(root, '.env.example');
  if (existsSync(example) && readFileSync(example, 'utf8').includes(key.trim()))
    found.push(
      finding({
        id: 'app-key-default',
        severity: 'critical',
        title: 'APP_KEY is the one published in .env.example',
        subject: 'APP_KEY',
        fix,
      }),
    );
  for (const previous of (env('APP_PREVIOUS_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)) {
    try {
      parseAppKey(previous);
    } catch (error) {
      found.push(
        finding({
          id: 'app-previous-key-invalid',
          severity: 'high',
          title: `an APP_PREVIOUS_KEYS entry is unusable: ${(error as Error).message}`,
          subject: 'APP_PREVIOUS_KEYS',
          fix: 'Remove it, or restore the exact key that was rotated out.',
        }),
      );
    }
  }
  return found;
};

const debug: Check = ({ production, debug }) =>
  production && debug
    ? [
        finding({
          id: 'debug-in-production',
          severity: 'critical',
          title: 'debug is on in production: error pages show stacks, causes and SQL',
          subject: 'APP_DEBUG',
          fix: 'Set APP_DEBUG=false (or remove it) in the production environment.',
        }),
      ]
    : [];

const session: Check = ({ production, resolve }) => {
  const config = resolve.session?.();
  if (config === undefined) return [];
  const found: AuditFinding[] = [];
  if (production && !config.cookie.secure)
    found.push(
      finding({
        id: 'session-cookie-insecure',
        severity: 'high',
        title: 'the session cookie is sent over plain HTTP (no Secure flag, no __Host- prefix)',
        subject: 'session.cookie.secure / SESSION_SECURE_COOKIE',
        fix: 'Remove SESSION_SECURE_COOKIE=false: production cookies are Secure by default; serve the app over HTTPS.',
      }),
    );
  if (config.cookie.sameSite === 'none')
    found.push(
      finding({
        id: 'session-cookie-samesite-none',
        severity: 'medium',
        title: 'the session cookie is SameSite=None: every cross-site request carries it',
        subject: 'session.cookie.sameSite',
        fix: "Use 'lax' (the default) unless another site must embed authenticated pages.",
      }),
    );
  if (production && config.driver === 'memory')
    found.push(
      finding({
        id: 'session-store-memory',
        severity: 'high',
        title:
          'sessions are kept in process memory: lost on restart and not shared between workers',
        subject: 'session.driver / SESSION_DRIVER',
        fix: "Use the 'database' or 'redis' driver in production.",
      }),
    );
  return found;
};

const corsAndCsrf: Check = ({ config, production }) => {
  const found: AuditFinding[] = [];
  const cors = config('security.cors') as { origins?: unknown; credentials?: unknown } | undefined;
  const origins = Array.isArray(cors?.origins)
    ? cors.origins
    : cors?.origins === undefined
      ? []
      : [cors.origins];
  if (origins.some((o) => o === '*'))
    found.push(
      finding({
        id: 'cors-wildcard',
        severity: cors?.credentials === true ? 'critical' : 'medium',
        title:
          cors?.credentials === true
            ? 'CORS allows any origin with credentials'
            : 'CORS allows any origin',
        subject: 'security.cors.origins',
        fix: 'List the origins that need access (https://app.example.com, *.example.com).',
      }),
    );
  const csrf = config('security.csrf') as { exempt?: unknown; checkOrigin?: unknown } | undefined;
  if (Array.isArray(csrf?.exempt) && csrf.exempt.some((p) => p === '/*' || p === '*'))
    found.push(
      finding({
        id: 'csrf-exempt-everything',
        severity: 'high',
        title: 'CSRF protection is exempted for every path',
        subject: 'security.csrf.exempt',
        fix: 'Exempt only the paths that authenticate otherwise (signed webhooks).',
      }),
    );
  if (production && csrf?.checkOrigin === false)
    found.push(
      finding({
        id: 'csrf-origin-check-off',
        severity: 'low',
        title: 'cross-site requests with a valid token are accepted (origin check off)',
        subject: 'security.csrf.checkOrigin',
        fix: 'Leave checkOrigin on; list other trusted sites in security.csrf.trustedOrigins.',
      }),
    );
  return found;
};

const transport: Check = ({ production, resolve, env, config }) => {
  if (!production) return [];
  const found: AuditFinding[] = [];
  const headers = resolve.headers?.();
  if (headers !== undefined && headers.hsts === false)
    found.push(
      finding({
        id: 'hsts-off',
        severity: 'high',
        title: 'HSTS is off in production: a first plain-HTTP visit can be intercepted',
        subject: 'security.headers.hsts',
        fix: 'Remove hsts: false; the default is max-age=31536000; includeSubDomains.',
      }),
    );
  if (headers !== undefined && headers.contentSecurityPolicy === false)
    found.push(
      finding({
        id: 'csp-off',
        severity: 'medium',
        title: 'no Content-Security-Policy: an injected script runs unhindered',
        subject: 'security.headers.contentSecurityPolicy',
        fix: "Keep the default CSP (default-src 'self') and add the sources pages need.",
      }),
    );
  const https = config('security.https') as { force?: unknown } | undefined;
  const force = env('FORCE_HTTPS');
  if (https?.force !== true && !(force !== undefined && /^(true|1)$/i.test(force)))
    found.push(
      finding({
        id: 'https-not-enforced',
        severity: 'medium',
        title: 'plain HTTP requests are served instead of redirected to HTTPS',
        subject: 'FORCE_HTTPS / security.https.force',
        fix: 'Set FORCE_HTTPS=true (behind a TLS-terminating proxy, also http.trustProxy).',
      }),
    );
  return found;
};

const endpoints: Check = ({ production, config, env, bound }) => {
  if (!production) return [];
  const found: AuditFinding[] = [];
  const trustProxy = config('http.trustProxy');
  const proxied = trustProxy !== undefined && trustProxy !== false;
  const metrics = config('metrics') as { enabled?: unknown; apiKey?: unknown } | undefined;
  if (
    bound('metrics') &&
    metrics?.enabled !== false &&
    metrics?.apiKey === undefined &&
    !env('METRICS_API_KEY') &&
    !proxied
  )
    found.push(
      finding({
        id: 'metrics-open-behind-proxy',
        severity: 'medium',
        title:
          '/_metrics answers loopback callers without a key: behind a local reverse proxy, every visitor is loopback',
        subject: 'METRICS_API_KEY / http.trustProxy',
        fix: 'Set METRICS_API_KEY, or set http.trustProxy so the real client address is used.',
      }),
    );
  const health = config('health') as { apiKey?: unknown } | undefined;
  const allowlist = config('security.health_ip_allowlist');
  if (
    bound('health.endpoints') &&
    health?.apiKey === undefined &&
    !env('HEALTH_API_KEY') &&
    allowlist === undefined &&
    !proxied
  )
    found.push(
      finding({
        id: 'health-open-behind-proxy',
        severity: 'medium',
        title:
          '/health details answer loopback callers without a key: behind a local reverse proxy, every visitor is loopback',
        subject: 'HEALTH_API_KEY / security.health_ip_allowlist',
        fix: 'Set HEALTH_API_KEY or security.health_ip_allowlist, or set http.trustProxy.',
      }),
    );
  return found;
};

const database: Check = ({ production, resolve }) => {
  const connections = resolve.database?.();
  if (connections === undefined) return [];
  const found: AuditFinding[] = [];
  for (const [name, connection] of Object.entries(connections)) {
    if (connection.driver !== 'postgres' && connection.driver !== 'mysql') continue;
    let user = typeof connection.user === 'string' ? connection.user : undefined;
    let password = typeof connection.password === 'string' ? connection.password : undefined;
    if (typeof connection.url === 'string') {
      try {
        const url = new URL(connection.url);
        user ??= decodeURIComponent(url.username) || undefined;
        password ??= decodeURIComponent(url.password) || undefined;
      } catch {
        // An unparsable URL fails the database provider itself, with its own error.
      }
    }
    const superuser =
      user === 'postgres' ||
      user === 'root' ||
      (user === undefined && connection.driver === 'mysql');
    const subject = `database.connections.${name}`;
    if (superuser && (password === undefined || password === ''))
      found.push(
        finding({
          id: 'database-default-credentials',
          severity: production ? 'critical' : 'low',
          title: `the ${connection.driver} connection logs in as the superuser "${user ?? 'root'}" without a password`,
          subject,
          fix: 'Create a dedicated database user with a strong password and only the privileges the app needs.',
        }),
      );
    else if (password !== undefined && COMMON_PASSWORDS.has(password.toLowerCase()))
      found.push(
        finding({
          id: 'database-weak-password',
          severity: production ? 'high' : 'low',
          title: `the ${connection.driver} connection uses a well-known password`,
          subject,
          fix: 'Use a long random password from the deployment secrets.',
        }),
      );
  }
  return found;
};

const routes: Check = ({ routes }) => {
  if (routes === undefined) return [];
  const found: AuditFinding[] = [];
  for (const route of routes) {
    if (route.mount || !UNSAFE.test(route.method)) continue;
    const names = route.middleware;
    const has = (prefix: string) => names.some((n) => n === prefix || n.startsWith(`${prefix}:`));
    const subject = `${route.method} ${route.path}`;
    const authPath = AUTH_PATH.test(route.path);
    if (has('session') && !has('csrf'))
      found.push(
        finding({
          id: 'csrf-missing',
          severity: 'high',
          title: 'an unsafe route with a session has no CSRF protection',
          subject,
          fix: "Put it in the 'web' group, or add the 'csrf' middleware.",
        }),
      );
    // A credentials route reachable without a user (login, reset, token issuance) is what
    // a brute force targets; once `auth` runs, the caller already proved who they are.
    if (authPath && !has('auth') && !has('throttle') && !has('rate_limit'))
      found.push(
        finding({
          id: 'auth-route-unthrottled',
          severity: 'high',
          title: 'a login/credentials route has no rate limit: passwords can be brute-forced',
          subject,
          fix: "Add a limiter, e.g. 'throttle:login' (5 attempts a minute per ip and account).",
        }),
      );
    if (!authPath && !has('auth') && !has('signed'))
      found.push(
        finding({
          id: 'unsafe-route-unauthenticated',
          severity: 'medium',
          title: 'an unsafe route is open to anonymous callers',
          subject,
          fix: "Add the 'auth' middleware, or document why anyone may call it.",
        }),
      );
  }
  return found;
};

const rateLimits: Check = ({ production, env, config }) => {
  if (!production) return [];
  const raw = config('security.rate_limit') as { store?: unknown } | undefined;
  const store = raw?.store ?? env('RATE_LIMIT_STORE') ?? 'memory';
  return store === 'memory'
    ? [
        finding({
          id: 'rate-limit-memory-store',
          severity: 'low',
          title: 'rate limits are counted per process: N workers allow N times the limit',
          subject: 'RATE_LIMIT_STORE / security.rate_limit.store',
          fix: "Use the 'redis' or 'database' store when running more than one process.",
        }),
      ]
    : [];
};

/** Every check `security:check` runs, in report order. */
export const AUDIT_CHECKS: readonly Check[] = [
  debug,
  appKey,
  session,
  corsAndCsrf,
  transport,
  endpoints,
  database,
  routes,
  rateLimits,
];

/** Run every check; a check that throws (an invalid config) becomes a critical finding. */
export function runAudit(input: AuditInput): AuditFinding[] {
  const found: AuditFinding[] = [];
  for (const check of AUDIT_CHECKS) {
    try {
      found.push(...check(input));
    } catch (error) {
      found.push({
        id: 'config-invalid',
        severity: 'critical',
        title: `the configuration does not load: ${(error as Error).message}`,
        subject: (error as { code?: string }).code ?? 'config',
        fix: (error as { help?: string }).help ?? 'Fix the configuration the message names.',
      });
    }
  }
  return found;
}
