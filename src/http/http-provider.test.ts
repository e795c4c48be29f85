import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../test/support/fixture-app.js';
import { Application, createNullLogger, parseAppKey } from '../kernel/index.js';
import { HttpProvider } from './http-provider.js';
import { unsignCookieValue } from './response.js';

const APP_KEY = `base64:${randomBytes(32).toString('base64')}`;

const fixtures: FixtureApp[] = [];
const apps: Application[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.shutdown()));
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function shopApp(
  environment: 'test' | 'http',
  env: Record<string, string> = {},
): Promise<Application> {
  const fixture = await createFixtureApp(
    {
      'keel.config.ts': APP_FILE,
      'config/http.ts': 'export default { port: 0, host: "127.0.0.1", shutdownTimeout: 2000 };\n',
      'modules/shop/module.ts': moduleFile(`{
        name: 'shop', version: '1.0.0',
        routes: () => import('./routes.ts'),
        providers: async () => [(await import('./provider.ts')).ShopProvider],
      }`),
      'modules/shop/provider.ts': `
import { ServiceProvider } from '{{keel}}';
export class ShopProvider extends ServiceProvider {
  async boot() {
    // Registered after the routes were declared: the pipeline is composed at start().
    this.app.make('http').middleware.register('tag', ([value]) => async (ctx, next) => {
      ctx.setHeader('x-tag', value);
      await next();
    });
  }
}
`,
      'modules/shop/routes.ts': `
export default (router, app) => {
  router.group({ prefix: '/shop', name: 'shop.' }, (r) => {
    r.get('/ping', () => ({ pong: true, app: app.name })).name('ping').middleware('tag:blue');
    r.get('/login', (ctx) => { ctx.cookie('sid', 'u1', { signed: true }); return 'ok'; });
    r.get('/slow', async () => { await new Promise((r) => setTimeout(r, 150)); return 'slow done'; });
    r.get('/boom', () => { throw new Error('kaput'); });
    r.get('/hello', (ctx) => ctx.view('shop::hello', { name: ctx.query.name }));
  });
};
`,
      'modules/shop/views/hello.eta': '<p>Hello <%= it.name %> (<%= it.requestId %>)</p>',
      'modules/plain/module.ts': moduleFile(`{ name: 'plain', version: '1.0.0' }`),
    },
    'keel-http-provider-',
  );
  fixtures.push(fixture);
  const app = await Application.create({
    root: fixture.root,
    environment,
    env: { APP_KEY, LOG_LEVEL: 'silent', ...env },
    logger: createNullLogger(),
    providers: [HttpProvider],
  });
  apps.push(app);
  return app;
}

describe('HttpProvider in the test environment', () => {
  it('loads module routes, composes middleware at start and serves them through inject', async () => {
    const app = await shopApp('test');
    await app.start();
    const http = app.make('http');
    const res = await http.inject('/shop/ping');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ pong: true, app: 'fixture' });
    expect(res.headers['x-tag']).toBe('blue');
    expect(app.make('http.routes')).toBe(http.routes);
    // No server in tests.
    expect(app.readyMessages).toEqual([]);
  });

  it("renders a module's views and binds the outgoing HTTP client", async () => {
    const app = await shopApp('test');
    await app.start();
    const res = await app
      .make('http')
      .inject({ url: '/shop/hello?name=<Ada>', headers: { 'x-request-id': 'v-1' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.payload).toBe('<p>Hello &lt;Ada&gt; (v-1)</p>');
    expect(app.make('view')).toBe(app.make('view'));
    const client = app.make('http.client');
    expect(client).toBe(app.make('http.client'));
    expect(client.withOptions({})).toHaveProperty('get');
  });

  it('signs cookies with APP_KEY', async () => {
    const app = await shopApp('test');
    await app.start();
    const res = await app.make('http').inject('/shop/login');
    const value = decodeURIComponent(/^sid=([^;]+)/.exec(String(res.headers['set-cookie']))![1]!);
    expect(unsignCookieValue('sid', value, [parseAppKey(APP_KEY)])).toBe('u1');
  });

  it('registers the routes artifact with one row per route', async () => {
    const app = await shopApp('test');
    await app.start();
    const produce = app.artifacts.get('routes');
    expect(produce).toBeTypeOf('function');
    const rows = produce!() as Array<Record<string, unknown>>;
    expect(rows.map((row) => `${row.method} ${row.path}`)).toEqual([
      'GET /shop/boom',
      'GET /shop/hello',
      'GET /shop/login',
      'GET /shop/ping',
      'GET /shop/slow',
    ]);
    expect(rows.find((row) => row.path === '/shop/ping')).toMatchObject({
      name: 'shop.ping',
      module: 'shop',
      middleware: ['tag:blue'],
      mount: false,
    });
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });

  it('reports request errors, with details only when APP_DEBUG is on', async () => {
    for (const [debug, detail] of [
      ['true', 'kaput'],
      ['false', 'Internal Server Error'],
    ] as const) {
      const app = await shopApp('test', { APP_DEBUG: debug });
      await app.start();
      const seen: string[] = [];
      app.make('http.reporters').add((event) => {
        seen.push(`${event.status} ${event.path}`);
      });
      const res = await app.make('http').inject('/shop/boom');
      expect(res.statusCode).toBe(500);
      expect(res.json().detail).toBe(detail);
      expect(res.json().stack !== undefined).toBe(debug === 'true');
      expect(seen).toEqual(['500 /shop/boom']);
    }
  });
});

describe('HttpProvider in the http environment', () => {
  it('listens on the configured port, announces the URL and closes gracefully', async () => {
    const rejectionListeners = process.listenerCount('unhandledRejection');
    const app = await shopApp('http');
    await app.start();
    expect(process.listenerCount('unhandledRejection')).toBe(rejectionListeners + 1);
    const message = app.readyMessages.find((m) => m.startsWith('HTTP listening on '));
    expect(message).toMatch(/^HTTP listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = message!.slice('HTTP listening on '.length);
    expect(url.endsWith(':0')).toBe(false);

    const ping = await fetch(`${url}/shop/ping`);
    expect(ping.status).toBe(200);
    expect(ping.headers.get('x-tag')).toBe('blue');
    expect(await ping.json()).toEqual({ pong: true, app: 'fixture' });

    // A request in flight when shutdown starts is still answered.
    const slow = fetch(`${url}/shop/slow`).then(async (r) => [r.status, await r.text()]);
    await new Promise((r) => setTimeout(r, 30));
    await app.shutdown();
    expect(await slow).toEqual([200, 'slow done']);
    expect(app.state).toBe('stopped');
    expect(process.listenerCount('unhandledRejection')).toBe(rejectionListeners);
    await expect(fetch(`${url}/shop/ping`)).rejects.toThrow();
  });
});
