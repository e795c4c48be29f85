import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../kernel/index.js';
import type { HttpContext } from './context.js';
import { abort } from './errors/index.js';
import { createHttpApp } from './http-app.js';
import { composeChain, MiddlewareRegistry } from './pipeline.js';
import type { MiddlewareFn, RouteRecord, TerminatingMiddleware } from './types.js';

function tracer(log: string[], name: string): MiddlewareFn {
  const fn: MiddlewareFn = async (_ctx, next) => {
    log.push(`${name}>`);
    await next();
    log.push(`<${name}`);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

function record(overrides: Partial<RouteRecord> = {}): RouteRecord {
  return {
    methods: ['GET'],
    path: '/r',
    handler: () => 'ok',
    middleware: [],
    groups: [],
    meta: {},
    ...overrides,
  };
}

describe('onion order and priorities', () => {
  it('runs global, then group, then route middleware around the handler', async () => {
    const app = await createHttpApp();
    const log: string[] = [];
    app.middleware.use(tracer(log, 'global'));
    app.middleware.group('api', [tracer(log, 'group1'), tracer(log, 'group2')]);
    app.router
      .get('/onion', () => {
        log.push('handler');
        return { ok: true };
      })
      .groups('api')
      .middleware(tracer(log, 'route'));
    const res = await app.inject('/onion');
    expect(res.json()).toEqual({ ok: true });
    expect(log).toEqual([
      'global>',
      'group1>',
      'group2>',
      'route>',
      'handler',
      '<route',
      '<group2',
      '<group1',
      '<global',
    ]);
  });

  it('sorts by priority (higher is outer), keeping declaration order for ties', async () => {
    const registry = new MiddlewareRegistry();
    const log: string[] = [];
    registry.use(tracer(log, 'g-low'));
    registry.use(tracer(log, 'g-high'), { priority: 50 });
    registry.group('web', [tracer(log, 'web-top')], { priority: 100 });
    registry.group('web', [tracer(log, 'web-plain')]);
    registry.register('auth', () => tracer(log, 'auth-fn'), { priority: 75 });
    const compiled = registry.compile(
      record({ groups: ['web'], middleware: [tracer(log, 'route'), 'auth'] }),
    );
    expect(compiled.middlewareNames).toEqual([
      'web-top',
      'auth',
      'g-high',
      'g-low',
      'web-plain',
      'route',
    ]);
    expect(compiled.terminators).toEqual([]);
  });

  it('lets code after next() see the finished response', async () => {
    const app = await createHttpApp();
    let sentAfter: boolean | undefined;
    app.middleware.use(async (ctx, next) => {
      await next();
      sentAfter = ctx.sent;
    });
    app.router.get('/x', () => 'done');
    expect((await app.inject('/x')).payload).toBe('done');
    expect(sentAfter).toBe(true);
  });

  it('lets a middleware answer without calling next()', async () => {
    const app = await createHttpApp();
    const handler = vi.fn(() => 'never');
    app.middleware.use((ctx) => ctx.json({ blocked: true }, 403));
    app.router.get('/x', handler);
    const res = await app.inject('/x');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ blocked: true });
    expect(handler).not.toHaveBeenCalled();
  });

  it('answers 204 when a middleware neither sends nor calls next()', async () => {
    const app = await createHttpApp();
    app.middleware.use(() => undefined);
    app.router.get('/x', () => 'never');
    const res = await app.inject('/x');
    expect(res.statusCode).toBe(204);
  });

  it('shares ctx.state from middleware to handler', async () => {
    const app = await createHttpApp();
    app.middleware.use(async (ctx, next) => {
      ctx.state.user = { id: 1 };
      await next();
    });
    app.router.get('/me', (ctx: HttpContext) => ctx.state.user);
    expect((await app.inject('/me')).json()).toEqual({ id: 1 });
  });
});

