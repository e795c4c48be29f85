import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import { HealthProvider } from './health-provider.js';
import { InterimRateLimiter } from './interim-rate-limiter.js';

const KEY = 'health-key-0123456789abcdef';
const apps = providerApps([HttpProvider, HealthProvider]);

/** An app whose proxy on loopback forwards the client address in X-Forwarded-For. */
async function healthApp(
  files: Record<string, string> = {},
  env: Record<string, string> = {},
  clock?: { now: number },
): Promise<Application> {
  const app = await apps.create(
    {
      'config/http.ts': `export default { trustProxy: 'loopback' };\n`,
      // Tiny limits keep the rate-limit tests short; others use the defaults.
      ...files,
    },
    env,
  );
  app.register();
  if (clock)
    app.container.value('health.limiter', new InterimRateLimiter({ now: () => clock.now }));
  await app.start();
  return app;
}

function get(
  app: Application,
  url: string,
  ip = '127.0.0.1',
  headers: Record<string, string> = {},
) {
  return app.make('http').inject({
    method: 'GET',
    url,
    headers: ip === '127.0.0.1' ? headers : { 'x-forwarded-for': ip, ...headers },
  });
}

describe('liveness: /healthz', () => {
  it('answers 200 without running a check, JSON, never cached', async () => {
    const app = await healthApp();
    let ran = 0;
    app.health.register('counted', () => {
      ran++;
      return { status: 'fail', message: 'down' };
    });
    const res = await get(app, '/healthz', '203.0.113.9');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ status: 'ok' });
    expect(ran).toBe(0);
  });

  it('stops at 60 calls a minute per client with 429 and Retry-After, and counts each client apart', async () => {
    const clock = { now: 1_000_000 };
    const app = await healthApp({}, {}, clock);
    for (let i = 0; i < 60; i++)
      expect((await get(app, '/healthz', '203.0.113.9')).statusCode, `call ${i + 1}`).toBe(200);
    clock.now += 15_000;
    const refused = await get(app, '/healthz', '203.0.113.9');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('45');
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: 'E_HEALTH_RATE_LIMITED', retryAfter: 45 });
    // Another client has its own window.
    expect((await get(app, '/healthz', '203.0.113.10')).statusCode).toBe(200);
    // The next window lets the first one in again.
    clock.now += 45_000;
    expect((await get(app, '/healthz', '203.0.113.9')).statusCode).toBe(200);
  });
});

describe('readiness: /ready', () => {
  it('answers 200 with the readiness checks when each passes; warnings do not count', async () => {
    const ready = await healthApp();
    ready.health.register('slow-disk', () => ({ status: 'warn', message: 'slow' }));
    ready.health.register('extra', () => ({ status: 'fail', message: 'no' }), { readiness: false });
    const res = await get(ready, '/ready');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ status: 'ok', failed: [] });
    expect(body.checks['slow-disk']).toBe('warn');
    expect(body.checks.disk).toBeDefined();
    // Not a readiness check: it does not show here, nor keep the app from being ready.
    expect(body.checks.extra).toBeUndefined();
  });

  it('answers 503 naming the readiness check that failed, which /health shows', async () => {
    const app = await healthApp();
    app.health.register('payments', () => ({ status: 'fail', message: 'gateway refused' }));
    const res = await get(app, '/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'fail',
      failed: ['payments'],
      checks: { payments: 'fail' },
    });
    const details = await get(app, '/health');
    expect(details.statusCode).toBe(503);
    expect(details.json().checks).toContainEqual(
      expect.objectContaining({
        name: 'payments',
        status: 'fail',
        message: 'gateway refused',
        readiness: true,
        latencyMs: expect.any(Number),
      }),
    );
  });

  it('answers 503 "starting" before the app is ready', async () => {
    const app = await apps.create({});
    await app.boot();
    const res = await get(app, '/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'starting' });
  });

  it('is open to all without an allowlist, and only to allowlisted clients with one', async () => {
    const open = await healthApp();
    expect((await get(open, '/ready', '198.51.100.7')).statusCode).toBe(200);

    const app = await healthApp({
      'config/security.ts': `export default { health_ip_allowlist: ['10.0.0.0/8', '2001:db8::/32'] };\n`,
    });
    expect((await get(app, '/ready', '10.20.30.40')).statusCode).toBe(200);
    expect((await get(app, '/ready', '2001:db8::1')).statusCode).toBe(200);
    const denied = await get(app, '/ready', '198.51.100.7');
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'E_HEALTH_FORBIDDEN' });
    // Loopback is not implied once an allowlist is set.
    expect((await get(app, '/ready')).statusCode).toBe(403);
    // A forged header from an untrusted peer changes nothing: the peer is the client.
    const forged = await app.make('http').inject({
      url: '/ready',
      remoteAddress: '198.51.100.7',
      headers: { 'x-forwarded-for': '10.0.0.1' },
    });
    expect(forged.statusCode).toBe(403);
  });

  it('stops at 30 calls a minute per client', async () => {
    const clock = { now: 5_000 };
    const app = await healthApp({}, {}, clock);
    for (let i = 0; i < 30; i++)
      expect((await get(app, '/ready', '203.0.113.1')).statusCode).toBe(200);
    const refused = await get(app, '/ready', '203.0.113.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    // Each endpoint counts apart: liveness still answers this client.
    expect((await get(app, '/healthz', '203.0.113.1')).statusCode).toBe(200);
  });

  it('takes its path and limit from config/health.ts', async () => {
    const clock = { now: 0 };
    const app = await healthApp(
      {
        'config/health.ts': `export default { endpoints: { readiness: { path: '/-/ready', rateLimit: { max: 2, window: '10s' } }, liveness: false } };\n`,
      },
      {},
      clock,
    );
    expect((await get(app, '/-/ready')).statusCode).toBe(200);
    expect((await get(app, '/-/ready')).statusCode).toBe(200);
    const refused = await get(app, '/-/ready');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');
    expect((await get(app, '/ready')).statusCode).toBe(404);
    expect((await get(app, '/healthz')).statusCode).toBe(404);
  });
});

