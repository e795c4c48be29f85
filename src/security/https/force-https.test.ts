import { describe, expect, it } from 'vitest';
import { bootError, securityApps } from '../__fixtures__/security-middleware-app.js';
import { resolveHttpsPolicy } from './force-https.js';

const start = securityApps();

const routes = (r: import('../../http/index.js').Router) => {
  r.get('/orders', () => ({ ok: true }));
  r.post('/orders', () => ({ ok: true }));
  r.get('/healthz', () => ({ status: 'ok' }));
};

describe('HTTPS enforcement', () => {
  it('redirects GET and HEAD to the same URL on https with FORCE_HTTPS', async () => {
    const app = await start('{}', routes, { env: { FORCE_HTTPS: 'true' } });
    const http = app.make('http');
    const get = await http.inject({
      url: '/orders?page=2&q=a%20b',
      headers: { host: 'shop.example:8080' },
    });
    expect(get.statusCode).toBe(301);
    expect(get.headers.location).toBe('https://shop.example/orders?page=2&q=a%20b');
    const head = await http.inject({
      method: 'HEAD',
      url: '/orders',
      headers: { host: 'shop.example' },
    });
    expect(head.statusCode).toBe(301);
    // Before routing: a path without a route is redirected too, not answered 404 over HTTP.
    const unknown = await http.inject({ url: '/nowhere', headers: { host: 'shop.example' } });
    expect(unknown.statusCode).toBe(301);
    expect(unknown.headers.location).toBe('https://shop.example/nowhere');
  });

  it('refuses other methods with 403 problem+json, or redirects them with 308 when configured', async () => {
    const app = await start('{}', routes, { env: { FORCE_HTTPS: '1' } });
    const post = await app
      .make('http')
      .inject({ method: 'POST', url: '/orders', payload: { a: 1 } });
    expect(post.statusCode).toBe(403);
    expect(post.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(post.json()).toMatchObject({ code: 'E_HTTPS_REQUIRED' });
    const lenient = await start(
      `{ https: { force: true, otherMethods: 'redirect', redirectStatus: 308 } }`,
      routes,
    );
    const redirected = await lenient
      .make('http')
      .inject({ method: 'POST', url: '/orders', headers: { host: 'shop.example' } });
    expect(redirected.statusCode).toBe(308);
    expect(redirected.headers.location).toBe('https://shop.example/orders');
    const get = await lenient
      .make('http')
      .inject({ url: '/orders', headers: { host: 'shop.example' } });
    expect(get.statusCode).toBe(308);
  });

  it('serves requests a trusted proxy received over HTTPS, and its forwarded host', async () => {
    const app = await start('{}', routes, { env: { FORCE_HTTPS: 'true' } });
    const http = app.make('http');
    const viaProxy = await http.inject({
      url: '/orders',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(viaProxy.statusCode).toBe(200);
    const plainViaProxy = await http.inject({
      url: '/orders',
      headers: {
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'public.example',
        host: 'internal:3000',
      },
    });
    expect(plainViaProxy.statusCode).toBe(301);
    expect(plainViaProxy.headers.location).toBe('https://public.example/orders');
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-Host from an untrusted peer', async () => {
    const app = await start('{}', routes, { env: { FORCE_HTTPS: 'true' }, trustProxy: 'false' });
    const res = await app.make('http').inject({
      url: '/orders',
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        host: 'shop.example',
      },
    });
    expect(res.statusCode).toBe(301);
    expect(res.headers.location).toBe('https://shop.example/orders');
  });

  it('leaves the except paths on plain HTTP', async () => {
    const app = await start(`{ https: { except: ['/healthz', '/internal/*'] } }`, routes, {
      env: { FORCE_HTTPS: 'true' },
    });
    const http = app.make('http');
    expect((await http.inject('/healthz')).statusCode).toBe(200);
    expect((await http.inject('/internal/anything')).statusCode).toBe(404);
    expect((await http.inject({ url: '/orders', headers: { host: 'a.example' } })).statusCode).toBe(
      301,
    );
  });

  it('redirects to the configured host whatever Host says, and refuses a malformed Host', async () => {
    const pinned = await start(`{ https: { force: true, host: 'shop.example:8443' } }`, routes);
    const res = await pinned
      .make('http')
      .inject({ url: '/orders', headers: { host: 'evil.example' } });
    expect(res.headers.location).toBe('https://shop.example:8443/orders');
    const open = await start(`{ https: { force: true } }`, routes);
    const bad = await open
      .make('http')
      .inject({ url: '/orders', headers: { host: 'evil.example/@x' } });
    expect(bad.statusCode).toBe(403);
    expect(bad.json()).toMatchObject({ code: 'E_HTTPS_REQUIRED' });
  });

  it('keeps a path that looks like an authority on our host', async () => {
    const app = await start(`{ https: { force: true } }`, routes);
    const res = await app
      .make('http')
      .inject({ url: '//evil.example/x', headers: { host: 'shop.example' } });
    expect(res.statusCode).toBe(301);
    expect(new URL(res.headers.location as string).host).toBe('shop.example');
  });

  it('does nothing when off, and lets config override the environment', async () => {
    const off = await start('{}', routes, { env: { FORCE_HTTPS: 'false' } });
    expect((await off.make('http').inject('/orders')).statusCode).toBe(200);
    const overridden = await start(`{ https: { force: false } }`, routes, {
      env: { FORCE_HTTPS: 'true' },
    });
    expect((await overridden.make('http').inject('/orders')).statusCode).toBe(200);
  });

  it('fails the boot on an unreadable FORCE_HTTPS or option', async () => {
    const env = await bootError(
      start('{}', routes, { env: { FORCE_HTTPS: 'maybe' } }),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(env.message).toContain('"FORCE_HTTPS"');
    expect(() => resolveHttpsPolicy({ force: true, redirectStatus: 302 }, undefined)).toThrow(
      /security\.https\.redirectStatus/,
    );
    expect(() => resolveHttpsPolicy({ force: true, except: ['healthz'] }, undefined)).toThrow(
      /security\.https\.except/,
    );
    expect(() => resolveHttpsPolicy({ force: true, host: 'a.example/x' }, undefined)).toThrow(
      /security\.https\.host/,
    );
    expect(() => resolveHttpsPolicy({ forced: true }, undefined)).toThrow(
      /security\.https\.forced/,
    );
  });
});