describe('named middleware', () => {
  it('passes alias arguments to the factory, trimmed', async () => {
    const app = await createHttpApp();
    const factory = vi.fn((args: string[]): MiddlewareFn => {
      return async (ctx, next) => {
        ctx.setHeader('x-limit', args.join('/'));
        await next();
      };
    });
    app.middleware.register('throttle', factory);
    app.router.get('/a', () => 'a').middleware('throttle:60,60');
    app.router.get('/b', () => 'b').middleware('throttle: 10 , 1m');
    app.router.get('/c', () => 'c').middleware('throttle');
    expect(app.middleware.has('throttle')).toBe(true);
    expect(app.middleware.has('auth')).toBe(false);
    expect((await app.inject('/a')).headers['x-limit']).toBe('60/60');
    expect((await app.inject('/b')).headers['x-limit']).toBe('10/1m');
    expect((await app.inject('/c')).headers['x-limit']).toBe('');
    // Built once per route at boot, not per request.
    await app.inject('/a');
    expect(factory).toHaveBeenCalledTimes(3);
    expect(factory.mock.calls.map((call) => call[0])).toEqual([['60', '60'], ['10', '1m'], []]);
  });

  it('fails the build for an unknown alias, naming the route and a suggestion', async () => {
    const app = await createHttpApp();
    app.middleware.register('throttle', () => async (_ctx, next) => next());
    app.router.get('/limited', () => 'x').middleware('throtle:5,1');
    expect(() => app.kernel.build()).toThrow(
      expect.objectContaining({
        code: 'E_MIDDLEWARE_NOT_FOUND',
        message: expect.stringContaining(
          'Route GET /limited uses middleware "throtle", which is not registered (did you mean "throttle"?)',
        ),
      }),
    );
  });

  it('fails the build when a route names an undefined group', async () => {
    const app = await createHttpApp();
    app.router.get('/x', () => 'x').groups('admin');
    expect(() => app.kernel.build()).toThrow(
      expect.objectContaining({
        code: 'E_MIDDLEWARE_GROUP_NOT_FOUND',
        message: 'Route GET /x belongs to middleware group "admin", which is not defined',
      }),
    );
  });

  it('refuses a factory that is not a function, or one that builds nothing usable', () => {
    const registry = new MiddlewareRegistry();
    expect(() => registry.register('bad', 'nope' as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_MIDDLEWARE' }),
    );
    registry.register('empty', () => 42 as never);
    expect(() => registry.compile(record({ middleware: ['empty'] }))).toThrow(
      /Invalid middleware: "empty" factory returned number/,
    );
    expect(() => registry.compile(record({ middleware: [42 as never] }))).toThrow(
      expect.objectContaining({ code: 'E_INVALID_MIDDLEWARE' }),
    );
  });
});

describe('next() misuse and middleware errors', () => {
  it('rejects a second next() with E_NEXT_CALLED_TWICE', async () => {
    let inner = 0;
    const chain = composeChain(
      [
        async (_ctx, next) => {
          await next();
          await next();
        },
      ],
      () => {
        inner++;
      },
      'GET /label',
    );
    await expect(chain({} as HttpContext)).rejects.toMatchObject({
      code: 'E_NEXT_CALLED_TWICE',
      message: 'A middleware of GET /label called next() more than once',
    });
    expect(inner).toBe(1);
    const bare = () => undefined;
    expect(composeChain([], bare)).toBe(bare);
  });

  it('renders E_NEXT_CALLED_TWICE when the response was not sent yet', async () => {
    const app = await createHttpApp({ debug: true });
    app.middleware.use(async (_ctx, next) => {
      const first = next();
      await next();
      await first;
    });
    app.router.get('/x', async () => {
      await new Promise((r) => setTimeout(r, 5));
      return 'late';
    });
    const res = await app.inject('/x');
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toMatchObject({ status: 500, code: 'E_NEXT_CALLED_TWICE' });
  });

  it('turns errors thrown in middleware into problem+json, before and after next()', async () => {
    const app = await createHttpApp();
    const handler = vi.fn(() => 'never');
    app.router
      .get('/forbidden', handler)
      .middleware(() => abort(403, 'Not your order', { code: 'E_ORDER_FORBIDDEN' }));
    app.router.get('/crash', handler).middleware(() => {
      throw new TypeError('x is undefined');
    });
    const forbidden = await app.inject('/forbidden');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({
      status: 403,
      code: 'E_ORDER_FORBIDDEN',
      detail: 'Not your order',
    });
    const crash = await app.inject('/crash');
    expect(crash.statusCode).toBe(500);
    expect(crash.json()).toMatchObject({ status: 500, detail: 'Internal Server Error' });
    expect(crash.payload).not.toContain('x is undefined');
    expect(handler).not.toHaveBeenCalled();
  });

  it('lets next().catch() handle errors of synchronous and asynchronous handlers alike', async () => {
    const app = await createHttpApp();
    app.middleware.use((ctx, next) =>
      next().catch((error: Error) => ctx.json({ caught: error.message }, 418)),
    );
    app.router.get('/sync', () => {
      throw new Error('sync');
    });
    app.router.get('/async', async () => {
      throw new Error('async');
    });
    for (const kind of ['sync', 'async']) {
      const res = await app.inject(`/${kind}`);
      expect(res.statusCode).toBe(418);
      expect(res.json()).toEqual({ caught: kind });
    }
  });

  it('awaits a web Response returned by a validated route before finishing', async () => {
    const app = await createHttpApp();
    app.router
      .post('/export', () => new Response('a,b\n', { status: 201, headers: { 'x-kind': 'csv' } }))
      .validate({ body: z.object({ format: z.literal('csv') }) });
    const res = await app.inject({ method: 'POST', url: '/export', payload: { format: 'csv' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-kind']).toBe('csv');
    expect(res.payload).toBe('a,b\n');
  });

  it('turns synchronous throws from a handler without middleware into problem+json', async () => {
    const app = await createHttpApp();
    app.router.get('/sync', () => abort(409, 'Already exists'));
    const res = await app.inject('/sync');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ status: 409, detail: 'Already exists' });
  });
});

describe('terminating middleware', () => {
  it('runs terminate() after the response has finished', async () => {
    const app = await createHttpApp();
    const events: string[] = [];
    let finished: boolean | undefined;
    const timing: TerminatingMiddleware = {
      async handle(_ctx, next) {
        events.push('handle');
        await next();
      },
      terminate(ctx) {
        finished = ctx.res.writableEnded && ctx.sent;
        events.push(`terminate:${ctx.res.statusCode}`);
      },
    };
    app.middleware.register('timing', () => timing);
    app.router
      .get('/t', () => {
        events.push('handler');
        return 'ok';
      })
      .middleware('timing');
    app.router.get('/direct', () => 'ok').middleware(timing);
    const res = await app.inject('/t');
    expect(res.payload).toBe('ok');
    await vi.waitFor(() => expect(events).toEqual(['handle', 'handler', 'terminate:200']));
    expect(finished).toBe(true);
    const compiled = app.kernel.routes.lookup('GET', '/t', {});
    expect(compiled.kind === 'found' && compiled.payload.terminators).toEqual([timing]);
    await app.inject('/direct');
    await vi.waitFor(() => expect(events).toHaveLength(5));
  });

  it('logs (and survives) a terminate() that throws or rejects', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'pipeline-test',
      level: 'error',
      destination: { write: (line: string) => lines.push(line) },
    });
    const app = await createHttpApp({ logger });
    app.router
      .get('/t', () => 'ok')
      .middleware([
        { handle: (_c, next) => next(), terminate: () => Promise.reject(new Error('async boom')) },
        {
          handle: (_c, next) => next(),
          terminate: () => {
            throw new Error('sync boom');
          },
        },
      ]);
    expect((await app.inject('/t')).statusCode).toBe(200);
    await vi.waitFor(() => expect(lines).toHaveLength(2));
    const messages = lines.map((line) => JSON.parse(line));
    expect(messages.map((m) => m.msg)).toEqual([
      'terminating middleware failed',
      'terminating middleware failed',
    ]);
    expect(messages.map((m) => m.err.message).sort()).toEqual(['async boom', 'sync boom']);
    expect((await app.inject('/t')).statusCode).toBe(200);
  });
});

