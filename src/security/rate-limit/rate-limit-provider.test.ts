import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import type { Response as InjectResponse } from 'light-my-request';
import { afterAll, describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { requireService } from '../../../test/support/services.js';
import { HttpProvider } from '../../http/index.js';
import { Application, createLogger } from '../../kernel/index.js';
import { HealthProvider } from '../../observability/health/health-provider.js';
import { MetricsProvider } from '../../observability/metrics/metrics-provider.js';
import { RATE_LIMIT_APP_FILES, securityConfig } from './__fixtures__/rate-limit-app.js';
import { dropRedisPrefix } from './__fixtures__/redis-prefix.js';
import { ERROR_LIMITER } from './error-throttle.js';
import { RateLimitHealthLimiter } from './health-rate-limiter.js';
import { RateLimitProvider } from './rate-limit-provider.js';

// The framework's order: RateLimitProvider before HealthProvider.
const apps = providerApps([HttpProvider, RateLimitProvider, HealthProvider]);
const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

const LIMITERS = `limiters: {
  search: { points: 2, duration: 30, key: 'ip' },
  login: { points: 5, duration: 60, key: 'ip', blockDuration: 600 },
}`;

async function rateLimitApp(
  config = `{ ${LIMITERS} }`,
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): Promise<Application> {
  const app = await apps.create(
    { ...RATE_LIMIT_APP_FILES, ...securityConfig(config), ...files },
    env,
  );
  await app.start();
  return app;
}

function get(
  app: Application,
  url: string,
  ip = '203.0.113.1',
  headers: Record<string, string> = {},
) {
  return app
    .make('http')
    .inject({ method: 'GET', url, headers: { 'x-forwarded-for': ip, ...headers } });
}

function login(app: Application, password: string, ip = '203.0.113.7', email = 'ada@example.com') {
  return app.make('http').inject({
    method: 'POST',
    url: '/login',
    headers: { 'x-forwarded-for': ip },
    payload: { email, password },
  });
}

async function statuses(requests: Array<() => Promise<InjectResponse>>): Promise<number[]> {
  const out: number[] = [];
  for (const request of requests) out.push((await request()).statusCode);
  return out;
}

const times = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

describe('throttle middleware', () => {
  it('sends the rate-limit headers, and 429 problem+json with Retry-After once spent', async () => {
    const app = await rateLimitApp();
    const first = await get(app, '/api');
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    const reset = Number(first.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    expect(first.headers['ratelimit-policy']).toBe('"throttle-3-60";q=3;w=60');
    expect(first.headers.ratelimit).toMatch(/^"throttle-3-60";r=2;t=(59|60)$/);
    await get(app, '/api');
    await get(app, '/api');
    const refused = await get(app, '/api');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(refused.headers.ratelimit).toMatch(/^"throttle-3-60";r=0;t=\d+$/);
    expect(refused.json()).toMatchObject({
      status: 429,
      code: 'E_RATE_LIMITED',
      retryAfter,
    });
    // Routes with the same arguments share the allowance; another client has its own.
    expect((await get(app, '/api/other')).statusCode).toBe(429);
    expect((await get(app, '/api', '203.0.113.2')).statusCode).toBe(200);
  });

  it('has a login limiter out of the box: 5 a minute per address', async () => {
    const app = await rateLimitApp(`{ limiters: { search: { points: 2, duration: 30 } } }`);
    expect(app.make('rate.limiter').policy('login')).toMatchObject({
      points: 5,
      duration: 60,
      key: 'ip',
    });
    const form = () =>
      app.make('http').inject({
        method: 'POST',
        url: '/login-form',
        headers: { 'x-forwarded-for': '192.0.2.201' },
      });
    expect(await statuses(times(6, () => form))).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('uses the default limiter (RATE_LIMIT_ATTEMPTS / RATE_LIMIT_WINDOW) without arguments', async () => {
    const app = await rateLimitApp(`{ ${LIMITERS} }`, {
      RATE_LIMIT_ATTEMPTS: '2',
      RATE_LIMIT_WINDOW: '90',
    });
    const res = await get(app, '/default');
    expect(res.headers['ratelimit-policy']).toBe('"default";q=2;w=90');
    expect(await statuses(times(2, () => () => get(app, '/default')))).toEqual([200, 429]);
  });

  it('applies a named limiter (rate_limit:search) and its key', async () => {
    const app = await rateLimitApp();
    const codes = await statuses(times(3, () => () => get(app, '/named')));
    expect(codes).toEqual([200, 200, 429]);
    const res = await get(app, '/named', '203.0.113.99');
    expect(res.headers['ratelimit-policy']).toBe('"search";q=2;w=30');
  });

  it('counts a signed-in user across addresses, and anonymous clients by address', async () => {
    const app = await rateLimitApp();
    const as = (ip: string, user?: string) => () =>
      get(app, '/me', ip, user ? { 'x-user': user } : {});
    // One user, two addresses: one allowance of 2.
    expect(
      await statuses([
        as('198.51.100.1', 'u1'),
        as('198.51.100.2', 'u1'),
        as('198.51.100.3', 'u1'),
      ]),
    ).toEqual([200, 200, 429]);
    // Another user behind the same address: an allowance of its own.
    expect(await statuses([as('198.51.100.1', 'u2'), as('198.51.100.1', 'u2')])).toEqual([
      200, 200,
    ]);
    // Anonymous: by address.
    expect(
      await statuses([
        as('198.51.100.1'),
        as('198.51.100.1'),
        as('198.51.100.1'),
        as('198.51.100.9'),
      ]),
    ).toEqual([200, 200, 429, 200]);
    // `ip` ignores the user: two users behind one address share it.
    const byIp = (user: string) => () => get(app, '/by-ip', '198.51.100.50', { 'x-user': user });
    expect(await statuses([byIp('a'), byIp('b'), byIp('c')])).toEqual([200, 200, 429]);
  });

  it('counts each route apart with the route key', async () => {
    const app = await rateLimitApp();
    const r = (path: string) => () => get(app, path, '192.0.2.1');
    expect(await statuses([r('/r1'), r('/r1'), r('/r1'), r('/r2'), r('/r2'), r('/r2')])).toEqual([
      200, 200, 429, 200, 200, 429,
    ]);
  });

  it('treats hostile client keys (huge, CRLF, Unicode) as plain distinct keys', async () => {
    const app = await rateLimitApp();
    const users = ['u'.repeat(7_000), 'ключ🔑', 'a\tb', 'x'.repeat(200)];
    for (const user of users) {
      const res = await get(app, '/me', '192.0.2.77', { 'x-user': user });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-remaining']).toBe('1');
    }
    // A key that tries to look like a header split is just a key.
    const limiter = app.make('rate.limiter');
    const crlf = 'ip:1.2.3.4\r\nX-Injected: 1';
    expect((await limiter.attempt('search', crlf)).remaining).toBe(1);
    expect(await limiter.remaining('search', 'ip:1.2.3.4')).toBe(2);
  });

  it('refuses a brute force on a login form, whatever the password, and leaves others alone', async () => {
    const app = await rateLimitApp();
    const tries = await statuses(times(20, () => () => login(app, `guess-${Math.random()}`)));
    expect(tries.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(tries.slice(5))).toEqual(new Set([429]));
    // Blocked for blockDuration (600 s), even with the right password.
    const right = await login(app, 'correct horse');
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(500);
    // The real user, from another address, logs in; success clears its count.
    expect((await login(app, 'wrong', '198.51.100.20')).statusCode).toBe(401);
    expect((await login(app, 'correct horse', '198.51.100.20')).statusCode).toBe(200);
    expect(await app.make('rate.limiter').remaining('login', 'ada@example.com|198.51.100.20')).toBe(
      5,
    );
    // As route middleware: the same limiter, same refusal.
    const form = () =>
      app.make('http').inject({
        method: 'POST',
        url: '/login-form',
        headers: { 'x-forwarded-for': '192.0.2.200' },
      });
    expect(await statuses(times(7, () => form))).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });
});

describe('error-response throttling', () => {
  it('shrinks the allowance of a client that keeps getting errors, unmatched routes included', async () => {
    const app = await rateLimitApp(
      `{ ${LIMITERS}, errors: { threshold: 3, window: 60, penalty: 120, factor: 4 } }`,
    );
    const limiter = app.make('rate.limiter');
    const bad = '203.0.113.66';
    for (const path of ['/fail', '/fail', '/nowhere', '/fail']) await get(app, path, bad);
    // Errors are counted after the response: wait for the fourth.
    for (let i = 0; i < 100 && (await limiter.consumed(ERROR_LIMITER, `ip:${bad}`)) < 4; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await limiter.consumed(ERROR_LIMITER, `ip:${bad}`)).toBeGreaterThan(3);
    // 8 points at 4 per request: two requests, then refused.
    const penalised = await get(app, '/ok', bad);
    expect(penalised.headers['x-ratelimit-remaining']).toBe('1');
    expect(await statuses([() => get(app, '/ok', bad), () => get(app, '/ok', bad)])).toEqual([
      200, 429,
    ]);
    // A well-behaved client keeps its whole allowance.
    expect(await statuses(times(8, () => () => get(app, '/ok', '203.0.113.67')))).toEqual(
      times(8, () => 200),
    );
    // 429s themselves do not count (no spiral), nor do successes.
    expect(await limiter.consumed(ERROR_LIMITER, 'ip:203.0.113.67')).toBe(0);
  });

  it('can be turned off', async () => {
    const app = await rateLimitApp(`{ ${LIMITERS}, errors: { enabled: false } }`);
    for (let i = 0; i < 5; i++) await get(app, '/fail', '203.0.113.70');
    expect(app.make('rate.limiter').has(ERROR_LIMITER)).toBe(false);
  });
});

describe('health endpoints', () => {
  it('takes over health.limiter: the health endpoints count in the rate-limit store', async () => {
    const app = await rateLimitApp(
      undefined,
      {},
      {
        'config/health.ts': `export default { endpoints: { liveness: { path: '/healthz', rateLimit: { max: 2, window: '1m' } } } };\n`,
      },
    );
    expect(app.make('health.limiter')).toBeInstanceOf(RateLimitHealthLimiter);
    const codes = await statuses(times(3, () => () => get(app, '/healthz', '192.0.2.9')));
    expect(codes).toEqual([200, 200, 429]);
    expect(await app.make('rate.limiter').remaining('health/healthz:2:60', 'ip:192.0.2.9')).toBe(0);
  });

  it('takes it over when registered after HealthProvider too', async () => {
    const app = await apps.create(
      { ...RATE_LIMIT_APP_FILES, ...securityConfig(`{ ${LIMITERS} }`) },
      {},
      [HttpProvider, HealthProvider, RateLimitProvider],
    );
    await app.start();
    expect(app.make('health.limiter')).toBeInstanceOf(RateLimitHealthLimiter);
    expect((await get(app, '/healthz')).statusCode).toBe(200);
  });
});

describe('metrics', () => {
  const metricApps = providerApps([HttpProvider, RateLimitProvider, MetricsProvider]);

  it('counts decisions by limiter and outcome, and store failures', async () => {
    const app = await metricApps.create({
      ...RATE_LIMIT_APP_FILES,
      ...securityConfig(`{ ${LIMITERS} }`),
    });
    await app.start();
    for (let i = 0; i < 4; i++) await get(app, '/api', '192.0.2.90');
    const values = app.make('metrics').snapshot('rate_limit_decisions_total')?.values ?? [];
    const value = (outcome: string) =>
      values.find((v) => v.labels.limiter === 'throttle-3-60' && v.labels.outcome === outcome)
        ?.value;
    expect(value('allowed')).toBe(3);
    expect(value('refused')).toBe(1);
    expect(values.every((v) => v.labels.store === 'memory')).toBe(true);
  });
});

describe('config', () => {
  it.each([
    [`{ store: 'disk' }`, {}, 'security.rate_limit.store'],
    [`{}`, { RATE_LIMIT_STORE: 'disk' }, 'RATE_LIMIT_STORE'],
    [`{}`, { RATE_LIMIT_ATTEMPTS: 'lots' }, 'RATE_LIMIT_ATTEMPTS'],
    [
      `{ limiters: { login: { points: 0, duration: 60 } } }`,
      {},
      'security.rate_limit.limiters.login.points',
    ],
    [
      `{ limiters: { login: { points: 5, duration: 60, key: 'email' } } }`,
      {},
      'security.rate_limit.limiters.login.key',
    ],
    [
      `{ limiters: { login: { points: 5, duration: 60, blockDuration: 10 } } }`,
      {},
      'security.rate_limit.limiters.login.blockDuration',
    ],
    [`{ onStoreError: 'maybe' }`, {}, 'security.rate_limit.onStoreError'],
    [`{ errors: { factor: 1 } }`, {}, 'security.rate_limit.errors.factor'],
    [`{ prefix: 'a b' }`, {}, 'security.rate_limit.prefix'],
  ])('refuses %s %o at boot, naming %s', async (config, env, key) => {
    const app = await apps.create({ ...RATE_LIMIT_APP_FILES, ...securityConfig(config) }, env);
    const failure = await app.start().then(
      () => undefined,
      (error: unknown) => error as { cause?: unknown },
    );
    // E_APP_FAILED ← E_PROVIDER_FAILED (RateLimitProvider, register) ← the config error.
    expect(failure).toMatchObject({
      cause: {
        details: { provider: 'RateLimitProvider', phase: 'register' },
        cause: { code: 'E_RATE_LIMIT_CONFIG_INVALID', details: { key } },
      },
    });
  });

  it('refuses an unknown named limiter in a route, suggesting the closest', async () => {
    const app = await rateLimitApp();
    const limiter = app.make('rate.limiter');
    const { throttlePolicy } = await import('./throttle-middleware.js');
    expect(() => throttlePolicy(limiter, ['serch'])).toThrow(
      /No rate limiter named "serch"; did you mean "search"/,
    );
    expect(() => throttlePolicy(limiter, ['60'])).toThrow(
      /E_RATE_LIMIT_CONFIG_INVALID|expected throttle/,
    );
    expect(() => throttlePolicy(limiter, ['0', '60'])).toThrow(/points "0"/);
    expect(() => throttlePolicy(limiter, ['5', '60', 'email'])).toThrow(/key "email"/);
    expect(() => throttlePolicy(limiter, ['1e3', '60'])).toThrow(/points "1e3"/);
  });
});

describe.runIf(hasRedis)('shared store and outages (Redis)', () => {
  const prefix = `keel-test:rl-app:${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379 });
    await dropRedisPrefix(client, prefix);
    await client.quit();
  });

  it('shares one allowance between two apps (processes) on the same Redis', async () => {
    const config = `{ store: 'redis', prefix: '${prefix}', ${LIMITERS} }`;
    const a = await rateLimitApp(config);
    const b = await rateLimitApp(config);
    expect(app(a).storeName).toBe('redis');
    const codes = await statuses([
      () => get(a, '/named', '192.0.2.30'),
      () => get(b, '/named', '192.0.2.30'),
      () => get(a, '/named', '192.0.2.30'),
      () => get(b, '/named', '192.0.2.30'),
    ]);
    expect(codes).toEqual([200, 200, 429, 429]);
  });

  it('penalises in every process a client that got its errors from another', async () => {
    const config = `{ store: 'redis', prefix: '${prefix}', ${LIMITERS}, errors: { threshold: 2, window: 60, penalty: 120, factor: 4 } }`;
    const a = await rateLimitApp(config);
    const b = await rateLimitApp(config);
    const bad = '192.0.2.33';
    for (let i = 0; i < 3; i++) await get(a, '/fail', bad);
    for (let i = 0; i < 100 && (await app(b).consumed(ERROR_LIMITER, `ip:${bad}`)) < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    // On b, 8 points at 4 a request: two requests.
    expect(await statuses(times(3, () => () => get(b, '/ok', bad)))).toEqual([200, 200, 429]);
    expect(await statuses(times(3, () => () => get(b, '/ok', '192.0.2.34')))).toEqual([
      200, 200, 200,
    ]);
  });

  const down = `redis: { port: 1, commandTimeoutMs: 300 }`;

  it('fails open on a store outage: a per-process memory limiter with the same limits', async () => {
    const app = await rateLimitApp(
      `{ store: 'redis', onStoreError: 'open', ${down}, ${LIMITERS} }`,
    );
    const codes = await statuses(times(4, () => () => get(app, '/api', '192.0.2.40')));
    expect(codes).toEqual([200, 200, 200, 429]);
    const result = await app.make('rate.limiter').attempt('search', 'ip:x');
    expect(result).toMatchObject({ allowed: true, degraded: true });
    // Health stays up whatever the store does.
    expect((await get(app, '/healthz', '192.0.2.41')).statusCode).toBe(200);
  });

  it('logs an outage once, not once per request', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const destination = new PassThrough();
    destination.on('data', (chunk) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    });
    const fixture = await apps.fixture({
      ...RATE_LIMIT_APP_FILES,
      ...securityConfig(`{ store: 'redis', ${down}, ${LIMITERS} }`),
    });
    const application = await Application.create({
      root: fixture.root,
      environment: 'test',
      env: { LOG_LEVEL: 'info' },
      logger: createLogger({
        name: 'rl',
        level: 'info',
        pretty: false,
        memory: false,
        destination,
      }),
      providers: [HttpProvider, RateLimitProvider, HealthProvider],
    });
    try {
      await application.start();
      for (let i = 0; i < 5; i++) await get(application, '/api', '192.0.2.60');
      await new Promise((resolve) => setImmediate(resolve));
      const outages = lines.filter((l) => l.msg.startsWith('rate-limit: the store failed'));
      expect(outages).toHaveLength(1);
      expect(outages[0]!.level).toBe(40);
      expect(outages[0]!.msg).toMatch(/per-process memory limiters/);
    } finally {
      await application.shutdown();
    }
  });

  it('fails closed on a store outage when told to: 503 problem+json, health still answers', async () => {
    const app = await rateLimitApp(
      `{ store: 'redis', onStoreError: 'closed', ${down}, ${LIMITERS} }`,
    );
    const res = await get(app, '/api', '192.0.2.50');
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ code: 'E_RATE_LIMIT_STORE_UNAVAILABLE', status: 503 });
    await expect(app.make('rate.limiter').attempt('search', 'ip:x')).rejects.toMatchObject({
      code: 'E_RATE_LIMIT_STORE_UNAVAILABLE',
    });
    expect((await get(app, '/healthz', '192.0.2.51')).statusCode).toBe(200);
  });
});

function app(application: Application) {
  return application.make('rate.limiter');
}
