import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Container } from '../container/index.js';
import { createNullLogger } from '../kernel/index.js';
import { defineError } from '../support/index.js';
import type { HttpContext } from './context.js';
import { type ErrorEvent, ErrorReporterRegistry } from './errors/index.js';
import { toWebRequest } from './fetch-adapter.js';
import { createHttpApp, type HttpApp } from './http-app.js';
import { HttpKernel } from './http-kernel.js';
import { collectGarbage } from './server/__fixtures__/collect-garbage.js';
import type { TerminatingMiddleware } from './types.js';

const E_ORDER_LOCKED = defineError('E_ORDER_LOCKED', (id: string) => `Order ${id} is locked`, {
  status: 423,
  help: 'Unlock the order first.',
});

function kernel(options: Partial<ConstructorParameters<typeof HttpKernel>[0]> = {}): HttpKernel {
  return new HttpKernel({ container: new Container(), logger: createNullLogger(), ...options });
}

const listening: HttpApp[] = [];
afterEach(async () => {
  await Promise.all(listening.splice(0).map((app) => app.close()));
});

describe('404 and 405', () => {
  it('answers an unknown path with 404 problem+json', async () => {
    const app = await createHttpApp();
    app.router.get('/known', () => 'x');
    const res = await app.inject('/unknown/path?token=secret');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const problem = res.json();
    expect(problem).toMatchObject({
      status: 404,
      code: 'E_ROUTE_NOT_FOUND',
      instance: '/unknown/path',
      requestId: res.headers['x-request-id'],
    });
    expect(res.payload).not.toContain('secret');
  });

  it('answers a known path with the wrong method with 405 and an Allow header', async () => {
    const app = await createHttpApp();
    app.router.get('/items', () => []);
    app.router.post('/items', () => ({}));
    const res = await app.inject({ method: 'DELETE', url: '/items' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    expect(res.json()).toMatchObject({
      status: 405,
      code: 'E_METHOD_NOT_ALLOWED',
      allow: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    });
  });

  it('answers OPTIONS itself with 204 and Allow, unless a route declares OPTIONS', async () => {
    const app = await createHttpApp();
    const handler = vi.fn(() => 'ok');
    app.router.put('/items/:id', handler);
    app.router.options('/custom', (ctx: HttpContext) => {
      ctx.setHeader('allow', 'GET');
      return 'custom options';
    });
    const res = await app.inject({ method: 'OPTIONS', url: '/items/3' });
    expect(res.statusCode).toBe(204);
    expect(res.headers.allow).toBe('PUT, OPTIONS');
    expect(res.payload).toBe('');
    expect(handler).not.toHaveBeenCalled();
    const custom = await app.inject({ method: 'OPTIONS', url: '/custom' });
    expect(custom.statusCode).toBe(200);
    expect(custom.payload).toBe('custom options');
  });
});

describe('HEAD', () => {
  it('answers HEAD on GET routes with the GET headers and no body, over a real socket', async () => {
    const app = await createHttpApp();
    listening.push(app);
    let runs = 0;
    app.router.get('/report', (ctx: HttpContext) => {
      runs++;
      ctx.setHeader('x-rows', '3');
      return { rows: [1, 2, 3] };
    });
    const { url } = await app.listen({ port: 0 });
    const get = await fetch(`${url}/report`);
    const head = await fetch(`${url}/report`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(head.headers.get('x-rows')).toBe('3');
    expect(await head.text()).toBe('');
    expect(await get.json()).toEqual({ rows: [1, 2, 3] });
    expect(runs).toBe(2);
  });
});

describe('memory', () => {
  it('lets an idle keep-alive connection drop the context of the request it carried', async () => {
    const app = await createHttpApp();
    listening.push(app);
    const contexts: Array<WeakRef<HttpContext>> = [];
    const terminated: string[] = [];
    app.router
      .post('/orders', (ctx: HttpContext) => {
        contexts.push(new WeakRef(ctx));
        return { ok: true, order: ctx.validated.body };
      })
      .middleware([
        {
          handle: (_ctx, next) => next(),
          terminate: (ctx) => void terminated.push(ctx.requestId),
        } satisfies TerminatingMiddleware,
      ])
      .validate({ body: z.object({ sku: z.string() }) });
    const { port } = await app.listen({ port: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const post = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            port,
            host: '127.0.0.1',
            path: '/orders',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ sku: 'CHAIR-01', padding: 'x'.repeat(64 * 1024) }));
      });
    try {
      expect(await Promise.all([post(), post(), post(), post()])).toEqual([200, 200, 200, 200]);
      expect(Object.values(agent.freeSockets).flat().length).toBeGreaterThan(0);
      await expect.poll(() => terminated.length).toBe(4);
      await expect
        .poll(() => {
          collectGarbage();
          return contexts.filter((ref) => ref.deref() !== undefined).length;
        })
        .toBe(0);
    } finally {
      agent.destroy();
    }
  });
});