describe('validation', () => {
  const Order = z.object({
    customer: z.string().min(1),
    items: z
      .array(z.object({ sku: z.string().regex(/^[A-Z]{3}$/), qty: z.number().int().positive() }))
      .min(1),
  });

  it('answers 422 listing every field error of every part, with dotted paths', async () => {
    const app = await createHttpApp();
    const handler = vi.fn(() => 'never');
    app.router.post('/orders/:id', handler).validate({
      params: z.object({ id: z.coerce.number().int() }),
      query: z.object({ dry: z.enum(['yes', 'no']).optional() }),
      body: Order,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/orders/abc?dry=maybe',
      payload: {
        customer: '',
        items: [
          { sku: 'ABC', qty: 1 },
          { sku: 'x', qty: 0 },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const problem = res.json();
    expect(problem).toMatchObject({ status: 422, code: 'E_VALIDATION_FAILED' });
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    expect(problem.errors.map((e: { path: string }) => e.path)).toEqual([
      'params.id',
      'query.dry',
      'body.customer',
      'body.items.1.sku',
      'body.items.1.qty',
    ]);
    for (const error of problem.errors) expect(error.message).toEqual(expect.any(String));
    expect(handler).not.toHaveBeenCalled();
  });

  it('passes validated, transformed input to the handler', async () => {
    const app = await createHttpApp();
    app.router
      .post('/orders/:id', (ctx: HttpContext) => ({ validated: ctx.validated }))
      .validate({ params: z.object({ id: z.coerce.number() }), body: Order });
    const res = await app.inject({
      method: 'POST',
      url: '/orders/5',
      payload: { customer: 'ACME', items: [{ sku: 'ABC', qty: 2 }], extra: 'dropped' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().validated).toMatchObject({
      params: { id: 5 },
      body: { customer: 'ACME', items: [{ sku: 'ABC', qty: 2 }] },
    });
    expect(res.json().validated.body.extra).toBeUndefined();
  });

  it('runs asynchronous schemas and reports their errors the same way', async () => {
    const taken = new Set(['ABC']);
    const Unique = z.object({
      sku: z.string().refine(
        async (sku) => {
          await new Promise((r) => setTimeout(r, 1));
          return !taken.has(sku);
        },
        { message: 'SKU already exists' },
      ),
    });
    const app = await createHttpApp();
    app.router
      .post('/products', (ctx: HttpContext) => ctx.validated.body)
      .validate({ body: Unique });
    const bad = await app.inject({ method: 'POST', url: '/products', payload: { sku: 'ABC' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([
      expect.objectContaining({ path: 'body.sku', message: 'SKU already exists' }),
    ]);
    const good = await app.inject({ method: 'POST', url: '/products', payload: { sku: 'XYZ' } });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ sku: 'XYZ' });
  });

  it('validates headers and a body-less route without reading the body', async () => {
    const app = await createHttpApp();
    app.router
      .get('/h', (ctx: HttpContext) => ({
        tenant: (ctx.validated.headers as { 'x-tenant': string })['x-tenant'],
      }))
      .validate({ headers: z.object({ 'x-tenant': z.string().min(2) }) });
    const ok = await app.inject({ url: '/h', headers: { 'x-tenant': 'acme' } });
    expect(ok.json()).toEqual({ tenant: 'acme' });
    const bad = await app.inject('/h');
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('headers.x-tenant');
  });

  it('treats an empty schemas object as no validation', () => {
    const registry = new MiddlewareRegistry();
    const compiled = registry.compile(record({ schemas: {} }));
    expect(compiled.middlewareNames).toEqual([]);
  });
});
