import { afterEach, describe, expect, it } from 'vitest';
import { createFixtureApp, type FixtureApp } from '../../../test/support/fixture-app.js';
import { PROVIDER_APP_FILES } from '../../../test/support/provider-app.js';
import { type HttpContext, HttpProvider } from '../../http/index.js';
import { Application, createLogger, executionContext } from '../../kernel/index.js';
import { Job } from '../../queue/index.js';
import { QueueProvider } from '../../queue/queue-provider.js';
import { LoggingProvider } from './logging-provider.js';

const fixtures: FixtureApp[] = [];
const apps: Application[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.shutdown()));
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.cleanup()));
});

type Line = Record<string, unknown>;

const QUEUE_CONFIG = `export default { default: 'mem', connections: { mem: { driver: 'memory' } } };\n`;

/**
 * A started app with the HTTP kernel, a memory queue and the LoggingProvider, logging JSON
 * lines into memory; `routes` adds routes before start.
 */
async function loggedApp(
  options: { logging?: string; routes?: (app: Application) => void } = {},
): Promise<{ app: Application; lines: () => Line[] }> {
  const fixture = await createFixtureApp(
    {
      ...PROVIDER_APP_FILES,
      'config/queue.ts': QUEUE_CONFIG,
      ...(options.logging ? { 'config/logging.ts': options.logging } : {}),
    },
    'keel-logging-provider-',
  );
  fixtures.push(fixture);
  const raw: string[] = [];
  const app = await Application.create({
    root: fixture.root,
    environment: 'test',
    logger: createLogger({
      name: 'fixture',
      env: 'test',
      version: '1.0.0',
      level: 'debug',
      destination: { write: (line: string) => raw.push(line) },
    }),
    providers: [HttpProvider, QueueProvider, LoggingProvider],
  });
  apps.push(app);
  await app.boot();
  options.routes?.(app);
  await app.start();
  return { app, lines: () => raw.map((line) => JSON.parse(line) as Line) };
}

const requestLines = (lines: Line[]) => lines.filter((l) => l.msg === 'request completed');

describe('request logs', () => {
  it('writes one line per request with its shape, and the context fields reach the handler', async () => {
    const { app, lines } = await loggedApp({
      routes(app) {
        app.make('http').router.get('/orders/:id', (ctx: HttpContext) => {
          app.logger.info('loading order');
          executionContext.setUser(7);
          executionContext.annotate({ tenant: 'acme' });
          return { id: ctx.params.id };
        });
      },
    });
    const res = await app.make('http').inject({
      url: '/orders/42?expand=lines',
      headers: { 'x-request-id': 'req-abc' },
      remoteAddress: '203.0.113.5',
    });
    expect(res.statusCode).toBe(200);
    const handler = lines().find((l) => l.msg === 'loading order');
    expect(handler).toMatchObject({
      request_id: 'req-abc',
      app: 'fixture',
      env: 'test',
      version: '1.0.0',
    });
    expect(handler).not.toHaveProperty('user_id');
    await expect.poll(() => requestLines(lines())).toHaveLength(1);
    const [line] = requestLines(lines());
    expect(line).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/orders/:id',
      path: '/orders/42',
      status: 200,
      bytes: res.payload.length,
      ip: '203.0.113.5',
      request_id: 'req-abc',
      user_id: 7,
      // Annotations (the tracing helper's trace_id) reach the request line too.
      tenant: 'acme',
    });
    expect(line!.duration_ms).toBeTypeOf('number');
    expect(line!.duration_ms as number).toBeGreaterThanOrEqual(0);
  });

  it('logs 5xx as errors, 4xx as warnings and the rest as info; a 404 has no route', async () => {
    const { app, lines } = await loggedApp({
      routes(app) {
        const router = app.make('http').router;
        router.post('/orders', (ctx: HttpContext) => {
          ctx.status(201);
          return { ok: true };
        });
        router.get('/boom', () => {
          throw new Error('kaput');
        });
      },
    });
    const http = app.make('http');
    expect((await http.inject({ method: 'POST', url: '/orders' })).statusCode).toBe(201);
    expect((await http.inject('/missing')).statusCode).toBe(404);
    expect((await http.inject('/boom')).statusCode).toBe(500);
    await expect.poll(() => requestLines(lines())).toHaveLength(3);
    const byPath = Object.fromEntries(requestLines(lines()).map((l) => [l.path, l]));
    expect(byPath['/orders']).toMatchObject({ level: 30, status: 201, route: '/orders' });
    expect(byPath['/missing']).toMatchObject({ level: 40, status: 404 });
    expect(byPath['/missing']).not.toHaveProperty('route');
    expect(byPath['/boom']).toMatchObject({ level: 50, status: 500, route: '/boom' });
  });

  it('skips /healthz and /_metrics by default, and configured prefixes', async () => {
    const routes = (app: Application) => {
      const router = app.make('http').router;
      for (const path of ['/healthz', '/_metrics', '/assets/app.css', '/shop']) {
        router.get(path, () => {
          app.logger.info({ served: path }, 'serving');
          return 'ok';
        });
      }
    };
    const { app, lines } = await loggedApp({ routes });
    for (const url of ['/healthz', '/_metrics', '/shop'])
      await app.make('http').inject({ url, headers: { 'x-request-id': `id${url.length}` } });
    await expect.poll(() => requestLines(lines()).map((l) => l.path)).toEqual(['/shop']);
    // Skipped requests still run in a scope: what they log carries their request_id.
    expect(lines().find((l) => l.served === '/healthz')).toMatchObject({ request_id: 'id8' });

    const custom = await loggedApp({
      logging: `export default { requests: { skip: ['/assets/*'] } };\n`,
      routes,
    });
    for (const url of ['/assets/app.css', '/healthz']) await custom.app.make('http').inject(url);
    await expect.poll(() => requestLines(custom.lines()).map((l) => l.path)).toEqual(['/healthz']);
  });

  it('writes no request lines when turned off, while handler lines keep their request_id', async () => {
    const { app, lines } = await loggedApp({
      logging: `export default { requests: { enabled: false } };\n`,
      routes(app) {
        app.make('http').router.get('/quiet', () => {
          app.logger.info('inside');
          return 'ok';
        });
      },
    });
    await app.make('http').inject({ url: '/quiet', headers: { 'x-request-id': 'quiet-1' } });
    await app.make('http').inject('/quiet');
    expect(lines().find((l) => l.msg === 'inside')).toMatchObject({ request_id: 'quiet-1' });
    expect(requestLines(lines())).toEqual([]);
  });

  it('refuses a bad logging config at register, naming the key', async () => {
    const fixture = await createFixtureApp({
      ...PROVIDER_APP_FILES,
      'config/logging.ts': `export default { requests: { skip: ['healthz'] } };\n`,
    });
    fixtures.push(fixture);
    const app = await Application.create({
      root: fixture.root,
      environment: 'test',
      providers: [HttpProvider, LoggingProvider],
    });
    apps.push(app);
    let error: unknown;
    try {
      app.register();
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'E_APP_FAILED' });
    // E_APP_FAILED ← E_PROVIDER_FAILED (naming LoggingProvider) ← the config error.
    const causes: unknown[] = [];
    for (let e = error as { cause?: unknown } | undefined; e; e = e.cause as typeof e)
      causes.push(e);
    expect(causes.at(-1)).toMatchObject({
      code: 'E_LOGGING_CONFIG_INVALID',
      message: expect.stringContaining('logging.requests.skip.0'),
    });
  });
});

