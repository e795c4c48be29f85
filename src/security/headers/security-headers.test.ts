import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HttpContext } from '../../http/index.js';
import { generateAppKey } from '../../kernel/index.js';
import { bootError, securityApps } from '../__fixtures__/security-middleware-app.js';
import { resolveHeadersConfig } from './headers-config.js';

const start = securityApps();

const production = { env: { APP_ENV: 'production', APP_KEY: generateAppKey() } };

describe('security headers middleware', () => {
  it('sends the restrictive defaults', async () => {
    const app = await start('{}', (r) => r.get('/', () => ({ ok: true })).middleware('security'));
    const res = await app.make('http').inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-security-policy':
        "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'",
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'strict-origin-when-cross-origin',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
    });
    expect(res.headers['permissions-policy']).toContain('camera=()');
    expect(res.headers['permissions-policy']).toContain('geolocation=()');
    expect(res.headers['cross-origin-embedder-policy']).toBeUndefined();
    // Outside production, no HSTS even over HTTPS.
    const https = await app
      .make('http')
      .inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers['strict-transport-security']).toBeUndefined();
  });

  it('gives each request its own 128-bit nonce, in script-src, style-src and ctx.cspNonce', async () => {
    const app = await start('{ headers: { contentSecurityPolicy: { nonce: true } } }', (r) =>
      r.get('/page', (ctx) => ({ nonce: ctx.cspNonce })).middleware('security'),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await app.make('http').inject('/page');
      const nonce = res.json().nonce as string;
      expect(Buffer.from(nonce, 'base64')).toHaveLength(16);
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(res.headers['content-security-policy']).toContain(
        `script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'`,
      );
      seen.add(nonce);
    }
    expect(seen.size).toBe(5);
  });

  it('leaves ctx.cspNonce undefined without a nonce profile', async () => {
    const app = await start('{}', (r) => {
      r.get('/plain', (ctx) => ({ nonce: ctx.cspNonce ?? null })).middleware('security');
      r.get('/bare', (ctx) => ({ nonce: ctx.cspNonce ?? null }));
    });
    expect((await app.make('http').inject('/plain')).json()).toEqual({ nonce: null });
    const bare = await app.make('http').inject('/bare');
    expect(bare.json()).toEqual({ nonce: null });
    expect(bare.headers['content-security-policy']).toBeUndefined();
  });

  it('serves the api profile, a custom profile and SAMEORIGIN framing', async () => {
    const app = await start(
      `{ headers: { frameOptions: 'SAMEORIGIN', contentSecurityPolicy: { nonce: true },
         profiles: { docs: { contentSecurityPolicy: false, referrerPolicy: 'no-referrer', permissionsPolicy: { fullscreen: ['self', 'https://player.example.com'], camera: ['*'] } } } } }`,
      (r) => {
        r.get('/api/orders', () => []).middleware('security:api');
        r.get('/docs', () => 'docs').middleware('security:docs');
        r.get('/', () => 'home').middleware('security');
      },
    );
    const http = app.make('http');
    const api = await http.inject('/api/orders');
    expect(api.headers['content-security-policy']).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(api.headers['x-frame-options']).toBe('SAMEORIGIN');
    const docs = await http.inject('/docs');
    expect(docs.headers['content-security-policy']).toBeUndefined();
    expect(docs.headers['referrer-policy']).toBe('no-referrer');
    expect(docs.headers['permissions-policy']).toBe(
      'fullscreen=(self "https://player.example.com"), camera=*',
    );
    expect(docs.headers['x-frame-options']).toBe('SAMEORIGIN');
    const home = await http.inject('/');
    // The default directives follow SAMEORIGIN framing rather than contradict it.
    expect(home.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(home.headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+'/);
  });

  it('sends HSTS only in production and only over HTTPS from a trusted proxy', async () => {
    const app = await start('{}', (r) => r.get('/', () => 'ok').middleware('security'), production);
    const http = app.make('http');
    const overHttps = await http.inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } });
    expect(overHttps.headers['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    );
    const plain = await http.inject('/');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    // A client that is not a trusted proxy cannot claim HTTPS.
    const spoofed = await http.inject({
      url: '/',
      remoteAddress: '203.0.113.9',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();
  });

  it('adds preload only when asked', async () => {
    const app = await start(
      '{ headers: { hsts: { preload: true, maxAge: 63072000 } } }',
      (r) => r.get('/', () => 'ok').middleware('security'),
      production,
    );
    const res = await app
      .make('http')
      .inject({ url: '/', headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers['strict-transport-security']).toBe(
      'max-age=63072000; includeSubDomains; preload',
    );
  });

  it('keeps the headers on error responses and lets a handler override one', async () => {
    const app = await start('{}', (r) => {
      r.get('/boom', () => {
        throw new Error('boom');
      }).middleware('security');
      r.get('/embed', (ctx) => {
        ctx.setHeader('x-frame-options', 'SAMEORIGIN');
        return 'ok';
      }).middleware('security');
    });
    const http = app.make('http');
    const boom = await http.inject('/boom');
    expect(boom.statusCode).toBe(500);
    expect(boom.headers['content-type']).toMatch(/problem\+json/);
    expect(boom.headers['x-content-type-options']).toBe('nosniff');
    expect(boom.headers['content-security-policy']).toBeDefined();
    expect((await http.inject('/embed')).headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('fails the boot on an unknown profile, naming it and the nearest one', async () => {
    const error = await bootError(
      start('{ headers: { profiles: { admin: {} } } }', (r) =>
        r.get('/', () => 'ok').middleware('security:admn'),
      ),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(error.message).toMatch(/security\.headers\.profiles\.admn.*did you mean "admin"/);
  });

  it('fails the boot on a bad config, naming the key', async () => {
    const error = await bootError(
      start('{ headers: { frameOption: "DENY" } }'),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(error.message).toMatch(/"security\.headers\.frameOption".*did you mean "frameOptions"/);
  });
});

describe('resolveHeadersConfig', () => {
  const invalid = (config: unknown) => {
    try {
      resolveHeadersConfig(config);
    } catch (error) {
      return (error as { code: string; details: { key: string } }).details.key;
    }
    throw new Error('expected E_SECURITY_CONFIG_INVALID');
  };

  it('refuses values that would inject directives, headers or weak settings', () => {
    expect(
      invalid({
        contentSecurityPolicy: { directives: { 'script-src': ["'self'; report-uri x"] } },
      }),
    ).toBe('security.headers.contentSecurityPolicy.directives.script-src');
    expect(
      invalid({ contentSecurityPolicy: { directives: { 'script-src': ['a\r\nset-cookie:x'] } } }),
    ).toBe('security.headers.contentSecurityPolicy.directives.script-src');
    expect(
      invalid({ contentSecurityPolicy: { directives: { 'script-src': ["'nonce-abc'"] } } }),
    ).toBe('security.headers.contentSecurityPolicy.directives.script-src');
    expect(invalid({ contentSecurityPolicy: { directives: { 'Script Src': ['x'] } } })).toBe(
      'security.headers.contentSecurityPolicy.directives.Script Src',
    );
    expect(invalid({ hsts: { preload: true, includeSubDomains: false } })).toBe(
      'security.headers.hsts.preload',
    );
    expect(invalid({ hsts: { maxAge: -1 } })).toBe('security.headers.hsts.maxAge');
    expect(invalid({ frameOptions: 'ALLOW-FROM https://x' })).toBe('security.headers.frameOptions');
    expect(invalid({ referrerPolicy: 'always' })).toBe('security.headers.referrerPolicy');
    expect(invalid({ permissionsPolicy: { camera: ['javascript:alert(1)'] } })).toBe(
      'security.headers.permissionsPolicy.camera',
    );
    expect(invalid({ profiles: { api: { noSniff: 'yes' } } })).toBe(
      'security.headers.profiles.api.noSniff',
    );
    expect(invalid({ profiles: { 'a b': {} } })).toBe('security.headers.profiles.a b');
    expect(invalid('strict')).toBe('security.headers');
  });

  it('merges a profile over the default one key by key', () => {
    const profiles = resolveHeadersConfig({
      noSniff: false,
      profiles: { api: { hsts: { maxAge: 600 } } },
    });
    const api = profiles.get('api');
    expect(api?.noSniff).toBe(false);
    expect(api?.hsts).toEqual({ maxAge: 600, includeSubDomains: true, preload: false });
    expect(api?.contentSecurityPolicy).toMatchObject({ nonce: false });
    expect(profiles.get('default')?.hsts).toMatchObject({ maxAge: 31_536_000 });
  });
});

describe('types', () => {
  it('types ctx.cspNonce, ctx.protocol and ctx.secure', () => {
    expectTypeOf<HttpContext['cspNonce']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<HttpContext['protocol']>().toEqualTypeOf<'http' | 'https'>();
    expectTypeOf<HttpContext['secure']>().toEqualTypeOf<boolean>();
    expectTypeOf<HttpContext['host']>().toEqualTypeOf<string | undefined>();
  });
});