describe('details: /health and /health/<check>', () => {
  it('shows each check with status, latency and message to loopback without an allowlist', async () => {
    const app = await healthApp();
    app.health.register('billing:gateway', () => ({
      status: 'warn',
      message: 'slow answers',
      details: { p95Ms: 900 },
    }));
    const res = await get(app, '/health');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({
      status: 'warn',
      ready: true,
      app: { name: 'fixture', state: 'ready' },
    });
    expect(body.checks.map((c: { name: string }) => c.name)).toEqual([
      'billing:gateway',
      'disk',
      'memory',
    ]);
    expect(body.checks[0]).toEqual({
      name: 'billing:gateway',
      status: 'warn',
      message: 'slow answers',
      details: { p95Ms: 900 },
      latencyMs: expect.any(Number),
      readiness: true,
    });
    expect(body.checks[2]).toMatchObject({ name: 'memory', readiness: false });

    const one = await get(app, '/health/billing:gateway');
    expect(one.statusCode).toBe(200);
    expect(one.json().checks).toHaveLength(1);
    expect(one.json().checks[0].name).toBe('billing:gateway');
  });

  it("shows a check a module's provider registered, and runs it alone at /health/<name>", async () => {
    const app = await healthApp({
      'modules/shop/module.ts': `import { defineModule } from '{{keel}}';
export default defineModule({
  name: 'shop',
  version: '1.0.0',
  providers: async () => [(await import('./shop-provider.ts')).ShopProvider],
});
`,
      'modules/shop/shop-provider.ts': `import { ServiceProvider } from '{{keel}}';
export class ShopProvider extends ServiceProvider {
  boot() {
    this.app.health.register('shop:payments', () => ({ status: 'fail', message: 'gateway down' }), {
      readiness: false,
    });
  }
}
`,
    });
    const one = await get(app, '/health/shop:payments');
    expect(one.statusCode).toBe(503);
    expect(one.json()).toMatchObject({
      status: 'fail',
      // Not a readiness check: the app stays in rotation.
      ready: true,
      checks: [
        { name: 'shop:payments', status: 'fail', message: 'gateway down', readiness: false },
      ],
    });
    expect((await get(app, '/ready')).statusCode).toBe(200);
  });

  it('answers 404 as a problem for an unknown check, hostile names included', async () => {
    const app = await healthApp();
    for (const name of ['nope', '..%2F..%2Fetc', '%3Cscript%3E', 'a'.repeat(300)]) {
      const res = await get(app, `/health/${name}`);
      expect(res.statusCode, name).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('E_HEALTH_CHECK_NOT_FOUND');
    }
  });

  it('is refused to a remote client without the key, and served with the right bearer key', async () => {
    const app = await healthApp({}, { HEALTH_API_KEY: KEY });
    const remote = '198.51.100.20';
    const missing = await get(app, '/health', remote);
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="health"');
    expect(missing.json()).toMatchObject({ code: 'E_HEALTH_UNAUTHORIZED' });

    for (const header of [
      `Bearer ${KEY.slice(0, -1)}`,
      `Bearer ${KEY}x`,
      `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}`,
      `Bearer`,
      `Bearer ${KEY} extra`,
      KEY,
    ]) {
      const bad = await get(app, '/health', remote, { authorization: header });
      expect(bad.statusCode, header).toBe(401);
    }
    const good = await get(app, '/health', remote, { authorization: `Bearer ${KEY}` });
    expect(good.statusCode).toBe(200);
    const lower = await get(app, '/health/disk', remote, { authorization: `bearer ${KEY}` });
    expect(lower.statusCode).toBe(200);
    // The key never shows in what the endpoint answers.
    expect(good.body).not.toContain(KEY);
  });

  it('lets allowlisted clients in without a key and keeps others (loopback too) out', async () => {
    const app = await healthApp({
      'config/security.ts': `export default { health_ip_allowlist: '10.0.0.0/8, 192.168.1.5' };\n`,
    });
    expect((await get(app, '/health', '10.9.8.7')).statusCode).toBe(200);
    expect((await get(app, '/health/disk', '192.168.1.5')).statusCode).toBe(200);
    expect((await get(app, '/health', '192.168.1.6')).statusCode).toBe(401);
    expect((await get(app, '/health')).statusCode).toBe(401);
  });

  it('checks the rate limit before the key, so guessing keys is limited too', async () => {
    const clock = { now: 0 };
    const app = await healthApp({}, { HEALTH_API_KEY: KEY }, clock);
    for (let i = 0; i < 30; i++)
      expect(
        (await get(app, '/health', '198.51.100.1', { authorization: 'Bearer x' })).statusCode,
      ).toBe(401);
    const refused = await get(app, '/health', '198.51.100.1', { authorization: `Bearer ${KEY}` });
    expect(refused.statusCode).toBe(429);
  });
});