describe('errors', () => {
  it('cuts the connection when an error happens after the head was sent', async () => {
    const app = await createHttpApp();
    listening.push(app);
    app.router.get('/half', async (ctx: HttpContext) => {
      ctx.res.writeHead(200, { 'content-type': 'text/plain' });
      ctx.res.write('partial ');
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('failed mid-stream');
    });
    const { port } = await app.listen({ port: 0 });
    const outcome = await new Promise<{ status?: number; body: string; error?: string }>(
      (resolve) => {
        let body = '';
        const req = httpRequest({ port, host: '127.0.0.1', path: '/half' }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('error', (error) =>
            resolve({ status: res.statusCode, body, error: error.message }),
          );
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('error', (error) => resolve({ body, error: error.message }));
        req.end();
      },
    );
    expect(outcome.status).toBe(200);
    expect(outcome.body).toBe('partial ');
    // The client must see a truncated response, never a clean end.
    expect(outcome.error).toBe('aborted');
  });

  it('hides details of server errors outside debug', async () => {
    const app = await createHttpApp();
    app.router.get('/boom', () => {
      throw new Error('password=hunter2 in SQL');
    });
    app.router.get('/locked', () => {
      throw new E_ORDER_LOCKED('A-1');
    });
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(500);
    const problem = res.json();
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'Internal Server Error',
      instance: '/boom',
      code: 'E_INTERNAL_SERVER_ERROR',
      requestId: res.headers['x-request-id'],
    });
    expect(res.payload).not.toContain('hunter2');
    // A 4xx KeelError says what went wrong, but no help or stack.
    const locked = await app.inject('/locked');
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toMatchObject({ code: 'E_ORDER_LOCKED', detail: 'Order A-1 is locked' });
    expect(locked.json().stack).toBeUndefined();
    expect(locked.json().help).toBeUndefined();
  });

  it('shows message, help and stack in debug', async () => {
    const app = await createHttpApp({ debug: true });
    app.router.get('/boom', () => {
      throw new Error('password=hunter2 in SQL', { cause: new Error('socket closed') });
    });
    app.router.get('/locked', () => {
      throw new E_ORDER_LOCKED('A-1');
    });
    const problem = (await app.inject('/boom')).json();
    expect(problem.status).toBe(500);
    expect(problem.detail).toBe('password=hunter2 in SQL');
    expect(problem.stack).toEqual(expect.arrayContaining([expect.stringContaining('at ')]));
    expect(problem.cause).toEqual([expect.objectContaining({ message: 'socket closed' })]);
    const locked = (await app.inject('/locked')).json();
    expect(locked.help).toBe('Unlock the order first.');
  });

  it('reports errors with the request and the answered status', async () => {
    const events: ErrorEvent[] = [];
    const reporters = new ErrorReporterRegistry({ logger: createNullLogger() });
    reporters.add((event) => {
      events.push(event);
    });
    const k = kernel({ reporters });
    k.router.get('/users/:id', () => {
      throw new Error('db down');
    });
    const res = await k.inject({ url: '/users/9', headers: { 'x-request-id': 'rep-1' } });
    expect(res.statusCode).toBe(500);
    expect(events).toEqual([
      expect.objectContaining({
        status: 500,
        requestId: 'rep-1',
        method: 'GET',
        path: '/users/9',
        route: '/users/:id',
      }),
    ]);
    expect((events[0]!.error as Error).message).toBe('db down');
    // 404s stay under the default reporting threshold.
    await k.inject('/nowhere');
    expect(events).toHaveLength(1);
  });
});

