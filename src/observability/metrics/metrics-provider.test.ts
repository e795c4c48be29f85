import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { CacheProvider } from '../../cache/cache-provider.js';
import { DatabaseProvider, db } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { HttpProvider, HttpServer } from '../../http/index.js';
import { get } from '../../http/server/__fixtures__/http-get.js';
import type { Application } from '../../kernel/index.js';
import type { Job } from '../../queue/index.js';
import { QueueProvider } from '../../queue/queue-provider.js';
import { sample, samples } from './__fixtures__/exposition.js';
import { METRICS_APP_FILES } from './__fixtures__/metrics-app.js';
import { MetricsProvider } from './metrics-provider.js';

const apps = providerApps([
  HttpProvider,
  DatabaseProvider,
  CacheProvider,
  QueueProvider,
  MetricsProvider,
]);
const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 1_000 })));
});

const KEY = 'metrics-key-0123456789abcdef';

/** A started app on SQLite with the queue tables and `notes`, served on a real socket. */
async function metricsApp(
  files: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<{ app: Application; port: number }> {
  const app = await apps.create(
    { ...METRICS_APP_FILES, ...files },
    { METRICS_API_KEY: KEY, ...env },
  );
  await app.boot();
  const manager = app.make('db');
  await appMigrator(app, manager, await appMigrations(app, manager), manager.defaultName).migrate();
  await db().schema.createTable('notes').addColumn('text', 'text').execute();
  await app.start();
  const server = new HttpServer(app.make('http').handle, { port: 0, host: '127.0.0.1' });
  servers.push(server);
  const { port } = await server.listen();
  return { app, port };
}

async function jobs(
  app: Application,
): Promise<{ Note: new (p: unknown) => Job; Broken: new (p: unknown) => Job }> {
  return import(join(app.paths.root, 'modules/shop/jobs.ts'));
}

/** Traffic in every subsystem: routes, 404/405, odd methods, errors, cache, database, jobs. */
async function traffic(app: Application, port: number): Promise<void> {
  for (const path of ['/users/1', '/users/2', '/users/3'])
    expect((await get(port, path)).status).toBe(200);
  expect((await get(port, '/users', { method: 'POST' })).status).toBe(200);
  expect((await get(port, '/nowhere/at/all')).status).toBe(404);
  expect((await get(port, '/users/1', { method: 'DELETE' })).status).toBe(405);
  expect((await get(port, '/users/1', { method: 'PROPFIND' })).status).toBeGreaterThanOrEqual(400);
  expect((await get(port, '/boom')).status).toBe(500);
  expect((await get(port, '/closed')).status).toBe(503);
  expect((await get(port, '/cached/a')).body).toContain('computed');
  expect((await get(port, '/cached/a')).body).toContain('computed');
  expect((await get(port, '/db')).status).toBe(200);
  const { Note, Broken } = await jobs(app);
  const queue = app.make('queue');
  await queue.dispatch(new Note({ text: 'one' }));
  await queue.dispatch(new Broken(null));
  const worker = await queue.worker({ stopWhenEmpty: true, sleepMs: 10 });
  await worker.run();
  await queue.dispatch(new Note({ text: 'later' })).onQueue('later');
}

async function scrape(port: number, path = '/_metrics', headers: Record<string, string> = {}) {
  return get(port, path, { headers });
}

describe('MetricsProvider (real socket, SQLite)', () => {
  it('exposes HTTP, database, cache, queue, error and process metrics after real work', async () => {
    const { app, port } = await metricsApp();
    await traffic(app, port);
    const res = await scrape(port);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    const http = (labels: Record<string, string>) =>
      sample(text, 'keel_http_requests_total', labels);
    // Route patterns, never paths.
    expect(http({ method: 'GET', route: '/users/:id', status: '200' })).toBe(3);
    expect(http({ method: 'POST', route: '/users', status: '200' })).toBe(1);
    expect(http({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(http({ method: 'DELETE', route: 'unmatched', status: '405' })).toBe(1);
    expect(
      samples(text).some((s) => s.labels.method === 'OTHER' && s.labels.route === 'unmatched'),
    ).toBe(true);
    expect(samples(text).some((s) => s.labels.method === 'PROPFIND')).toBe(false);
    expect(text).not.toContain('/users/1');
    expect(text).not.toContain('/nowhere');
    expect(http({ route: '/boom', status: '500' })).toBe(1);
    expect(
      sample(text, 'keel_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/users/:id',
      }),
    ).toBe(3);
    // The scrape itself is in flight while it renders.
    expect(sample(text, 'keel_http_requests_in_flight')).toBe(1);
    // Errors by code: a plain Error is E_INTERNAL; a Keel error keeps its code.
    expect(sample(text, 'keel_errors_total', { code: 'E_INTERNAL' })).toBe(1);
    expect(sample(text, 'keel_errors_total', { code: 'E_SHOP_CLOSED' })).toBe(1);
    // Database: statements by connection and operation.
    expect(
      sample(text, 'keel_db_queries_total', { connection: 'default', operation: 'select' }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'keel_db_queries_total', { connection: 'default', operation: 'insert' }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'keel_db_query_duration_seconds_count', {
        connection: 'default',
        operation: 'select',
      }),
    ).toBeGreaterThan(0);
    // Cache: read from the pool's counters at scrape time.
    expect(sample(text, 'keel_cache_misses_total', { pool: 'data', store: 'memory' })).toBe(1);
    expect(sample(text, 'keel_cache_hits_total', { pool: 'data', store: 'memory' })).toBe(1);
    expect(sample(text, 'keel_cache_writes_total', { pool: 'data', store: 'memory' })).toBe(1);
    // Queue: attempts by queue and job, and the backlog read at scrape time.
    expect(
      sample(text, 'keel_queue_jobs_processed_total', { queue: 'default', job: 'shop:note' }),
    ).toBe(1);
    expect(
      sample(text, 'keel_queue_jobs_retried_total', { queue: 'default', job: 'shop:broken' }),
    ).toBe(1);
    expect(
      sample(text, 'keel_queue_jobs_failed_total', { queue: 'default', job: 'shop:broken' }),
    ).toBe(1);
    expect(sample(text, 'keel_queue_job_duration_seconds_count', { job: 'shop:note' })).toBe(1);
    expect(sample(text, 'keel_queue_jobs_waiting', { queue: 'later' })).toBe(1);
    expect(
      sample(text, 'keel_queue_oldest_job_age_seconds', { queue: 'later' }),
    ).toBeGreaterThanOrEqual(0);
    // Process and event loop (prom-client's default metrics, with the prefix).
    expect(sample(text, 'keel_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE keel_nodejs_eventloop_lag_seconds gauge');
    expect(sample(text, 'keel_metrics_scrape_errors_total')).toBeUndefined();

    const json = await scrape(port, '/_metrics?format=json');
    expect(json.status).toBe(200);
    const metrics = JSON.parse(json.body) as Array<{
      name: string;
      type: string;
      values: unknown[];
    }>;
    expect(metrics.find((m) => m.name === 'keel_http_requests_total')).toMatchObject({
      type: 'counter',
      values: expect.arrayContaining([
        { value: 3, labels: { method: 'GET', route: '/users/:id', status: '200' } },
      ]),
    });
    expect(metrics.find((m) => m.name === 'keel_cache_hits_total')?.type).toBe('counter');
  }, 30_000);

  it('passes promtool check metrics on a real scrape', async () => {
    const promtool = '/usr/bin/promtool';
    if (!existsSync(promtool)) {
      if (process.env.CI === 'true')
        throw new Error(`promtool is required under CI=true (${promtool})`);
      console.warn(`promtool not found at ${promtool}: the exposition lint is skipped`);
      return;
    }
    const { app, port } = await metricsApp();
    await traffic(app, port);
    const text = (await scrape(port)).body;
    const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  }, 30_000);

  it('serves loopback clients; remote ones need the bearer key (403 problem+json otherwise)', async () => {
    const { port } = await metricsApp();
    const remote = { 'x-forwarded-for': '203.0.113.9' };
    const denied = await scrape(port, '/_metrics', remote);
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(denied.body)).toMatchObject({ status: 403, code: 'E_METRICS_FORBIDDEN' });
    for (const authorization of [
      'Bearer wrong-key',
      `Bearer ${KEY}x`,
      `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}`,
      `Bearer ${KEY} ${KEY}`,
      'Bearer',
      `${KEY}`,
    ]) {
      const res = await scrape(port, '/_metrics', { ...remote, authorization });
      expect(res.status, authorization).toBe(403);
    }
    const allowed = await scrape(port, '/_metrics', { ...remote, authorization: `Bearer ${KEY}` });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('keel_http_requests_total');
    // A forwarded loopback client behind the trusted proxy is local.
    expect((await scrape(port, '/_metrics', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(200);
    const format = await scrape(port, '/_metrics?format=xml');
    expect(format.status).toBe(400);
    expect(JSON.parse(format.body)).toMatchObject({ code: 'E_METRICS_UNKNOWN_FORMAT' });
  }, 30_000);

  it('without a key configured, remote clients are always refused', async () => {
    const { port } = await metricsApp({}, { METRICS_API_KEY: '' });
    const res = await scrape(port, '/_metrics', {
      'x-forwarded-for': '198.51.100.1',
      authorization: 'Bearer ',
    });
    expect(res.status).toBe(403);
  }, 30_000);

  it('bounds the route label: past metrics.maxLabelSets new label sets count as "other"', async () => {
    const { port } = await metricsApp({
      'config/metrics.ts': 'export default { maxLabelSets: 2 };\n',
    });
    expect((await get(port, '/users/1')).status).toBe(200);
    expect((await get(port, '/users', { method: 'POST' })).status).toBe(200);
    expect((await get(port, '/db')).status).toBe(200);
    expect((await get(port, '/closed')).status).toBe(503);
    expect((await get(port, '/users/9')).status).toBe(200);
    const text = (await scrape(port)).body;
    const series = samples(text).filter((s) => s.name === 'keel_http_requests_total');
    expect(series).toHaveLength(3);
    expect(sample(text, 'keel_http_requests_total', { route: '/users/:id' })).toBe(2);
    expect(
      sample(text, 'keel_http_requests_total', {
        method: 'other',
        route: 'other',
        status: 'other',
      }),
    ).toBe(2);
  }, 30_000);

  it("measures only the routes naming the metrics middleware with metrics.http: 'middleware'", async () => {
    const { port } = await metricsApp({
      'config/metrics.ts': "export default { http: 'middleware' };\n",
    });
    expect((await get(port, '/users/1')).status).toBe(200);
    expect((await get(port, '/measured')).status).toBe(200);
    expect((await get(port, '/measured')).status).toBe(200);
    const text = (await scrape(port)).body;
    expect(sample(text, 'keel_http_requests_total', { route: '/measured', status: '200' })).toBe(2);
    expect(sample(text, 'keel_http_requests_total', { route: '/users/:id' })).toBeUndefined();
    expect(sample(text, 'keel_http_requests_total', { route: '/_metrics' })).toBeUndefined();
  }, 30_000);

  it('a failing backlog read does not fail the scrape: last values stay, a scrape error counts', async () => {
    const { app, port } = await metricsApp();
    await app.make('queue').dispatch(new (await jobs(app)).Note({ text: 'x' }));
    expect(sample((await scrape(port)).body, 'keel_queue_jobs_waiting', { queue: 'default' })).toBe(
      1,
    );
    await app.make('db').connection().close();
    const res = await scrape(port);
    expect(res.status).toBe(200);
    expect(sample(res.body, 'keel_queue_jobs_waiting', { queue: 'default' })).toBe(1);
    expect(sample(res.body, 'keel_metrics_scrape_errors_total', { collector: 'queue' })).toBe(1);
  }, 30_000);

  it('registers nothing with metrics.enabled false, yet binds the registry for modules', async () => {
    const { app, port } = await metricsApp({
      'config/metrics.ts': 'export default { enabled: false };\n',
    });
    expect((await get(port, '/_metrics')).status).toBe(404);
    const registry = app.make('metrics');
    registry.counter({ name: 'sessions_started_total', help: 'Sessions started' }).labels().inc();
    expect(sample(await registry.metrics(), 'keel_sessions_started_total')).toBe(1);
    expect(registry.get('http_requests_total')).toBeUndefined();
  }, 30_000);
});