describe('health config', () => {
  it.each([
    [
      { 'config/security.ts': `export default { health_ip_allowlist: ['10.0.0.0/33'] };\n` },
      {},
      'security.health_ip_allowlist',
    ],
    [
      { 'config/security.ts': `export default { health_ip_allowlist: [42] };\n` },
      {},
      'security.health_ip_allowlist',
    ],
    [
      { 'config/health.ts': `export default { checks: { disk: { warn: 'lots' } } };\n` },
      {},
      'checks.disk.warn',
    ],
    [
      {
        'config/health.ts': `export default { checks: { memory: { heap: { fail: '150%' } } } };\n`,
      },
      {},
      'checks.memory.heap.fail',
    ],
    [
      { 'config/health.ts': `export default { endpoints: { details: { path: 'health' } } };\n` },
      {},
      'endpoints.details.path',
    ],
    [{ 'config/health.ts': `export default { shutdownDelay: 'soon' };\n` }, {}, 'shutdownDelay'],
    [{ 'config/health.ts': `export default { unknown: 1 };\n` }, {}, '(root)'],
    [{}, { HEALTH_API_KEY: 'short' }, 'HEALTH_API_KEY'],
    // Each check is turned off by name, not all at once.
    [{ 'config/health.ts': 'export default { checks: false };\n' }, {}, 'checks'],
  ])('refuses a bad setting at boot (%#)', async (files, env, key) => {
    const app = await apps.create(files, env as Record<string, string>);
    let error: unknown;
    try {
      app.register();
    } catch (caught) {
      // The app wraps a provider's failure (E_APP_FAILED → E_PROVIDER_FAILED → ours).
      error = caught;
      while (
        (error as { cause?: unknown }).cause !== undefined &&
        (error as { code?: string }).code !== 'E_HEALTH_CONFIG_INVALID'
      )
        error = (error as Error).cause;
    }
    expect(error).toMatchObject({ code: 'E_HEALTH_CONFIG_INVALID', details: { key } });
  });
});
