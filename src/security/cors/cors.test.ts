import { describe, expect, it } from 'vitest';
import type { Application } from '../../kernel/index.js';
import { bootError, securityApps } from '../__fixtures__/security-middleware-app.js';
import { compileCorsPolicy } from './cors-config.js';

const start = securityApps();

const APP = 'https://app.example.com';

function preflight(
  app: Application,
  url: string,
  origin: string | undefined,
  method = 'PUT',
  headers?: string,
) {
  return app.make('http').inject({
    method: 'OPTIONS',
    url,
    headers: {
      ...(origin === undefined ? {} : { origin }),
      'access-control-request-method': method,
      ...(headers === undefined ? {} : { 'access-control-request-headers': headers }),
    },
  });
}

describe('CORS', () => {
  it('answers an allowed origin with its own origin, credentials, exposed headers and Vary', async () => {
    const app = await start(
      `{ cors: { origins: ['${APP}'], credentials: true, exposedHeaders: ['X-Total-Count'] } }`,
      (r) => r.get('/orders', () => []),
    );
    const res = await app
      .make('http')
      .inject({ url: '/orders', headers: { origin: APP, cookie: 'sid=1' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-expose-headers']).toBe('x-total-count');
    expect(res.headers.vary).toBe('Origin');
  });

  it('gives a disallowed origin no CORS headers (the browser blocks the read) but still Vary', async () => {
    const app = await start(`{ cors: { origins: ['${APP}'], credentials: true } }`, (r) =>
      r.get('/orders', () => []),
    );
    const http = app.make('http');
    for (const origin of ['https://evil.example', 'null', 'https://app.example.com.evil.net']) {
      const res = await http.inject({ url: '/orders', headers: { origin } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers.vary).toBe('Origin');
    }
    // Same-origin and non-browser requests carry no Origin: nothing but Vary.
    const plain = await http.inject('/orders');
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    expect(plain.headers.vary).toBe('Origin');
  });

  it('answers a preflight with 204 and the policy, without running the handler', async () => {
    let ran = 0;
    const app = await start(
      `{ cors: { origins: ['${APP}'], credentials: true, maxAge: 600, methods: ['GET', 'PUT'], headers: ['Content-Type', 'Authorization', 'X-Tenant'] } }`,
      (r) =>
        r.put('/orders/:id', () => {
          ran++;
          return {};
        }),
    );
    const res = await preflight(
      app,
      '/orders/7',
      APP,
      'PUT',
      'X-Tenant, content-type, authorization',
    );
    expect(res.statusCode).toBe(204);
    expect(res.payload).toBe('');
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'content-type, authorization, x-tenant',
      'access-control-max-age': '600',
    });
    expect(res.headers.vary).toContain('Origin');
    expect(ran).toBe(0);
  });

  it('answers preflights for routes without OPTIONS and for paths with no route at all', async () => {
    const app = await start(`{ cors: { origins: ['${APP}'] } }`, (r) =>
      r.post('/orders', () => ({})),
    );
    const known = await preflight(app, '/orders', APP, 'POST');
    expect(known.statusCode).toBe(204);
    expect(known.headers['access-control-allow-origin']).toBe(APP);
    expect(known.headers['access-control-max-age']).toBe('7200');
    const unknown = await preflight(app, '/nowhere', APP, 'DELETE');
    expect(unknown.statusCode).toBe(204);
    expect(unknown.headers['access-control-allow-methods']).toContain('DELETE');
    // The real request's 404 is readable by the calling script.
    const missing = await app
      .make('http')
      .inject({ method: 'DELETE', url: '/nowhere', headers: { origin: APP } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe(APP);
    // A plain OPTIONS (no Access-Control-Request-Method) is still the router's Allow answer.
    const options = await app.make('http').inject({ method: 'OPTIONS', url: '/orders' });
    expect(options.statusCode).toBe(204);
    expect(options.headers.allow).toBe('POST, OPTIONS');
  });

  it('refuses a preflight from a disallowed origin, the null origin, or without Origin with 403 problem+json', async () => {
    const app = await start(`{ cors: { origins: ['${APP}'] } }`, (r) =>
      r.put('/orders', () => ({})),
    );
    for (const origin of ['https://evil.example', 'null', undefined]) {
      const res = await preflight(app, '/orders', origin);
      expect(res.statusCode, String(origin)).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'E_CORS_ORIGIN_DENIED' });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('refuses a preflight asking for a method or header outside the policy', async () => {
    const app = await start(
      `{ cors: { origins: ['${APP}'], methods: ['GET', 'POST'], headers: ['content-type'] } }`,
    );
    const method = await preflight(app, '/x', APP, 'DELETE');
    expect(method.statusCode).toBe(403);
    expect(method.json().detail).toMatch(/method DELETE is not allowed/);
    const header = await preflight(app, '/x', APP, 'POST', 'content-type, x-secret');
    expect(header.statusCode).toBe(403);
    expect(header.json().detail).toMatch(/header x-secret is not allowed/);
    const malformed = await preflight(app, '/x', APP, 'POST', 'x-a\u00ff');
    expect(malformed.statusCode).toBe(403);
    // Safelisted request headers need no listing.
    expect((await preflight(app, '/x', APP, 'POST', 'accept, content-language')).statusCode).toBe(
      204,
    );
  });

  it("reflects the requested headers with headers: '*'", async () => {
    const app = await start(`{ cors: { origins: ['${APP}'], headers: '*', credentials: true } }`);
    const res = await preflight(app, '/x', APP, 'GET', 'Authorization, X-Anything');
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-headers']).toBe('authorization, x-anything');
  });

  it('matches *.domain wildcards on whole labels only, and anchored RegExps', async () => {
    const app = await start(
      `{ cors: { origins: ['https://*.example.com', 'http://*.dev.test:8080', /^https:\\/\\/pr-\\d+\\.preview\\.test$/] } }`,
      (r) => r.get('/', () => 'ok'),
    );
    const http = app.make('http');
    const allowed = async (origin: string) =>
      (await http.inject({ url: '/', headers: { origin } })).headers[
        'access-control-allow-origin'
      ] === origin;
    expect(await allowed('https://app.example.com')).toBe(true);
    expect(await allowed('https://a.b.example.com')).toBe(true);
    expect(await allowed('http://web.dev.test:8080')).toBe(true);
    expect(await allowed('https://pr-42.preview.test')).toBe(true);
    for (const origin of [
      'https://example.com',
      'https://evilexample.com',
      'https://app.example.com.evil.net',
      'https://app.example.com:8443',
      'http://app.example.com',
      'https://app.example.com/',
      'https://-x.example.com',
      'https://a_b.example.com',
      'http://web.dev.test',
      'https://pr-42.preview.test.evil',
      'https://xpr-42.preview.test',
      'null',
    ]) {
      expect(await allowed(origin), origin).toBe(false);
    }
  });

  it("answers origins: '*' with a literal * and no Vary, never for the null origin", async () => {
    const app = await start(`{ cors: { origins: '*' } }`, (r) => r.get('/', () => 'ok'));
    const http = app.make('http');
    const res = await http.inject({ url: '/', headers: { origin: 'https://any.example' } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const nullOrigin = await http.inject({ url: '/', headers: { origin: 'null' } });
    expect(nullOrigin.headers['access-control-allow-origin']).toBeUndefined();
    expect(
      (await preflight(app, '/', 'https://any.example', 'GET')).headers[
        'access-control-allow-origin'
      ],
    ).toBe('*');
  });

  it('limits the global handling to paths, and lets routes elsewhere opt in with the cors middleware', async () => {
    const app = await start(`{ cors: { origins: ['${APP}'], paths: ['/api/*'] } }`, (r) => {
      r.put('/api/orders', () => ({}));
      r.put('/webhooks/in', () => ({})).middleware('cors');
      r.put('/admin/users', () => ({}));
    });
    const http = app.make('http');
    expect((await preflight(app, '/api/orders', APP)).statusCode).toBe(204);
    const optedIn = await preflight(app, '/webhooks/in', APP);
    expect(optedIn.statusCode).toBe(204);
    expect(optedIn.headers['access-control-allow-origin']).toBe(APP);
    const actual = await http.inject({
      method: 'PUT',
      url: '/webhooks/in',
      headers: { origin: APP },
    });
    expect(actual.headers['access-control-allow-origin']).toBe(APP);
    // Outside the paths and without the middleware: no CORS at all.
    const admin = await preflight(app, '/admin/users', APP);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
    const adminPut = await http.inject({
      method: 'PUT',
      url: '/admin/users',
      headers: { origin: APP },
    });
    expect(adminPut.headers['access-control-allow-origin']).toBeUndefined();
    expect(adminPut.headers.vary).toBeUndefined();
  });

  it('adds Origin to a Vary an earlier middleware set, once', async () => {
    const app = await start(`{ cors: { origins: ['${APP}'], paths: ['/api/*'] } }`, (r, a) => {
      // Outermost (above the cors middleware's priority): its Vary is set first.
      a.make('http').middleware.register(
        'compress',
        () => (ctx, next) => {
          ctx.setHeader('vary', 'Accept-Encoding');
          return next();
        },
        { priority: 1000 },
      );
      r.get('/feed', () => 'ok').middleware(['cors', 'compress']);
    });
    const res = await app.make('http').inject({ url: '/feed', headers: { origin: APP } });
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    expect(res.headers['access-control-allow-origin']).toBe(APP);
  });

  it('serves no CORS when the key is absent or disabled, and the cors middleware then fails the boot', async () => {
    const off = await start(`{ cors: { enabled: false, origins: ['${APP}'] } }`, (r) =>
      r.get('/', () => 'ok'),
    );
    const res = await off.make('http').inject({ url: '/', headers: { origin: APP } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    const error = await bootError(
      start('{}', (r) => r.get('/', () => 'ok').middleware('cors')),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(error.message).toContain('"security.cors"');
  });

  it("fails the boot on '*' with credentials", async () => {
    const error = await bootError(
      start(`{ cors: { origins: '*', credentials: true } }`),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(error.message).toContain('"security.cors.origins"');
  });
});

describe('compileCorsPolicy', () => {
  const keyOf = (config: unknown): string => {
    try {
      compileCorsPolicy(config);
    } catch (error) {
      return (error as { details: { key: string } }).details.key;
    }
    throw new Error('expected E_SECURITY_CONFIG_INVALID');
  };

  it('refuses origins that cannot be matched safely, naming the entry', () => {
    expect(keyOf({ origins: ['null'] })).toBe('security.cors.origins.0');
    expect(keyOf({ origins: [APP, 'https://app.example.com/path'] })).toBe(
      'security.cors.origins.1',
    );
    expect(keyOf({ origins: ['app.example.com'] })).toBe('security.cors.origins.0');
    expect(keyOf({ origins: ['https://*.com'] })).toBe('security.cors.origins.0');
    expect(keyOf({ origins: ['https://app.*.example.com'] })).toBe('security.cors.origins.0');
    expect(keyOf({ origins: [/https:\/\/app\.example\.com/] })).toBe('security.cors.origins.0');
    expect(keyOf({ origins: ['ftp://files.example.com'] })).toBe('security.cors.origins.0');
    expect(keyOf({ origins: [APP, '*'] })).toBe('security.cors.origins.1');
    expect(keyOf({ origins: [] })).toBe('security.cors.origins');
    expect(keyOf({})).toBe('security.cors.origins');
    expect(keyOf({ origins: [APP], maxAge: '10m' })).toBe('security.cors.maxAge');
    expect(keyOf({ origins: [APP], methods: ['GET\r\n'] })).toBe('security.cors.methods');
    expect(keyOf({ origins: [APP], paths: ['api/*'] })).toBe('security.cors.paths');
    expect(keyOf({ origins: [APP], origin: [APP] })).toBe('security.cors.origin');
  });

  it('drops the g flag, so one RegExp matches on every call', () => {
    const policy = compileCorsPolicy({ origins: [/^https:\/\/a\.test$/g] });
    expect([1, 2, 3].map(() => policy?.allows('https://a.test'))).toEqual([true, true, true]);
  });

  it('is off without the key', () => {
    expect(compileCorsPolicy(undefined)).toBeUndefined();
  });
});
