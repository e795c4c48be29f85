import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RouteListEntry } from '../../http/router/route-table.js';
import { generateAppKey } from '../../kernel/index.js';
import { type AuditInput, runAudit } from './audit-checks.js';
import { countBySeverity, sortFindings } from './audit-finding.js';
import { buildAuditReport, renderAuditMarkdown } from './audit-report.js';

const KEY = generateAppKey();

function route(method: string, path: string, middleware: string[]): RouteListEntry {
  return {
    method,
    path,
    name: null,
    module: null,
    middleware,
    groups: [],
    source: null,
    mount: false,
  };
}

/** A production app configured the way docs/security.md recommends. */
function secure(
  overrides: Partial<AuditInput> = {},
  env: Record<string, string> = {},
  config: Record<string, unknown> = {},
): AuditInput {
  const vars: Record<string, string> = {
    APP_KEY: KEY,
    FORCE_HTTPS: 'true',
    METRICS_API_KEY: 'k'.repeat(32),
    HEALTH_API_KEY: 'h'.repeat(32),
    RATE_LIMIT_STORE: 'redis',
    ...env,
  };
  return {
    production: true,
    debug: false,
    env: (name) => vars[name],
    config: (key) => config[key],
    routes: [
      route('GET', '/orders', ['security', 'session', 'csrf', 'auth']),
      route('POST', '/orders', ['security', 'session', 'csrf', 'auth']),
      route('POST', '/login', ['security', 'session', 'csrf', 'throttle:login']),
      route('DELETE', '/api/orders/:id', ['throttle', 'security:api', 'auth:api']),
    ],
    root: mkdtempSync(join(tmpdir(), 'keel-audit-')),
    bound: (key) => key === 'metrics' || key === 'health.endpoints',
    resolve: {
      session: () => ({ driver: 'database', cookie: { secure: true, sameSite: 'lax' } }),
      headers: () => ({ hsts: { maxAge: 31536000 }, contentSecurityPolicy: { directives: {} } }),
      database: () => ({
        default: { driver: 'postgres', user: 'erp', password: 'Zq8-long-random' },
      }),
    },
    ...overrides,
  };
}

const ids = (input: AuditInput) => runAudit(input).map((f) => `${f.severity}:${f.id}`);

