import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { cacheObserver } from '../../cache/cache-observer.js';
import { CacheProvider } from '../../cache/cache-provider.js';
import { DatabaseProvider, db } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { E_CONFLICT, HttpProvider } from '../../http/index.js';
import { type Application, type ExecutionScope, executionContext } from '../../kernel/index.js';
import { Job } from '../../queue/index.js';
import { QueueProvider } from '../../queue/queue-provider.js';
import type { Tracing } from './tracing.js';
import { TracingProvider } from './tracing-provider.js';

const PROVIDERS = [HttpProvider, DatabaseProvider, CacheProvider, QueueProvider, TracingProvider];
const apps = providerApps(PROVIDERS);
const MEMORY_TRACING = `export default { enabled: true, driver: 'memory' };\n`;
const SQLITE = `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`;
const QUEUE = `export default { default: 'database' };\n`;

/** What the job saw, for the log-correlation assertions. */
const seenByJobs: Array<ExecutionScope['fields']> = [];
let jobApp: Application | undefined;

class Notify extends Job<{ email: string }> {
  static override jobName = 'test:notify';
  async handle(): Promise<void> {
    seenByJobs.push(executionContext.current()?.fields);
    await db()
      .updateTable('users' as never)
      .set({ notified: 1 } as never)
      .where('email' as never, '=', this.payload.email as never)
      .execute();
    await jobApp?.make('cache').pool().set(`notified:${this.payload.email}`, true, 60);
  }
}

class Explode extends Job<null> {
  static override jobName = 'test:explode';
  static override options = { tries: 1 };
  handle(): void {
    throw new RangeError('the printer is on fire');
  }
}