describe('terminating middleware and abandoned responses', () => {
  /** A terminating middleware recording each terminate() and whether the response finished. */
  function recorder() {
    const seen: Array<{ path: string; finished: boolean }> = [];
    const middleware: TerminatingMiddleware = {
      handle: (_ctx, next) => next(),
      terminate(ctx) {
        seen.push({ path: ctx.path, finished: ctx.res.writableFinished });
      },
    };
    return { seen, middleware };
  }

  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  }

  /** A raw client socket that has sent a GET for `path`. */
  async function rawGet(port: number, path: string) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    return socket;
  }

  it('terminates once when the client goes away mid-response', async () => {
    const app = await createHttpApp();
    listening.push(app);
    const { seen, middleware } = recorder();
    const release = deferred();
    const handled = deferred();
    app.router
      .get('/stream', async (ctx: HttpContext) => {
        ctx.res.writeHead(200, { 'content-type': 'text/plain' });
        ctx.res.write('first ');
        await release.promise;
        ctx.res.end('last');
        handled.resolve();
      })
      .middleware(middleware);
    const { port } = await app.listen({ port: 0 });
    const socket = await rawGet(port, '/stream');
    const [head] = (await once(socket, 'data')) as [Buffer];
    expect(head.toString()).toContain('first ');
    socket.destroy();
    await vi.waitFor(() => expect(seen).toEqual([{ path: '/stream', finished: false }]));
    // The handler carries on and ends a response nobody reads: no second terminate().
    release.resolve();
    await handled.promise;
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
  });

  it('terminates once when the client goes away before any byte of the response', async () => {
    const app = await createHttpApp();
    listening.push(app);
    const { seen, middleware } = recorder();
    const started = deferred();
    const release = deferred();
    app.router
      .get('/slow', async () => {
        started.resolve();
        await release.promise;
        return 'too late';
      })
      .middleware(middleware);
    const { port } = await app.listen({ port: 0 });
    const socket = await rawGet(port, '/slow');
    await started.promise;
    socket.destroy();
    await vi.waitFor(() => expect(seen).toEqual([{ path: '/slow', finished: false }]));
    // The handler answers into the void: its send and the kernel's end run before this.
    release.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
  });

  it("terminates once per finished response on a kept-alive socket ('finish' then 'close')", async () => {
    const app = await createHttpApp();
    listening.push(app);
    const { seen, middleware } = recorder();
    const closed: Array<Promise<unknown>> = [];
    app.router
      .get('/ok/:n', (ctx: HttpContext) => {
        // Registered after the kernel's listener: once this runs, the kernel's 'close' ran too.
        closed.push(once(ctx.res, 'close'));
        return `ok ${ctx.params.n}`;
      })
      .middleware(middleware);
    const { url } = await app.listen({ port: 0 });
    for (const n of [1, 2, 3]) expect(await (await fetch(`${url}/ok/${n}`)).text()).toBe(`ok ${n}`);
    await Promise.all(closed);
    expect(seen).toEqual([
      { path: '/ok/1', finished: true },
      { path: '/ok/2', finished: true },
      { path: '/ok/3', finished: true },
    ]);
  });

  it('terminates a response cut after an error past the head', async () => {
    const app = await createHttpApp();
    listening.push(app);
    const { seen, middleware } = recorder();
    app.router
      .get('/half', async (ctx: HttpContext) => {
        ctx.res.writeHead(200, { 'content-type': 'text/plain' });
        ctx.res.write('partial ');
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('failed mid-stream');
      })
      .middleware(middleware);
    const { port } = await app.listen({ port: 0 });
    const socket = await rawGet(port, '/half');
    socket.resume();
    await once(socket, 'close');
    await vi.waitFor(() => expect(seen).toEqual([{ path: '/half', finished: false }]));
  });
});

describe('kernel routes', () => {
  it('serves routes of module routers added with addRoutes()', async () => {
    const k = kernel();
    const catalog = k.createRouter('catalog');
    catalog.get('/products', () => ['p1']).name('products.index');
    k.addRoutes(catalog);
    k.router.get('/health', () => ({ ok: true }));
    const list = k.routes.list();
    expect(list.map((r) => [r.path, r.module])).toEqual([
      ['/health', 'app'],
      ['/products', 'catalog'],
    ]);
    expect((await k.inject('/products')).json()).toEqual(['p1']);
  });

  it('builds controller instances through the controller factory', async () => {
    class Greeter {
      constructor(readonly greeting: string) {}
      hello(ctx: HttpContext) {
        return { message: `${this.greeting}, ${ctx.params.name}` };
      }
    }
    const factory = vi.fn(() => new Greeter('Bonjour'));
    const k = kernel({ controllerFactory: factory as never });
    k.router.get('/hello/:name', [Greeter, 'hello']);
    expect((await k.inject('/hello/Ada')).json()).toEqual({ message: 'Bonjour, Ada' });
    expect((await k.inject('/hello/Bob')).json()).toEqual({ message: 'Bonjour, Bob' });
    expect(factory).toHaveBeenCalledTimes(1);
  });
});