describe('security:check checks', () => {
  it('finds nothing on a production app configured as recommended', () => {
    expect(runAudit(secure())).toEqual([]);
  });

  it('flags debug in production and every kind of bad APP_KEY as critical', () => {
    expect(ids(secure({ debug: true }))).toEqual(['critical:debug-in-production']);
    expect(ids(secure({}, { APP_KEY: '' }))).toEqual(['critical:app-key-missing']);
    expect(ids(secure({}, { APP_KEY: 'base64:short' }))).toEqual(['critical:app-key-invalid']);
    const zeros = `base64:${Buffer.alloc(32).toString('base64')}`;
    expect(ids(secure({}, { APP_KEY: zeros }))).toEqual(['critical:app-key-weak']);
    const input = secure();
    writeFileSync(join(input.root, '.env.example'), `APP_KEY=${KEY}\n`);
    expect(ids(input)).toEqual(['critical:app-key-default']);
    expect(ids(secure({}, { APP_PREVIOUS_KEYS: `${generateAppKey()}, nope` }))).toEqual([
      'high:app-previous-key-invalid',
    ]);
  });

  it('flags insecure session cookies and a memory store in production only', () => {
    const insecure = {
      session: () => ({ driver: 'memory', cookie: { secure: false, sameSite: 'none' } }),
    };
    expect(ids(secure({ resolve: { ...secure().resolve, ...insecure } }))).toEqual([
      'high:session-cookie-insecure',
      'medium:session-cookie-samesite-none',
      'high:session-store-memory',
    ]);
    expect(
      ids(secure({ production: false, resolve: { ...secure().resolve, ...insecure } })),
    ).toEqual(['medium:session-cookie-samesite-none']);
  });

  it('flags CORS wildcards (critical with credentials) and CSRF turned off for everything', () => {
    expect(ids(secure({}, {}, { 'security.cors': { origins: ['*'] } }))).toEqual([
      'medium:cors-wildcard',
    ]);
    expect(ids(secure({}, {}, { 'security.cors': { origins: '*', credentials: true } }))).toEqual([
      'critical:cors-wildcard',
    ]);
    expect(
      ids(secure({}, {}, { 'security.csrf': { exempt: ['/*'], checkOrigin: false } })),
    ).toEqual(['high:csrf-exempt-everything', 'low:csrf-origin-check-off']);
  });

  it('flags HSTS and CSP off, and HTTPS not enforced, in production', () => {
    const headers = () => ({ hsts: false, contentSecurityPolicy: false });
    expect(
      ids(secure({ resolve: { ...secure().resolve, headers } }, { FORCE_HTTPS: 'false' })),
    ).toEqual(['high:hsts-off', 'medium:csp-off', 'medium:https-not-enforced']);
    expect(ids(secure({}, {}, { 'security.https': { force: true } }))).toEqual([]);
  });

  it('flags metrics and health open to loopback without a key when no proxy is trusted', () => {
    // The defaults: no metrics or health config at all, no keys.
    const open = secure({}, { METRICS_API_KEY: '', HEALTH_API_KEY: '' });
    expect(ids(open)).toEqual([
      'medium:metrics-open-behind-proxy',
      'medium:health-open-behind-proxy',
    ]);
    // An app without the metrics and health providers has no such endpoints.
    expect(ids({ ...open, bound: () => false })).toEqual([]);
    const proxied = secure(
      {},
      { METRICS_API_KEY: '', HEALTH_API_KEY: '' },
      { metrics: {}, health: {}, 'http.trustProxy': 'loopback' },
    );
    expect(ids(proxied)).toEqual([]);
  });

  it('flags superuser database logins without a password (critical in production) and well-known passwords', () => {
    const db = (connections: Record<string, Record<string, unknown>>) =>
      secure({ resolve: { ...secure().resolve, database: () => connections } });
    expect(
      ids(db({ default: { driver: 'postgres', url: 'postgres://postgres@db:5432/erp' } })),
    ).toEqual(['critical:database-default-credentials']);
    expect(ids(db({ default: { driver: 'mysql', host: 'db' } }))).toEqual([
      'critical:database-default-credentials',
    ]);
    expect(ids(db({ default: { driver: 'mysql', user: 'erp', password: 'Secret' } }))).toEqual([
      'high:database-weak-password',
    ]);
    expect(ids(db({ default: { driver: 'sqlite', filename: 'x' } }))).toEqual([]);
  });

  it('flags web routes without CSRF, login routes without a limiter and anonymous unsafe routes', () => {
    const routes = [
      route('POST', '/cart', ['session']),
      route('POST', '/auth/login', ['session', 'csrf']),
      route('POST', '/logout', ['session', 'csrf', 'auth']),
      route('PUT|PATCH', '/api/orders/:id', ['security:api']),
      route('POST', '/webhooks/stripe', ['signed']),
      route('GET', '/public', []),
    ];
    expect(ids(secure({ routes }))).toEqual([
      'high:csrf-missing',
      'medium:unsafe-route-unauthenticated',
      'high:auth-route-unthrottled',
      'medium:unsafe-route-unauthenticated',
    ]);
  });

  it('reports a configuration that does not load as a critical finding instead of crashing', () => {
    const broken = secure({
      resolve: {
        ...secure().resolve,
        session: () => {
          throw Object.assign(new Error('Invalid session config at "driver"'), {
            code: 'E_SESSION_CONFIG_INVALID',
            help: 'Fix it.',
          });
        },
      },
    });
    expect(runAudit(broken)).toEqual([
      expect.objectContaining({
        id: 'config-invalid',
        severity: 'critical',
        subject: 'E_SESSION_CONFIG_INVALID',
        fix: 'Fix it.',
      }),
    ]);
  });
});

describe('security:check report', () => {
  it('sorts worst first, counts by severity and renders Markdown with escaped cells', () => {
    const findings = sortFindings([
      { id: 'b', severity: 'low', title: 'low one', subject: 's', fix: 'f' },
      { id: 'a', severity: 'critical', title: 'pipe | inside', subject: 'POST /x', fix: 'do\nit' },
    ]);
    expect(findings.map((f) => f.id)).toEqual(['a', 'b']);
    expect(countBySeverity(findings)).toEqual({ critical: 1, high: 0, medium: 0, low: 1 });
    const report = buildAuditReport(findings, {
      app: 'erp',
      environment: 'production',
      production: true,
      now: new Date(0),
    });
    expect(report.passed).toBe(false);
    const md = renderAuditMarkdown(report);
    expect(md).toContain('**Failed**: 1 critical, 0 high, 0 medium, 1 low.');
    expect(md).toContain('| `a` | POST /x | pipe \\| inside | do it |');
    expect(
      renderAuditMarkdown(
        buildAuditReport([], { app: 'erp', environment: 'production', production: true }),
      ),
    ).toContain('No findings.');
  });
});