class ShipOrder extends Job<{ order: number; fail?: boolean }> {
  static override jobName = 'logging:ship-order';
  static override options = { tries: 1 };
  static logger: Application['logger'] | undefined;
  handle(): void {
    ShipOrder.logger?.info({ order: this.payload.order }, 'shipping');
    if (this.payload.fail) throw new Error('no courier');
  }
}

describe('job logs', () => {
  it("carries job_id and the dispatching request's request_id, with one line per completed attempt", async () => {
    const { app, lines } = await loggedApp({
      routes(app) {
        app.make('http').router.post('/orders/:id/ship', async (ctx: HttpContext) => {
          await app.make('queue').dispatch(new ShipOrder({ order: Number(ctx.params.id) }));
          await app
            .make('queue')
            .dispatch(new ShipOrder({ order: Number(ctx.params.id) + 1, fail: true }));
          return 'queued';
        });
      },
    });
    ShipOrder.logger = app.logger;
    const queue = app.make('queue');
    queue.register(ShipOrder);
    await app
      .make('http')
      .inject({ method: 'POST', url: '/orders/5/ship', headers: { 'x-request-id': 'ship-1' } });
    await (await queue.worker({ stopWhenEmpty: true, sleepMs: 1 })).run();

    const shipping = lines().filter((l) => l.msg === 'shipping');
    expect(shipping).toHaveLength(2);
    for (const line of shipping) {
      expect(line.request_id).toBe('ship-1');
      expect(line.job_id).toBeTypeOf('string');
    }
    const done = lines().filter((l) => typeof l.msg === 'string' && /^job /.test(l.msg));
    expect(done).toHaveLength(1);
    const completed = shipping.find((l) => l.order === 5)!;
    expect(done[0]).toMatchObject({
      level: 30,
      msg: 'job completed',
      job_id: completed.job_id,
      job: 'logging:ship-order',
      queue: 'default',
      attempt: 1,
      status: 'completed',
      request_id: 'ship-1',
    });
    expect(done[0]!.duration_ms).toBeTypeOf('number');
    // The failed attempt is the worker's to log (with its error), once, in the job's scope.
    const failed = lines().filter((l) => l.msg === 'queue: job failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: 50,
      request_id: 'ship-1',
      job_id: shipping.find((l) => l.order === 6)!.job_id,
    });
  });
});