describe('fetch(Request)', () => {
  async function fetchApp(): Promise<HttpApp> {
    const app = await createHttpApp();
    app.router.get('/items', (ctx: HttpContext) => {
      ctx.cookie('a', '1').cookie('b', '2');
      ctx.setHeader('x-host', ctx.header('host') ?? '');
      return { q: ctx.query.q ?? null, accept: ctx.header('accept') };
    });
    app.router.post('/echo', async (ctx: HttpContext) => {
      ctx.status(201);
      return { got: await ctx.body() };
    });
    app.router.delete('/items/:id', () => undefined);
    return app;
  }

  it('returns a web Response with status, headers (every Set-Cookie) and body', async () => {
    const app = await fetchApp();
    const res = await app.fetch(
      new Request('http://shop.test:8080/items?q=tea', { headers: { accept: 'application/json' } }),
    );
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-host')).toBe('shop.test:8080');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.getSetCookie()).toEqual([
      'a=1; Path=/; HttpOnly; SameSite=Lax',
      'b=2; Path=/; HttpOnly; SameSite=Lax',
    ]);
    expect(await res.json()).toEqual({ q: 'tea', accept: 'application/json' });
  });

  it('passes a request body through and answers HEAD and 204 without a body', async () => {
    const app = await fetchApp();
    const posted = await app.fetch(
      new Request('http://localhost/echo', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n: 1 }),
      }),
    );
    expect(posted.status).toBe(201);
    expect(await posted.json()).toEqual({ got: { n: 1 } });
    const head = await app.fetch(new Request('http://localhost/items', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(head.body).toBeNull();
    const deleted = await app.fetch(new Request('http://localhost/items/1', { method: 'DELETE' }));
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
    const missing = await app.fetch(new Request('http://localhost/none'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await missing.json()) as { code: string }).code).toBe('E_ROUTE_NOT_FOUND');
  });
});

