import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bootError, securityApps } from '../__fixtures__/security-middleware-app.js';
import { sanitize } from './sanitize-middleware.js';

const start = securityApps();

const customer = z.object({
  name: z.string().min(2).max(20),
  notes: z.string().optional(),
  tags: z.array(z.string().min(1)).optional(),
});

describe('sanitize middleware', () => {
  it('cleans the body before validation, so the schema and the handler see the same clean values', async () => {
    const app = await start('{}', (r) =>
      r
        .post('/customers', async (ctx) => ({
          validated: ctx.validated.body,
          raw: await ctx.body(),
        }))
        .middleware('sanitize')
        .validate({ body: customer }),
    );
    const res = await app.make('http').inject({
      method: 'POST',
      url: '/customers',
      payload: {
        name: ' \u202EAda\u200B\u0000 Lovelace\u2066 ',
        notes: 'line one\r\nline\ttwo\u0007',
        tags: ['  vip ', 'Z\u0336\u0353\u0330\u0324a'],
      },
    });
    expect(res.statusCode).toBe(200);
    const clean = {
      name: 'Ada Lovelace',
      notes: 'line one\nline\ttwo',
      tags: ['vip', 'Z\u0336\u0353a'],
    };
    expect(res.json()).toEqual({ validated: clean, raw: clean });
  });

  it('lets validation judge what is left: invisible padding no longer passes a length rule', async () => {
    const app = await start('{}', (r) =>
      r
        .post('/customers', (ctx) => ctx.validated.body)
        .middleware('sanitize')
        .validate({ body: customer }),
    );
    const res = await app.make('http').inject({
      method: 'POST',
      url: '/customers',
      payload: { name: 'A\u200B\u200B\u200B\u202E' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(res.json())).toContain('name');
  });

  it('applies per-field rules, a rule for the rest, and wildcards inside arrays', async () => {
    const app = await start('{}', (r) =>
      r
        .post('/posts', async (ctx) => ctx.body())
        .middleware([
          sanitize({
            body: {
              title: ['strip_tags', 'collapse_whitespace'],
              'lines.*.sku': ['nfkc', 'uppercase'],
              '*': ['trim'],
            },
          }),
        ]),
    );
    const res = await app.make('http').inject({
      method: 'POST',
      url: '/posts',
      payload: {
        title: '<b>Hello</b>   <script>alert(1)</script> world',
        body: '  <i>kept as is</i>  ',
        lines: [{ sku: '\uFF41\uFF42-1 ', qty: 2 }, { sku: 'c-2' }],
        nested: { deep: '  untouched by trim? no: trimmed  ' },
      },
    });
    expect(res.json()).toEqual({
      title: 'Hello world',
      body: '<i>kept as is</i>',
      lines: [{ sku: 'AB-1 ', qty: 2 }, { sku: 'C-2' }],
      nested: { deep: 'untouched by trim? no: trimmed' },
    });
  });

  it('cleans the query before its validation', async () => {
    const app = await start('{}', (r) =>
      r
        .get('/search', (ctx) => ({ validated: ctx.validated.query, query: ctx.query }))
        .middleware('sanitize')
        .validate({
          query: z.object({ q: z.string().min(1), tag: z.array(z.string()).optional() }),
        }),
    );
    const http = app.make('http');
    const res = await http.inject(
      `/search?q=${encodeURIComponent(' caf\u0065\u0301\u0000 ')}&tag=a%E2%80%8B&tag=%20b`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      validated: { q: 'caf\u00e9', tag: ['a', 'b'] },
      query: { q: 'caf\u00e9', tag: ['a', 'b'] },
    });
    expect((await http.inject('/search?q=%E2%80%AE%00')).statusCode).toBe(422);
  });

  it('reaches strings at any depth, so nesting cannot smuggle a value past it', async () => {
    const app = await start('{}', (r) =>
      r.post('/deep', async (ctx) => ctx.body()).middleware('sanitize'),
    );
    let payload: unknown = ' \u202Edeep\u0000 ';
    for (let i = 0; i < 200; i++) payload = i % 2 === 0 ? [payload] : { n: payload };
    const res = await app
      .make('http')
      .inject({ method: 'POST', url: '/deep', payload: payload as object });
    expect(res.statusCode).toBe(200);
    let value: unknown = res.json();
    for (let i = 199; i >= 0; i--)
      value = i % 2 === 0 ? (value as unknown[])[0] : (value as { n: unknown }).n;
    expect(value).toBe('deep');
  });

  it('uses named profiles from security.sanitize', async () => {
    const app = await start(
      `{ sanitize: { profiles: { ids: { body: ['nfkc', 'strip_invisible', 'lowercase', 'trim'] } } } }`,
      (r) => r.post('/login', async (ctx) => ctx.body()).middleware('sanitize:ids'),
    );
    const res = await app.make('http').inject({
      method: 'POST',
      url: '/login',
      payload: { email: ' \uFF21da@Example.COM\u200B ', password: { nested: ['X'] } },
    });
    expect(res.json()).toEqual({ email: 'ada@example.com', password: { nested: ['x'] } });
  });

  it('leaves prototype-poisoning keys, non-plain objects and bodiless requests alone', async () => {
    const app = await start('{}', (r) => {
      r.post('/echo', async (ctx) => ({
        body: await ctx.body(),
        proto: ({} as Record<string, unknown>).polluted ?? null,
      })).middleware('sanitize');
      r.get('/plain', () => ({ ok: true })).middleware('sanitize');
    });
    const http = app.make('http');
    const res = await http.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":" x ","constructor":{"prototype":{"polluted":" yes "}}}',
    });
    // The JSON parser refuses the poisoning key before the sanitizer ever sees it.
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'E_PROTOTYPE_POISONING' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const form = await http.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=%20x%00%20&b[c]=%E2%80%AEy&__proto__[polluted]=%20yes',
    });
    expect(form.statusCode).toBe(200);
    expect(form.json()).toEqual({ body: { a: 'x', b: { c: 'y' } }, proto: null });
    expect((await http.inject('/plain')).json()).toEqual({ ok: true });
  });

  it('fails the boot on an unknown profile or sanitizer, naming the key', async () => {
    const profile = await bootError(
      start('{}', (r) => r.post('/x', () => 'ok').middleware('sanitize:strict')),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(profile.message).toContain('security.sanitize.profiles.strict');
    const rule = await bootError(
      start(`{ sanitize: { profiles: { strict: { body: ['strip_tag'] } } } }`),
      'E_SECURITY_CONFIG_INVALID',
    );
    expect(rule.message).toMatch(
      /security\.sanitize\.profiles\.strict\.body\.0.*did you mean "strip_tags"/,
    );
    expect(() => sanitize({})).toThrow(/sanitizes nothing/);
    expect(() => sanitize({ body: { '__proto__.x': ['trim'] } } as never)).toThrow(/field path/);
  });
});
