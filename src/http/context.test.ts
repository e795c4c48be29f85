import { access } from 'node:fs/promises';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Container } from '../container/index.js';
import { createLogger, createNullLogger } from '../kernel/index.js';
import type { ViewEngine } from '../view/index.js';
import { createHttpClient } from './client/index.js';
import type { HttpContext } from './context.js';
import { ErrorReporterRegistry, loggerReporter } from './errors/index.js';
import { createHttpApp, type HttpApp } from './http-app.js';
import { HttpKernel } from './http-kernel.js';
import { signCookieValue } from './response.js';

let app: HttpApp;

/** True when a lazy getter hands back the same object on a second read. */
function cachedOnce(read: () => unknown): boolean {
  const first = read();
  return read() === first;
}
let handled = 0;

beforeAll(async () => {
  app = await createHttpApp();
  const r = app.router;
  r.get('/query', (ctx: HttpContext) => ({ query: ctx.query }));
  r.get('/ignores-query', () => 'fine');
  r.get('/request/*', (ctx: HttpContext) => ({
    method: ctx.method,
    path: ctx.path,
    search: ctx.search,
    wildcard: ctx.params['*'],
    accept: ctx.header('Accept'),
    missing: ctx.header('x-missing') ?? null,
    custom: ctx.headers['x-custom'],
    cookies: ctx.cookies,
    sameCookies: cachedOnce(() => ctx.cookies),
    sameQuery: cachedOnce(() => ctx.query),
  }));
  r.get('/id', (ctx: HttpContext) => ({ id: ctx.requestId, again: ctx.requestId }));
  r.get('/ip', (ctx: HttpContext) => ({ ip: ctx.ip }));
  r.post('/body', async (ctx: HttpContext) => {
    const body = await ctx.body();
    return {
      type: Buffer.isBuffer(body) ? 'buffer' : body === undefined ? 'undefined' : typeof body,
      body: Buffer.isBuffer(body) ? body.toString('hex') : (body ?? null),
    };
  });
  r.post('/upload', async (ctx: HttpContext) => {
    const fields = await ctx.body<Record<string, unknown>>();
    const [file] = ctx.bodyReader.files;
    await access(file!.path);
    ctx.state.upload = file!.path;
    return {
      fields,
      file: { field: file!.field, name: file!.filename, type: file!.mimeType, size: file!.size },
      path: file!.path,
    };
  });
  r.post('/input/:id', async (ctx: HttpContext) => {
    await ctx.body();
    return {
      id: ctx.input('id'),
      q: ctx.input('q'),
      name: ctx.input('name'),
      absent: ctx.input('absent') ?? null,
    };
  });
  r.post('/validated-input/:id', (ctx: HttpContext) => ({
    id: ctx.input('id'),
    page: ctx.input('page'),
    name: ctx.input('name'),
    fallback: ctx.input('raw') ?? null,
  })).validate({
    params: z.object({ id: z.coerce.number() }),
    query: z.object({ page: z.coerce.number().default(1) }),
    body: z.object({ name: z.string().toUpperCase() }),
  });
  r.post('/input-text', async (ctx: HttpContext) => {
    await ctx.body();
    return { v: ctx.input('length') ?? null };
  });
  r.post('/strict', (ctx: HttpContext) => {
    handled++;
    return ctx.validated.body;
  })
    .validate({ body: z.object({ a: z.unknown() }) })
    .body({ allowed: ['json'], limits: { json: 64 } });
});

