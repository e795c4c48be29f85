import { afterEach, describe, expect, it } from 'vitest';
import { createFixtureApp, type FixtureApp } from '../../../test/support/fixture-app.js';
import { PROVIDER_APP_FILES } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { Application, createNullLogger } from '../../kernel/index.js';
import { HealthProvider } from './health-provider.js';

// Real sockets: the client address comes from the TCP peer, and shutdown closes a real server.
const fixtures: FixtureApp[] = [];
const apps: Application[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.shutdown()));
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function serve(
  files: Record<string, string>,
  setup?: (app: Application) => void,
): Promise<{ app: Application; url: string }> {
  const fixture = await createFixtureApp({
    ...PROVIDER_APP_FILES,
    'config/http.ts': `export default { port: 0, host: '127.0.0.1', shutdownTimeout: 5000 };\n`,
    ...files,
  });
  fixtures.push(fixture);
  const app = await Application.create({
    root: fixture.root,
    environment: 'http',
    env: { LOG_LEVEL: 'silent' },
    logger: createNullLogger(),
    providers: [HttpProvider, HealthProvider],
  });
  apps.push(app);
  await app.boot();
  setup?.(app);
  await app.start();
  const message = app.readyMessages.find((m) => m.startsWith('HTTP listening on '))!;
  return { app, url: message.slice('HTTP listening on '.length) };
}

describe('health endpoints on a real server', () => {
  it('judges the allowlist on the socket peer, and on X-Forwarded-For from a trusted proxy', async () => {
    const denied = await serve({
      'config/security.ts': `export default { health_ip_allowlist: ['10.0.0.0/8'] };\n`,
    });
    const refused = await fetch(`${denied.url}/ready`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    // Without a trusted proxy, a forwarded address is ignored.
    expect(
      (await fetch(`${denied.url}/ready`, { headers: { 'x-forwarded-for': '10.1.1.1' } })).status,
    ).toBe(403);

    const proxied = await serve({
      'config/http.ts': `export default { port: 0, host: '127.0.0.1', trustProxy: 'loopback' };\n`,
      'config/security.ts': `export default { health_ip_allowlist: ['10.0.0.0/8'] };\n`,
    });
    const ok = await fetch(`${proxied.url}/ready`, { headers: { 'x-forwarded-for': '10.1.1.1' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok' });
    const details = await fetch(`${proxied.url}/health`, {
      headers: { 'x-forwarded-for': '10.1.1.1' },
    });
    expect(details.status).toBe(200);
    expect(
      (await fetch(`${proxied.url}/health`, { headers: { 'x-forwarded-for': '172.16.0.1' } }))
        .status,
    ).toBe(401);

    const loopback = await serve({
      'config/security.ts': `export default { health_ip_allowlist: ['loopback'] };\n`,
    });
    expect((await fetch(`${loopback.url}/ready`)).status).toBe(200);
    expect((await fetch(`${loopback.url}/health/disk`)).status).toBe(200);
  });

  it('turns /ready to 503 "shutting down" as shutdown starts, while in-flight and new requests are still served', async () => {
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { app, url } = await serve(
      // The drain delay is the window in which load balancers see readiness go away.
      { 'config/health.ts': `export default { shutdownDelay: '1500ms' };\n` },
      (app) => {
        app.make('http').router.get('/slow', async () => {
          entered();
          await released;
          return { done: true };
        });
      },
    );
    expect((await fetch(`${url}/ready`)).status).toBe(200);

    const slow = fetch(`${url}/slow`).then(async (r) => [r.status, await r.json()]);
    await inside;
    const stopped = app.shutdown('test');
    expect(app.state).toBe('stopping');

    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'shutting down' });
    // Liveness is not readiness: the process is up, a restart would only lose requests.
    const live = await fetch(`${url}/healthz`);
    expect(live.status).toBe(200);
    const details = await fetch(`${url}/health`);
    expect(await details.json()).toMatchObject({ ready: false, app: { state: 'stopping' } });
    expect(app.state).toBe('stopping');

    release();
    expect(await slow).toEqual([200, { done: true }]);
    await stopped;
    expect(app.state).toBe('stopped');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