async function tracedApp(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<Application> {
  const app = await apps.create(
    { 'config/database.ts': SQLITE, 'config/queue.ts': QUEUE, ...files },
    env,
  );
  await app.boot();
  const manager = app.make('db');
  await appMigrator(app, manager, await appMigrations(app, manager), manager.defaultName).migrate();
  await db().schema.dropTable('users').ifExists().execute();
  await db()
    .schema.createTable('users')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('email', 'varchar(200)')
    .addColumn('notified', 'integer', (c) => c.defaultTo(0))
    .execute();
  await db()
    .insertInto('users' as never)
    .values({ id: 1, email: 'ada@example.com' } as never)
    .execute();
  app.make('queue').register(Notify, Explode);
  jobApp = app;
  return app;
}

function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.find((s) => s.name === name);
  if (!found) throw new Error(`no span "${name}" in: ${spans.map((s) => s.name).join(', ')}`);
  return found;
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

afterEach(() => {
  seenByJobs.length = 0;
  jobApp = undefined;
});

describeEachDialect(
  'one trace from a request through its queries and cache calls to its job',
  (database, dialect) => {
    it('shares the trace id, nests each span under the right parent, and sets the attributes', async () => {
      const app = await tracedApp({
        'config/tracing.ts': MEMORY_TRACING,
        'config/database.ts': `export default { connections: { default: ${JSON.stringify(database().config)} } };\n`,
      });
      const seenByRequest: Array<ExecutionScope['fields']> = [];
      app.make('http').router.get('/users/:id', async (ctx) => {
        seenByRequest.push(executionContext.current()?.fields);
        const cache = app.make('cache').pool();
        const user = await cache.remember(`user:${ctx.params.id}`, 60, () =>
          db()
            .selectFrom('users' as never)
            .selectAll()
            .where('email' as never, '=', 'ada@example.com' as never)
            .executeTakeFirst(),
        );
        await cache.get(`user:${ctx.params.id}`);
        await app.make('queue').dispatch(new Notify({ email: 'ada@example.com' }));
        return user;
      });
      await app.start();
      const tracing = app.make('tracing');
      expect(tracing.enabled).toBe(true);
      tracing.resetSpans(); // nothing from the setup was traced anyway (no parent span)

      const res = await app
        .make('http')
        .inject({ url: '/users/1', headers: { 'user-agent': 'keel-test/1.0' } });
      expect(res.statusCode).toBe(200);
      const summary = await (await app.make('queue').worker({ stopWhenEmpty: true })).run();
      expect(summary.processed).toBe(1);

      const spans = tracing.finishedSpans();
      const request = byName(spans, 'GET /users/:id');
      const traceId = request.spanContext().traceId;
      expect(spans.every((s) => s.spanContext().traceId === traceId)).toBe(true);
      expect(request.kind).toBe(SpanKind.SERVER);
      expect(parentOf(request)).toBeUndefined();
      expect(request.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.path': '/users/1',
        'url.scheme': 'http',
        'http.route': '/users/:id',
        'http.response.status_code': 200,
        'user_agent.original': 'keel-test/1.0',
      });
      expect(typeof request.attributes['client.address']).toBe('string');
      expect(request.status.code).toBe(SpanStatusCode.UNSET);

      // remember (a miss): its factory's SELECT nests under it.
      const remember = byName(spans, 'cache remember');
      expect(parentOf(remember)).toBe(idOf(request));
      expect(remember.attributes).toMatchObject({
        'cache.pool': 'data',
        'cache.operation': 'remember',
        'cache.driver': 'memory',
        'cache.hit': false,
      });
      expect(remember.attributes['cache.key']).toBeUndefined();
      const select = spans.find((s) => s.attributes['db.operation.name'] === 'SELECT');
      expect(select).toBeDefined();
      expect(parentOf(select!)).toBe(idOf(remember));
      expect(select!.kind).toBe(SpanKind.CLIENT);
      const system = { sqlite: 'sqlite', postgres: 'postgresql', mysql: 'mysql' }[dialect];
      expect(select!.attributes).toMatchObject({ 'db.system.name': system, 'db.system': system });
      expect(String(select!.attributes['db.query.text'])).toMatch(/^select .*from .users/i);
      expect(String(select!.attributes['db.query.text'])).not.toContain('ada@example.com');
      expect(select!.attributes['db.namespace']).toBeDefined();
      expect(select!.endTime[0] * 1e9 + select!.endTime[1]).toBeGreaterThanOrEqual(
        select!.startTime[0] * 1e9 + select!.startTime[1],
      );

      const get = byName(spans, 'cache get');
      expect(parentOf(get)).toBe(idOf(request));
      expect(get.attributes['cache.hit']).toBe(true);

      // The dispatch's INSERT belongs to the request; the job span continues its trace.
      const insert = spans.find(
        (s) => s.attributes['db.operation.name'] === 'INSERT' && parentOf(s) === idOf(request),
      );
      expect(insert).toBeDefined();
      const job = byName(spans, 'process test:notify');
      expect(job.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(job)).toBe(idOf(request));
      expect(job.parentSpanContext?.isRemote).toBe(true);
      expect(job.attributes).toMatchObject({
        'messaging.system': 'keel',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'default',
        'keel.job.name': 'test:notify',
        'keel.job.attempt': 1,
        'keel.job.outcome': 'completed',
      });
      const update = spans.find((s) => s.attributes['db.operation.name'] === 'UPDATE');
      expect(update && parentOf(update)).toBe(idOf(job));
      expect(parentOf(byName(spans, 'cache set'))).toBe(idOf(job));

      // Log correlation: the request's and the job's scopes carry their span's ids.
      expect(seenByRequest[0]).toMatchObject({ trace_id: traceId, span_id: idOf(request) });
      expect(seenByJobs[0]).toMatchObject({ trace_id: traceId, span_id: idOf(job) });
    });
  },
);