describe('query', () => {
  it('parses lazily into a bounded, nested object', async () => {
    const res = await app.inject('/query?a=1&b[c]=2&list[]=x&list[]=y&flag');
    expect(res.json()).toEqual({ query: { a: '1', b: { c: '2' }, list: ['x', 'y'], flag: '' } });
    const none = await app.inject('/query');
    expect(none.json()).toEqual({ query: {} });
  });

  it('refuses too many parameters, but only for routes that read the query', async () => {
    const search = Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join('&');
    const ignored = await app.inject(`/ignores-query?${search}`);
    expect(ignored.statusCode).toBe(200);
    const read = await app.inject(`/query?${search}`);
    expect(read.statusCode).toBe(400);
    expect(read.json()).toMatchObject({ status: 400, code: 'E_QUERY_TOO_MANY_PARAMS' });
    const deep = await app.inject('/query?a[b][c][d][e][f][g]=1');
    expect(deep.statusCode).toBe(400);
    expect(deep.json().code).toBe('E_QUERY_TOO_DEEP');
  });

  it('drops prototype-polluting keys', async () => {
    const res = await app.inject('/query?__proto__[x]=1&constructor[prototype][y]=2&ok=1');
    expect(res.json()).toEqual({ query: { ok: '1' } });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('request data', () => {
  it('exposes method, path, raw search, params, headers and cookies', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/request/a/b?x=1&y=%20',
      headers: { accept: 'text/html', 'x-custom': 'v', cookie: 'theme=dark; name=J%C3%BCrg' },
    });
    expect(res.json()).toEqual({
      method: 'GET',
      path: '/request/a/b',
      search: 'x=1&y=%20',
      wildcard: 'a/b',
      accept: 'text/html',
      missing: null,
      custom: 'v',
      cookies: { theme: 'dark', name: 'Jürg' },
      sameCookies: true,
      sameQuery: true,
    });
  });
});

describe('requestId', () => {
  it('echoes a well-formed incoming X-Request-Id', async () => {
    const res = await app.inject({ url: '/id', headers: { 'x-request-id': 'abc-123.4:5_6' } });
    expect(res.headers['x-request-id']).toBe('abc-123.4:5_6');
    expect(res.json()).toEqual({ id: 'abc-123.4:5_6', again: 'abc-123.4:5_6' });
  });

  it.each([
    ['spaces', 'has spaces'],
    ['quotes and angle brackets', '<script>"x"</script>'],
    ['an oversized id', 'a'.repeat(129)],
    ['an empty id', ''],
  ])('replaces %s with a UUID', async (_label, incoming) => {
    const res = await app.inject({ url: '/id', headers: { 'x-request-id': incoming } });
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.json().id).toBe(id);
  });

  it('generates a fresh id per request and sends it on every answer, errors included', async () => {
    const a = await app.inject('/id');
    const b = await app.inject('/id');
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    const missing = await app.inject({ url: '/nope', headers: { 'x-request-id': 'trace-1' } });
    expect(missing.headers['x-request-id']).toBe('trace-1');
    expect(missing.json().requestId).toBe('trace-1');
  });

  it('binds the request logger to the request id, method and path', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'ctx-test',
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    const logged = await createHttpApp({ logger });
    logged.router.get('/log', (ctx: HttpContext) => {
      ctx.logger.info('inside');
      expect(ctx.logger).toBe(ctx.logger);
      return 'ok';
    });
    await logged.inject({ url: '/log', headers: { 'x-request-id': 'log-1' } });
    const entry = JSON.parse(lines.find((line) => line.includes('inside'))!);
    expect(entry).toMatchObject({
      request_id: 'log-1',
      method: 'GET',
      path: '/log',
      msg: 'inside',
    });
    expect(entry).not.toHaveProperty('requestId');
  });

  it('writes request_id once per line when the request runs in a scope, errors included', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'ctx-test',
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    const kernel = new HttpKernel({ container: new Container(), logger });
    // Reporting goes to the same logger, as HttpProvider wires it.
    const reporters = new ErrorReporterRegistry({ logger });
    reporters.add(loggerReporter(logger));
    const scoped = new HttpKernel({ container: new Container(), logger, reporters });
    for (const k of [kernel, scoped]) {
      k.router.get('/log', (ctx: HttpContext) => {
        ctx.logger.child({ step: 'charge' }).info('inside');
        throw new Error('declined');
      });
    }
    // With an instrument the request runs in a scope: the log mixin adds request_id too.
    scoped.instrument({ name: 'scope', end() {} });
    await kernel.inject({ url: '/log', headers: { 'x-request-id': 'plain-1' } });
    await scoped.inject({ url: '/log', headers: { 'x-request-id': 'scoped-1' } });
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.match(/"request_id"/g)).toHaveLength(1);
      expect(line).not.toContain('requestId');
    }
    const [plain, inside, failed] = lines.map((line) => JSON.parse(line));
    expect(plain).toMatchObject({ request_id: 'plain-1', step: 'charge', msg: 'inside' });
    expect(inside).toMatchObject({ request_id: 'scoped-1', step: 'charge', msg: 'inside' });
    expect(failed).toMatchObject({
      request_id: 'scoped-1',
      status: 500,
      msg: 'GET /log failed: declined',
    });
  });
});