describe('mounted fetch handlers', () => {
  const legacy = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const headers = new Headers({ 'content-type': 'application/json' });
    headers.append('set-cookie', 'l1=a');
    headers.append('set-cookie', 'l2=b');
    return new Response(
      JSON.stringify({
        method: request.method,
        path: url.pathname,
        search: url.search,
        host: url.host,
        tag: request.headers.get('x-tag'),
        body: request.method === 'GET' || request.method === 'HEAD' ? null : await request.text(),
      }),
      { status: request.method === 'POST' ? 201 : 200, headers },
    );
  };

  it('strips the prefix and serves every method, passing bodies through', async () => {
    const app = await createHttpApp();
    app.router.mount('/legacy', legacy);
    app.router.get('/native', () => 'native');
    const get = await app.inject({
      url: '/legacy/orders/7?full=1',
      headers: { host: 'erp.test', 'x-tag': 't1' },
    });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({
      method: 'GET',
      path: '/orders/7',
      search: '?full=1',
      host: 'erp.test',
      tag: 't1',
      body: null,
    });
    expect(get.headers['set-cookie']).toEqual(['l1=a', 'l2=b']);
    const root = await app.inject('/legacy');
    expect(root.json().path).toBe('/');
    const post = await app.inject({
      method: 'POST',
      url: '/legacy/orders',
      payload: 'name=tea&qty=2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(post.statusCode).toBe(201);
    expect(post.json()).toMatchObject({ method: 'POST', path: '/orders', body: 'name=tea&qty=2' });
    expect((await app.inject('/native')).payload).toBe('native');
  });

  it('strips a group prefix too, and serves through fetch() and a real socket', async () => {
    const app = await createHttpApp();
    listening.push(app);
    app.router.group({ prefix: '/v1' }, (r) => r.mount('/old', legacy));
    const viaFetch = await app.fetch(
      new Request('http://localhost/v1/old/a', { method: 'PUT', body: 'payload' }),
    );
    expect(await viaFetch.json()).toMatchObject({ method: 'PUT', path: '/a', body: 'payload' });
    const { url } = await app.listen({ port: 0 });
    const big = 'x'.repeat(200_000);
    const res = await fetch(`${url}/v1/old/upload`, { method: 'POST', body: big });
    expect(res.status).toBe(201);
    const out = (await res.json()) as { path: string; body: string };
    expect(out.path).toBe('/upload');
    expect(out.body.length).toBe(200_000);
  });
});

describe('toWebRequest', () => {
  it('keeps repeated headers, drops the prefix and falls back to localhost without a Host', () => {
    const ctx = {
      method: 'GET',
      path: '/api/r',
      search: 'x=1',
      headers: { 'x-multi': ['a', 'b'], 'x-one': '1', 'x-none': undefined },
      header: () => undefined,
    } as unknown as HttpContext;
    const request = toWebRequest(ctx, '/api');
    expect(request.url).toBe('http://localhost/r?x=1');
    expect(request.headers.get('x-multi')).toBe('a, b');
    expect(request.headers.get('x-one')).toBe('1');
    expect(request.headers.has('x-none')).toBe(false);
    expect(request.body).toBeNull();
    expect(toWebRequest(ctx, '/other').url).toBe('http://localhost/api/r?x=1');
  });
});

describe('global body options', () => {
  it('apply to every route, with a route’s own limits winning', async () => {
    const kernel = new HttpKernel({
      container: new Container(),
      logger: createNullLogger(),
      body: { limits: { json: 16 } },
    });
    kernel.router.post('/small', async (ctx) => ({ got: await ctx.body() }));
    kernel.router
      .post('/large', async (ctx) => ({ got: await ctx.body() }))
      .body({ limits: { json: 1024 } });
    const payload = { text: 'more than sixteen bytes' };
    const small = await kernel.inject({ method: 'POST', url: '/small', payload });
    expect(small.statusCode).toBe(413);
    expect(small.json().code).toBe('E_BODY_TOO_LARGE');
    const large = await kernel.inject({ method: 'POST', url: '/large', payload });
    expect(large.statusCode).toBe(200);
    expect(large.json()).toEqual({ got: payload });
  });
});

describe('beforeRouting hooks', () => {
  it('run before lookup in order, may answer unknown paths, and turn a throw into a problem', async () => {
    const k = kernel();
    let ran = 0;
    k.router.get('/known', () => {
      ran++;
      return 'handler';
    });
    const seen: string[] = [];
    k.beforeRouting((ctx) => {
      seen.push(`a ${ctx.path}`);
      if (ctx.path === '/teapot') {
        ctx.text('short and stout', 418);
        return true;
      }
      return false;
    });
    k.beforeRouting((ctx) => {
      seen.push(`b ${ctx.path}`);
      if (ctx.path === '/locked') throw new E_ORDER_LOCKED('7');
      if (ctx.path === '/known') ctx.setHeader('x-early', '1');
      // Answering without a body: the kernel closes it with 204.
      return ctx.path === '/silent';
    });
    const teapot = await k.inject('/teapot');
    expect([teapot.statusCode, teapot.payload]).toEqual([418, 'short and stout']);
    const locked = await k.inject('/locked');
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toMatchObject({ code: 'E_ORDER_LOCKED' });
    expect((await k.inject('/silent')).statusCode).toBe(204);
    const known = await k.inject('/known');
    expect([known.statusCode, known.payload, known.headers['x-early']]).toEqual([
      200,
      'handler',
      '1',
    ]);
    expect(ran).toBe(1);
    expect(seen).toEqual([
      'a /teapot',
      'a /locked',
      'b /locked',
      'a /silent',
      'b /silent',
      'a /known',
      'b /known',
    ]);
  });
});

describe('ctx.protocol, ctx.secure and ctx.host', () => {
  it('come from the socket and Host without a resolver, from the resolver with one', async () => {
    const plain = kernel();
    plain.router.get('/', (ctx) => ({
      protocol: ctx.protocol,
      secure: ctx.secure,
      host: ctx.host,
    }));
    const res = await plain.inject({
      url: '/',
      headers: { host: 'a.example', 'x-forwarded-proto': 'https' },
    });
    expect(res.json()).toEqual({ protocol: 'http', secure: false, host: 'a.example' });
    const proxied = kernel({ protocol: () => 'https', host: () => 'b.example' });
    proxied.router.get('/', (ctx) => ({
      protocol: ctx.protocol,
      secure: ctx.secure,
      host: ctx.host,
    }));
    expect((await proxied.inject('/')).json()).toEqual({
      protocol: 'https',
      secure: true,
      host: 'b.example',
    });
  });
});