describe('tracing provider', () => {
  it('disabled (the default): no spans, no instrument, no listener, no global registered', async () => {
    const app = await tracedApp({});
    let scope: ExecutionScope | undefined = { request_id: 'sentinel' };
    app.make('http').router.get('/ping', async () => {
      scope = executionContext.current();
      await app
        .make('cache')
        .pool()
        .remember('k', 60, () => 1);
      await db()
        .selectFrom('users' as never)
        .selectAll()
        .execute();
      return 'pong';
    });
    await app.start();
    const tracing = app.make('tracing');
    expect(tracing.enabled).toBe(false);
    expect(tracing.tracer).toBeUndefined();
    expect((await app.make('http').inject('/ping')).body).toBe('pong');
    // No request instrument: the kernel opened no execution scope for the request.
    expect(scope).toBeUndefined();
    expect(cacheObserver).toBeUndefined();
    expect(tracing.finishedSpans()).toEqual([]);
    expect(executionContext.run({ request_id: 'r' }, () => executionContext.capture())).toEqual({
      requestId: 'r',
    });
    // The OpenTelemetry API has nothing registered: the root context, a non-recording span.
    expect(context.active()).toBe(context.active());
    const span = trace.getTracer('x').startSpan('y');
    expect(span.isRecording()).toBe(false);
    // Routes naming the `tracing` middleware still compile (a pass-through).
    app
      .make('http')
      .router.get('/mw', () => 'ok')
      .middleware('tracing');
    app.make('http').build();
    expect((await app.make('http').inject('/mw')).body).toBe('ok');
  });

  it('continues an incoming traceparent, and unwinds every registration at shutdown', async () => {
    const app = await tracedApp({ 'config/tracing.ts': MEMORY_TRACING });
    const tracing = app.make('tracing');
    expectTypeOf(tracing).toEqualTypeOf<Tracing>();
    const seen: Array<string | undefined> = [];
    app.make('http').router.get('/ping', () => {
      seen.push(tracing.traceId());
      return 'pong';
    });
    await app.start();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await app
      .make('http')
      .inject({ url: '/ping', headers: { traceparent: `00-${traceId}-${parent}-01` } });
    // A malformed traceparent starts a new trace instead of failing the request.
    const bad = await app
      .make('http')
      .inject({ url: '/ping', headers: { traceparent: `00-${'z'.repeat(32)}-${parent}-01` } });
    expect(bad.statusCode).toBe(200);
    const [continued, fresh] = app.make('tracing').finishedSpans();
    expect(continued!.spanContext().traceId).toBe(traceId);
    expect(continued!.parentSpanContext).toMatchObject({ spanId: parent, isRemote: true });
    expect(fresh!.spanContext().traceId).not.toBe(traceId);
    expect(fresh!.parentSpanContext).toBeUndefined();
    expect(seen).toEqual([traceId, fresh!.spanContext().traceId]);
    expect(tracing.traceId()).toBeUndefined(); // outside any request

    expect(cacheObserver).toBeDefined();
    await app.shutdown();
    expect(cacheObserver).toBeUndefined();
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false);
    expect(executionContext.run({ request_id: 'r' }, () => executionContext.capture())).toEqual({
      requestId: 'r',
    });
  });

  it('marks 5xx and thrown errors, not 4xx; a 404 is named by its method alone', async () => {
    const app = await tracedApp({ 'config/tracing.ts': MEMORY_TRACING });
    const http = app.make('http');
    http.router.get('/boom', () => {
      throw new TypeError('the printer is on fire');
    });
    http.router.post('/orders/:id', () => {
      throw new E_CONFLICT('the order changed');
    });
    await app.start();
    expect((await http.inject('/boom')).statusCode).toBe(500);
    expect((await http.inject({ method: 'POST', url: '/orders/9' })).statusCode).toBe(409);
    expect((await http.inject('/nowhere/../../etc/passwd')).statusCode).toBe(404);
    expect((await http.inject({ method: 'PURGE' as never, url: '/boom' })).statusCode).toBe(405);
    const [boom, conflict, missing, purge] = app.make('tracing').finishedSpans();
    expect(purge!.name).toBe('HTTP');
    expect(purge!.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
      'http.response.status_code': 405,
    });
    expect(boom!.name).toBe('GET /boom');
    expect(boom!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the printer is on fire' });
    expect(boom!.attributes['error.type']).toBe('TypeError');
    expect(boom!.attributes['http.response.status_code']).toBe(500);
    const exception = boom!.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toBe('the printer is on fire');
    expect(conflict!.name).toBe('POST /orders/:id');
    expect(conflict!.status.code).toBe(SpanStatusCode.UNSET);
    expect(conflict!.attributes['http.response.status_code']).toBe(409);
    expect(missing!.name).toBe('GET');
    expect(missing!.attributes['http.route']).toBeUndefined();
    expect(missing!.attributes['http.response.status_code']).toBe(404);
    expect(missing!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("with tracing.http 'middleware', traces only the routes using the `tracing` alias", async () => {
    const app = await tracedApp({
      'config/tracing.ts': `export default { enabled: true, driver: 'memory', http: 'middleware', cacheKeys: true };\n`,
    });
    const http = app.make('http');
    let fields: ExecutionScope['fields'];
    http.router
      .get('/traced/:id', async () => {
        fields = executionContext.current()?.fields;
        await db()
          .selectFrom('users' as never)
          .selectAll()
          .execute();
        await app.make('cache').pool().get('absent');
        return 'yes';
      })
      .middleware('tracing');
    http.router.get('/plain', async () => {
      await db()
        .selectFrom('users' as never)
        .selectAll()
        .execute();
      return 'no';
    });
    await app.start();
    expect((await http.inject('/plain')).body).toBe('no');
    expect(app.make('tracing').finishedSpans()).toEqual([]);
    expect((await http.inject('/traced/3')).body).toBe('yes');
    const spans = app.make('tracing').finishedSpans();
    const request = byName(spans, 'GET /traced/:id');
    expect(request.attributes['http.response.status_code']).toBe(200);
    expect(parentOf(byName(spans, 'SELECT app.sqlite'))).toBe(idOf(request));
    const get = byName(spans, 'cache get');
    expect(get.attributes).toMatchObject({ 'cache.hit': false, 'cache.key': 'absent' });
    expect(fields).toMatchObject({ trace_id: request.spanContext().traceId });
  });

  it('a failing statement and a failing job are error spans with their error type', async () => {
    const app = await tracedApp({ 'config/tracing.ts': MEMORY_TRACING });
    app.make('http').router.post('/users', async () => {
      await app.make('queue').dispatch(new Explode(null));
      await db()
        .insertInto('users' as never)
        .values({ id: 1, email: 'twice@example.com' } as never)
        .execute();
    });
    await app.start();
    expect((await app.make('http').inject({ method: 'POST', url: '/users' })).statusCode).toBe(409);
    const summary = await (await app.make('queue').worker({ stopWhenEmpty: true })).run();
    expect(summary.failed).toBe(1);
    const spans = app.make('tracing').finishedSpans();
    const insert = spans.find(
      (s) =>
        s.attributes['db.operation.name'] === 'INSERT' && s.status.code === SpanStatusCode.ERROR,
    );
    expect(insert?.attributes['error.type']).toBe('E_DB_UNIQUE_VIOLATION');
    expect(String(insert?.attributes['db.query.text'])).not.toContain('twice@example.com');
    const request = byName(spans, 'POST /users');
    expect(request.status.code).toBe(SpanStatusCode.UNSET); // 409: the client's error
    const job = byName(spans, 'process test:explode');
    expect(parentOf(job)).toBe(idOf(request));
    expect(job.attributes).toMatchObject({
      'keel.job.outcome': 'failed',
      'error.type': 'RangeError',
    });
    expect(job.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the printer is on fire' });
    expect(job.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('with the console driver, writes each span to stdout', async () => {
    const dir = vi.spyOn(console, 'dir').mockImplementation(() => {});
    try {
      const app = await tracedApp({}, { TRACING_ENABLED: 'true', TRACING_DRIVER: 'console' });
      app.make('http').router.get('/ping', () => 'pong');
      await app.start();
      await app.make('http').inject('/ping');
      await app.make('tracing').flush();
      const written = dir.mock.calls.map(([span]) => span as { name?: string; traceId?: string });
      expect(
        written.some((s) => s.name === 'GET /ping' && /^[0-9a-f]{32}$/.test(s.traceId ?? '')),
      ).toBe(true);
    } finally {
      dir.mockRestore();
    }
  });

  it('samples by ratio: 0 keeps no new trace but still continues a sampled caller', async () => {
    const app = await tracedApp({
      'config/tracing.ts': `export default { enabled: true, driver: 'memory', sampleRatio: 0 };\n`,
    });
    let fields: ExecutionScope['fields'];
    app.make('http').router.get('/ping', () => {
      fields = executionContext.current()?.fields;
      return 'pong';
    });
    await app.start();
    await app.make('http').inject('/ping');
    expect(app.make('tracing').finishedSpans()).toEqual([]);
    // Unsampled, the ids still exist for the logs (and propagate to jobs).
    expect(fields?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const traceId = 'abcdefabcdefabcdefabcdefabcdef12';
    await app
      .make('http')
      .inject({ url: '/ping', headers: { traceparent: `00-${traceId}-1234567890abcdef-01` } });
    expect(
      app
        .make('tracing')
        .finishedSpans()
        .map((s) => s.spanContext().traceId),
    ).toEqual([traceId]);
  });

  it('a bad tracing config fails the boot with the key named', async () => {
    // The boot fails (E_APP_FAILED, wrapping the provider's failure) with our error inside.
    const cause = async (app: Application) => {
      let error = (await app.boot().catch((e: unknown) => e)) as { code?: string; cause?: unknown };
      expect(error.code).toBe('E_APP_FAILED');
      while (error.cause !== undefined && !String(error.code).startsWith('E_TRACING'))
        error = error.cause as typeof error;
      return error;
    };
    const zipkin = await apps.create({
      'config/tracing.ts': `export default { enabled: true, driver: 'zipkin' };\n`,
    });
    expect(await cause(zipkin)).toMatchObject({
      code: 'E_TRACING_CONFIG_INVALID',
      message: expect.stringContaining('"driver"'),
    });
    const lots = await apps.create({}, { TRACING_ENABLED: 'true', TRACING_SAMPLE_RATIO: 'lots' });
    expect(await cause(lots)).toMatchObject({
      code: 'E_TRACING_CONFIG_INVALID',
      message: expect.stringContaining('sampleRatio (TRACING_SAMPLE_RATIO)'),
    });
  });
});