describe('ip and trusted proxies', () => {
  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For says', async () => {
    const res = await app.inject({
      url: '/ip',
      remoteAddress: '198.51.100.7',
      headers: { 'x-forwarded-for': '203.0.113.1' },
    });
    expect(res.json()).toEqual({ ip: '198.51.100.7' });
  });

  it('uses X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const proxied = await createHttpApp({ trustProxy: ['10.0.0.0/8'] });
    proxied.router.get('/ip', (ctx: HttpContext) => ({ ip: ctx.ip }));
    const trusted = await proxied.inject({
      url: '/ip',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.5' },
    });
    expect(trusted.json()).toEqual({ ip: '203.0.113.9' });
    const untrusted = await proxied.inject({
      url: '/ip',
      remoteAddress: '198.51.100.7',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(untrusted.json()).toEqual({ ip: '198.51.100.7' });
    // A spoofed first entry from the client is ignored beyond the first untrusted hop.
    const spoofed = await proxied.inject({
      url: '/ip',
      remoteAddress: '10.1.2.3',
      headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.9' },
    });
    expect(spoofed.json()).toEqual({ ip: '203.0.113.9' });
  });

  it('falls back to the socket address with a bare kernel', async () => {
    const kernel = new HttpKernel({ container: new Container(), logger: createNullLogger() });
    kernel.router.get('/ip', (ctx: HttpContext) => ({ ip: ctx.ip }));
    const res = await kernel.inject({ url: '/ip', remoteAddress: '192.0.2.4' });
    expect(res.json()).toEqual({ ip: '192.0.2.4' });
  });
});

describe('request-scoped container', () => {
  it('gives each request its own scoped instances and disposes them after the response', async () => {
    const container = new Container();
    const disposed: number[] = [];
    let next = 0;
    class UnitOfWork {
      readonly id = ++next;
      dispose(): void {
        disposed.push(this.id);
      }
    }
    container.scoped(UnitOfWork);
    container.singleton('clock', () => ({ now: 1 }));
    const kernel = new HttpKernel({ container, logger: createNullLogger() });
    kernel.router.get('/unit', (ctx: HttpContext) => {
      const unit = ctx.container.make(UnitOfWork);
      return {
        id: unit.id,
        same: ctx.container.make(UnitOfWork) === unit,
        ctx: ctx.container.make('ctx' as never) === ctx,
        scope: cachedOnce(() => ctx.container),
        clock: (ctx.container.make('clock' as never) as { now: number }).now,
      };
    });
    const first = (await kernel.inject('/unit')).json();
    const second = (await kernel.inject('/unit')).json();
    expect(first).toEqual({ id: 1, same: true, ctx: true, scope: true, clock: 1 });
    expect(second.id).toBe(2);
    await vi.waitFor(() => expect(disposed.sort()).toEqual([1, 2]));
  });

  it('disposes the scope after an error response too', async () => {
    const container = new Container();
    const disposed: string[] = [];
    container.scoped('conn', () => ({ dispose: () => disposed.push('conn') }));
    const kernel = new HttpKernel({ container, logger: createNullLogger() });
    kernel.router.get('/fail', (ctx: HttpContext) => {
      ctx.container.make('conn' as never);
      throw new Error('nope');
    });
    const res = await kernel.inject('/fail');
    expect(res.statusCode).toBe(500);
    await vi.waitFor(() => expect(disposed).toEqual(['conn']));
  });
});

