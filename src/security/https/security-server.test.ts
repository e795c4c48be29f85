import { afterEach, describe, expect, it } from 'vitest';
import { createFixtureApp, type FixtureApp } from '../../../test/support/fixture-app.js';
import { PROVIDER_APP_FILES } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { Application, createNullLogger, generateAppKey } from '../../kernel/index.js';
import { SecurityMiddlewareProvider } from '../security-middleware-provider.js';

// Real sockets: the peer address, Host and X-Forwarded-* come from a real TCP connection.
const fixtures: FixtureApp[] = [];
const apps: Application[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.shutdown()));
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function serve(trustProxy: string): Promise<string> {
  const fixture = await createFixtureApp({
    ...PROVIDER_APP_FILES,
    'config/http.ts': `export default { port: 0, host: '127.0.0.1', trustProxy: ${trustProxy} };\n`,
    'config/security.ts': `export default {
      https: { except: ['/healthz'] },
      cors: { origins: ['https://app.example.com'], credentials: true, maxAge: 300 },
      ip: { lists: { office: ['10.0.0.0/8'] } },
    };\n`,
  });
  fixtures.push(fixture);
  const app = await Application.create({
    root: fixture.root,
    environment: 'http',
    env: {
      LOG_LEVEL: 'silent',
      APP_ENV: 'production',
      APP_KEY: generateAppKey(),
      FORCE_HTTPS: 'true',
    },
    logger: createNullLogger(),
    providers: [HttpProvider, SecurityMiddlewareProvider],
  });
  apps.push(app);
  await app.boot();
  const router = app.make('http').router;
  router.get('/orders', () => ({ ok: true })).middleware(['security:api']);
  router.get('/admin', () => ({ ok: true })).middleware(['allow_ip:office']);
  router.get('/local', () => ({ ok: true })).middleware(['allow_ip:loopback']);
  router.get('/healthz', () => ({ status: 'ok' }));
  await app.start();
  const message = app.readyMessages.find((m) => m.startsWith('HTTP listening on '))!;
  return message.slice('HTTP listening on '.length);
}

describe('security middleware on a real server', () => {
  it('redirects plain HTTP, serves what a trusted proxy received over HTTPS, with HSTS', async () => {
    const url = await serve("'loopback'");
    const plain = await fetch(`${url}/orders?x=1`, { redirect: 'manual' });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toBe('https://127.0.0.1/orders?x=1');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const https = await fetch(`${url}/orders`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(https.status).toBe(200);
    expect(https.headers.get('strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect(https.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    const preflight = await fetch(`${url}/anything`, {
      method: 'OPTIONS',
      headers: {
        'x-forwarded-proto': 'https',
        origin: 'https://app.example.com',
        'access-control-request-method': 'PATCH',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-max-age')).toBe('300');
    // The peer is 127.0.0.1: on the loopback list, not on the office one.
    const secure = { 'x-forwarded-proto': 'https' };
    expect((await fetch(`${url}/local`, { headers: secure })).status).toBe(200);
    expect((await fetch(`${url}/admin`, { headers: secure })).status).toBe(403);
    expect(
      (await fetch(`${url}/admin`, { headers: { ...secure, 'x-forwarded-for': '10.2.3.4' } }))
        .status,
    ).toBe(200);
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-For without a trusted proxy', async () => {
    const url = await serve('false');
    const spoofed = await fetch(`${url}/orders`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.2.3.4' },
    });
    expect(spoofed.status).toBe(301);
    expect(spoofed.headers.get('strict-transport-security')).toBeNull();
  });
});
