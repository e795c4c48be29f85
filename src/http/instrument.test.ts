import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Container } from '../container/index.js';
import { createNullLogger, executionContext } from '../kernel/index.js';
import type { HttpContext } from './context.js';
import { createHttpApp, type HttpApp } from './http-app.js';
import { HttpKernel } from './http-kernel.js';
import type { RequestOutcome } from './instrument.js';

interface Seen {
  path: string;
  route: string | undefined;
  state: unknown;
  outcome: RequestOutcome;
}

function recorder(): { seen: Seen[]; instrument: Parameters<HttpKernel['instrument']>[0] } {
  const seen: Seen[] = [];
  return {
    seen,
    instrument: {
      name: 'recorder',
      begin: (ctx: HttpContext) => `began ${ctx.path} in ${executionContext.current()?.request_id}`,
      end: (ctx: HttpContext, state: unknown, outcome: RequestOutcome) => {
        seen.push({ path: ctx.path, route: ctx.route?.record.path, state, outcome });
      },
    } as never,
  };
}

function kernel(): HttpKernel {
  return new HttpKernel({ container: new Container(), logger: createNullLogger() });
}

const listening: HttpApp[] = [];
afterEach(async () => {
  await Promise.all(listening.splice(0).map((app) => app.close()));
});

describe('request instruments', () => {
  it('hand begin the request scope, the one executionContext.current() returns there', async () => {
    const k = kernel();
    const handed: unknown[] = [];
    k.instrument({
      name: 'scope-reader',
      begin: (_ctx, scope) => {
        handed.push(scope, executionContext.current());
        return undefined;
      },
      end() {},
    });
    k.router.get('/x', () => ({ ok: true }));
    await k.inject({ url: '/x', headers: { 'x-request-id': 'req-scope' } });
    expect(handed[0]).toMatchObject({ request_id: 'req-scope' });
    expect(handed[0]).toBe(handed[1]);

    // No instrument asks for a scope: none is opened, and begin is told so.
    const unscoped = kernel();
    const told: unknown[] = [];
    unscoped.instrument({
      name: 'counter',
      scope: false,
      begin: (_ctx, scope) => {
        told.push(scope, executionContext.current());
        return undefined;
      },
      end() {},
    });
    unscoped.router.get('/x', () => ({ ok: true }));
    await unscoped.inject('/x');
    expect(told).toEqual([undefined, undefined]);
  });

  it('see matched, failed and unmatched requests once each, with status, bytes and error', async () => {
    const k = kernel();
    const { seen, instrument } = recorder();
    k.instrument(instrument);
    k.router.get('/users/:id', (ctx) => ({ id: ctx.params.id }));
    k.router.get('/boom', () => {
      throw new Error('boom');
    });
    const ok = await k.inject({ url: '/users/7', headers: { 'x-request-id': 'req-7' } });
    await k.inject('/boom');
    await k.inject('/missing');
    await sleep(5);
    expect(ok.statusCode).toBe(200);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({
      path: '/users/7',
      route: '/users/:id',
      state: 'began /users/7 in req-7',
      outcome: { status: 200, bytes: Buffer.byteLength(ok.payload), aborted: false },
    });
    expect(seen[0]!.outcome.error).toBeUndefined();
    expect(seen[0]!.outcome.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen[1]!.outcome.status).toBe(500);
    expect((seen[1]!.outcome.error as Error).message).toBe('boom');
    expect(seen[2]).toMatchObject({ route: undefined, outcome: { status: 404 } });
    expect(seen[2]!.outcome.bytes).toBeGreaterThan(0);
  });

  it('run the handler in the request scope, through awaits', async () => {
    const k = kernel();
    k.instrument(recorder().instrument);
    k.router.get('/scope', async () => {
      await sleep(1);
      executionContext.setUser(42);
      return { ...executionContext.current() };
    });
    const res = await k.inject({ url: '/scope', headers: { 'x-request-id': 'abc' } });
    expect(res.json()).toEqual({ request_id: 'abc', user_id: 42 });
    expect(executionContext.current()).toBeUndefined();
  });

  it('keep the scope through a body read and its validation, on a real socket', async () => {
    const app = await createHttpApp();
    listening.push(app);
    app.kernel.instrument(recorder().instrument);
    const scoped = () => executionContext.current()?.request_id ?? null;
    app.router.post('/read', async (ctx) => {
      const before = scoped();
      const body = await ctx.body();
      return { before, after: scoped(), body };
    });
    app.router
      .post('/validated', (ctx) => ({ id: scoped(), body: ctx.validated.body }))
      .validate({ body: z.object({ a: z.number() }) });
    const { port } = await app.listen({ port: 0 });
    const post = async (path: string, id: string) =>
      (
        await fetch(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          body: '{"a":1}',
        })
      ).json();
    expect(await post('/read', 'r1')).toEqual({ before: 'r1', after: 'r1', body: { a: 1 } });
    // The validated route's body arrives from the request stream's 'end' event.
    expect(await post('/validated', 'r2')).toEqual({ id: 'r2', body: { a: 1 } });
  });

  it('open no scope when every instrument says scope: false', async () => {
    const k = kernel();
    const ended: number[] = [];
    k.instrument({ name: 'count', scope: false, end: (_ctx, _s, o) => ended.push(o.status) });
    k.router.get('/scope', () => ({ scoped: executionContext.current() !== undefined }));
    expect((await k.inject('/scope')).json()).toEqual({ scoped: false });
    k.instrument(recorder().instrument);
    expect((await k.inject('/scope')).json()).toEqual({ scoped: true });
    await sleep(5);
    expect(ended).toEqual([200, 200]);
  });

  it('a throwing instrument is logged and the request still answers', async () => {
    const errors: unknown[] = [];
    const logger = createNullLogger();
    logger.error = ((obj: unknown) => errors.push(obj)) as never;
    const k = new HttpKernel({ container: new Container(), logger });
    k.instrument({
      name: 'broken',
      begin: () => {
        throw new Error('begin failed');
      },
      end: () => {
        throw new Error('end failed');
      },
    });
    k.router.get('/', () => 'fine');
    const res = await k.inject('/');
    await sleep(5);
    expect(res.payload).toBe('fine');
    expect(errors).toHaveLength(2);
  });

  it('report a client that went away mid-response as aborted', async () => {
    const app = await createHttpApp();
    listening.push(app);
    const { seen, instrument } = recorder();
    app.kernel.instrument(instrument);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    app.router.get('/slow', async () => {
      await held;
      return 'late';
    });
    const { port } = await app.listen({ port: 0 });
    await new Promise<void>((resolve) => {
      const req = httpRequest({ port, path: '/slow' });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(10);
    release();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.outcome.aborted).toBe(true);
  });
});