describe('body()', () => {
  it('parses JSON, urlencoded forms, text and raw bytes by Content-Type', async () => {
    const json = await app.inject({ method: 'POST', url: '/body', payload: { a: [1, { b: 2 }] } });
    expect(json.json()).toEqual({ type: 'object', body: { a: [1, { b: 2 }] } });
    const form = await app.inject({
      method: 'POST',
      url: '/body',
      payload: 'name=Ada&tags[]=x&tags[]=y',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.json()).toEqual({ type: 'object', body: { name: 'Ada', tags: ['x', 'y'] } });
    const text = await app.inject({
      method: 'POST',
      url: '/body',
      payload: 'héllo',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect(text.json()).toEqual({ type: 'string', body: 'héllo' });
    const raw = await app.inject({
      method: 'POST',
      url: '/body',
      payload: Buffer.from([1, 2, 254]),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(raw.json()).toEqual({ type: 'buffer', body: '0102fe' });
    const none = await app.inject({ method: 'POST', url: '/body' });
    expect(none.json()).toEqual({ type: 'undefined', body: null });
  });

  it('parses multipart uploads sent by a real client and removes temp files afterwards', async () => {
    const { url } = await app.listen({ port: 0 });
    try {
      const form = new FormData();
      form.append('title', 'Quarterly');
      form.append('tags', 'a');
      form.append('report', new Blob(['col1,col2\n1,2\n'], { type: 'text/csv' }), 'q1.csv');
      const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
      expect(res.status).toBe(200);
      const out = (await res.json()) as { fields: unknown; file: unknown; path: string };
      expect(out.fields).toEqual({ title: 'Quarterly', tags: 'a' });
      expect(out.file).toEqual({ field: 'report', name: 'q1.csv', type: 'text/csv', size: 14 });
      await vi.waitFor(() => expect(access(out.path)).rejects.toThrow(/ENOENT/));
    } finally {
      await app.close();
    }
  });
});

describe('input()', () => {
  it('reads params, then query, then a parsed object body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/input/7?id=query&q=search&name=from-query',
      payload: { id: 'body', q: 'body', name: 'from-body', other: 1 },
    });
    // `name` is in the query and the body: the query wins.
    expect(res.json()).toEqual({ id: '7', q: 'search', name: 'from-query', absent: null });
    const bodyOnly = await app.inject({
      method: 'POST',
      url: '/input/8',
      payload: { name: 'from-body' },
    });
    expect(bodyOnly.json()).toMatchObject({ id: '8', name: 'from-body' });
  });

  it('prefers validated (transformed) input when the route has schemas', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/validated-input/42?raw=r',
      payload: { name: 'ada' },
    });
    expect(res.json()).toEqual({ id: 42, page: 1, name: 'ADA', fallback: 'r' });
  });

  it('ignores a body that is not an object', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/input-text',
      payload: 'a string has a length',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.json()).toEqual({ v: null });
  });
});

describe('body errors end to end', () => {
  async function post(payload: string, contentType = 'application/json') {
    const res = await app.inject({
      method: 'POST',
      url: '/strict',
      payload,
      headers: { 'content-type': contentType, 'x-request-id': 'body-err' },
    });
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const problem = res.json();
    expect(problem.status).toBe(res.statusCode);
    expect(problem.requestId).toBe('body-err');
    expect(problem.instance).toBe('/strict');
    return { status: res.statusCode, code: problem.code as string };
  }

  it('answers 400, 400, 413 and 415 without running the handler', async () => {
    handled = 0;
    expect(await post('{"a": ')).toEqual({ status: 400, code: 'E_MALFORMED_JSON' });
    expect(await post('{"a":1,"__proto__":{"admin":true}}')).toEqual({
      status: 400,
      code: 'E_PROTOTYPE_POISONING',
    });
    expect(await post('{"constructor":{"prototype":{"admin":true}}}')).toEqual({
      status: 400,
      code: 'E_PROTOTYPE_POISONING',
    });
    expect(await post(`{"a":"${'x'.repeat(100)}"}`)).toEqual({
      status: 413,
      code: 'E_BODY_TOO_LARGE',
    });
    expect(await post('a=1', 'application/x-www-form-urlencoded')).toEqual({
      status: 415,
      code: 'E_UNSUPPORTED_MEDIA_TYPE',
    });
    expect(await post('<a/>', 'text/xml')).toMatchObject({ status: 415 });
    expect(handled).toBe(0);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    const ok = await app.inject({ method: 'POST', url: '/strict', payload: { a: 1 } });
    expect(ok.json()).toEqual({ a: 1 });
    expect(handled).toBe(1);
  });
});

describe('signedCookie()', () => {
  it('returns the value of a valid signed cookie, undefined when missing or tampered', async () => {
    const secret = Buffer.from('s'.repeat(32));
    const kernel = new HttpKernel({
      container: new Container(),
      logger: createNullLogger(),
      cookieSecrets: [secret],
    });
    kernel.router.get('/sid', (ctx: HttpContext) => ({ sid: ctx.signedCookie('sid') ?? null }));
    const good = signCookieValue('sid', 'u-1', secret);
    expect((await kernel.inject({ url: '/sid', cookies: { sid: good } })).json()).toEqual({
      sid: 'u-1',
    });
    const tampered = good.replace('u-1', 'u-2');
    expect((await kernel.inject({ url: '/sid', cookies: { sid: tampered } })).json()).toEqual({
      sid: null,
    });
    // Signed for another name: refused.
    const swapped = signCookieValue('other', 'u-1', secret);
    expect((await kernel.inject({ url: '/sid', cookies: { sid: swapped } })).json()).toEqual({
      sid: null,
    });
    expect((await kernel.inject('/sid')).json()).toEqual({ sid: null });
  });

  it('is undefined when the kernel has no secrets', async () => {
    const noKeys = await createHttpApp();
    noKeys.router.get('/sid', (ctx: HttpContext) => ({ sid: ctx.signedCookie('sid') ?? null }));
    const signed = signCookieValue('sid', 'u-1', Buffer.from('s'.repeat(32)));
    const res = await noKeys.inject({ url: '/sid', cookies: { sid: signed } });
    expect(res.json()).toEqual({ sid: null });
  });
});

describe('view()', () => {
  it('renders through the kernel view engine as HTML, passing the request id', async () => {
    const rendered: Array<[string, object | undefined, unknown]> = [];
    const engine = {
      async render(name: string, data?: object, options?: unknown) {
        rendered.push([name, data, options]);
        const values = data as { title: string; requestId: string };
        return `<h1>${values.title}</h1><p>${values.requestId}</p>`;
      },
    } as unknown as ViewEngine;
    const kernel = new HttpKernel({
      container: new Container(),
      logger: createNullLogger(),
      views: () => engine,
    });
    kernel.router.get('/page', (ctx: HttpContext) =>
      ctx.view('shop::home', { title: 'Shop' }, { layout: 'main' }),
    );
    const res = await kernel.inject({ url: '/page', headers: { 'x-request-id': 'view-1' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.payload).toBe('<h1>Shop</h1><p>view-1</p>');
    expect(rendered).toEqual([
      ['shop::home', { title: 'Shop', requestId: 'view-1' }, { layout: 'main' }],
    ]);
  });

  it('fails with E_VIEWS_NOT_CONFIGURED without a view engine', async () => {
    const debug = await createHttpApp({ debug: true });
    debug.router.get('/page', (ctx: HttpContext) => ctx.view('home'));
    const res = await debug.inject('/page');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      code: 'E_VIEWS_NOT_CONFIGURED',
      detail: 'Cannot render "home": no view engine is configured',
    });
  });
});

describe('client', () => {
  it("sends the request's id on outgoing calls, over the app's own client", async () => {
    const upstream = await createHttpApp();
    upstream.router.get('/seen', (ctx: HttpContext) => ({
      id: ctx.header('x-request-id') ?? null,
      app: ctx.header('x-app') ?? null,
    }));
    const { url } = await upstream.listen({ port: 0 });
    try {
      const plain = await createHttpApp();
      plain.router.get('/out', async (ctx: HttpContext) =>
        (await ctx.client.get(`${url}/seen`)).json(),
      );
      const res = await plain.inject({ url: '/out', headers: { 'x-request-id': 'out-1' } });
      expect(res.json()).toEqual({ id: 'out-1', app: null });

      const configured = new HttpKernel({
        container: new Container(),
        logger: createNullLogger(),
        httpClient: () => createHttpClient({ headers: { 'x-app': 'keel' } }),
      });
      configured.router.get('/out', async (ctx: HttpContext) =>
        (await ctx.client.get(`${url}/seen`)).json(),
      );
      const viaApp = await configured.inject({ url: '/out', headers: { 'x-request-id': 'out-2' } });
      expect(viaApp.json()).toEqual({ id: 'out-2', app: 'keel' });
    } finally {
      await upstream.close();
    }
  });
});
