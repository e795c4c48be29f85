import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../../test/support/provider-app.js';
import { CacheProvider } from '../../../cache/cache-provider.js';
import { ConsoleUI } from '../../../cli/index.js';
import { DatabaseProvider, db } from '../../../db/index.js';
import { appMigrations, appMigrator } from '../../../db/migrations/index.js';
import { HttpProvider } from '../../../http/index.js';
import { Application, type CommandContext, createNullLogger } from '../../../kernel/index.js';
import type { Job } from '../../../queue/index.js';
import { QueueProvider } from '../../../queue/queue-provider.js';
import { METRICS_APP_FILES } from '../__fixtures__/metrics-app.js';
import { HttpMetrics } from '../http-metrics.js';
import { MetricsProvider } from '../metrics-provider.js';
import { MetricsRegistry } from '../metrics-registry.js';
import type { MetricsSummary } from '../metrics-report.js';
import {
  MetricsSnapshotRecorder,
  type ProcessMetricsSnapshot,
  readTotals,
} from '../metrics-snapshots.js';
import { metricsShowCommand } from './metrics-show-command.js';

const apps = providerApps([
  HttpProvider,
  DatabaseProvider,
  CacheProvider,
  QueueProvider,
  MetricsProvider,
]);
const HOUR = 3_600_000;

async function show(app: Application, options: Record<string, unknown> = {}, json = true) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += String(c);
  });
  stderr.on('data', (c) => {
    err += String(c);
  });
  const ui = new ConsoleUI({ json, stdout, stderr, colors: false });
  const code = await metricsShowCommand.handle({
    app,
    cwd: app.paths.root,
    args: {},
    options,
    verbose: false,
    ui,
  } as CommandContext<Application>);
  const parsed =
    json && out.trim() !== ''
      ? (JSON.parse(out) as MetricsSummary & { backlog: unknown[] })
      : undefined;
  return { code, out, err, json: parsed };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

function hourOf(ms: number): string {
  return new Date(Math.floor(ms / HOUR) * HOUR).toISOString();
}

async function writeSnapshot(root: string, data: ProcessMetricsSnapshot): Promise<void> {
  const dir = join(root, 'var/state/metrics');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${data.host}-${data.pid}.json`), JSON.stringify(data));
}

const route = (count: number, errors: number, buckets: number[]) => ({
  count,
  errors,
  sum: count * 0.01,
  buckets,
});

describe('keel metrics:show', () => {
  it('summarises what a serving process recorded, with the live queue backlog', async () => {
    const files = {
      ...METRICS_APP_FILES,
      'config/metrics.ts': 'export default { snapshotInterval: 3600 };\n',
    };
    const serving = await apps.create(files);
    await serving.boot();
    const manager = serving.make('db');
    await appMigrator(
      serving,
      manager,
      await appMigrations(serving, manager),
      manager.defaultName,
    ).migrate();
    await db().schema.createTable('notes').addColumn('text', 'text').execute();
    await serving.start();
    const http = serving.make('http');
    for (const url of [
      '/users/1',
      '/users/2',
      '/users/3',
      '/boom',
      '/cached/k',
      '/cached/k',
      '/db',
    ])
      await http.inject(url);
    const { Note } = (await import(join(serving.paths.root, 'modules/shop/jobs.ts'))) as {
      Note: new (p: unknown) => Job;
    };
    await serving.make('queue').dispatch(new Note({ text: 'a' }));
    await (await serving.make('queue').worker({ stopWhenEmpty: true, sleepMs: 10 })).run();
    await serving
      .make('queue')
      .dispatch(new Note({ text: 'b' }))
      .onQueue('later');
    await serving.shutdown(); // the last snapshot is written at shutdown
    expect(await readdir(join(serving.paths.root, 'var/state/metrics'))).toHaveLength(1);

    const cli = await apps.create(serving.paths.root);
    await cli.boot();
    const { code, json } = await show(cli);
    expect(code).toBe(0);
    expect(json?.requests).toMatchObject({ total: 7, errors: 1 });
    expect(json?.requests.errorRate).toBeCloseTo(1 / 7);
    const users = json?.routes.find((r) => r.route === '/users/:id');
    expect(users).toMatchObject({ method: 'GET', requests: 3, errors: 0 });
    expect(typeof users?.p50 === 'number' || typeof users?.p50 === 'string').toBe(true);
    expect(json?.routes.find((r) => r.route === '/boom')).toMatchObject({
      errors: 1,
      errorRate: 1,
    });
    expect(json?.cache).toEqual([{ pool: 'data', hits: 1, misses: 1, writes: 1, hitRate: 0.5 }]);
    expect(json?.jobs).toEqual([{ queue: 'default', processed: 1, failed: 0, retried: 0 }]);
    expect(json?.queries.find((q) => q.connection === 'default')?.count).toBeGreaterThan(0);
    expect(json?.hourly).toHaveLength(1);
    expect(json?.hourly[0]?.requests).toBe(7);
    expect(json?.backlog).toContainEqual(expect.objectContaining({ queue: 'later', waiting: 1 }));

    const text = await show(cli, {}, false);
    expect(text.out).toContain('requests: 7, errors (5xx): 1');
    expect(text.out).toMatch(/GET\s+\/users\/:id\s+3/);
    expect(text.out).toContain('50.0%');
  }, 30_000);

  it('adds up processes, keeps to the window, and skips broken or hostile files', async () => {
    const app = await apps.create(METRICS_APP_FILES);
    await app.boot();
    const now = Date.now();
    const bounds = [0.01, 0.1, 1];
    const hour = (ms: number, requests: Record<string, ReturnType<typeof route>>) => ({
      hour: hourOf(ms),
      requests,
      queries: { default: { count: 4, errors: 1, slow: 2, sum: 0.04 } },
      cache: { data: { hits: 3, misses: 1, writes: 1 } },
      jobs: {},
    });
    await writeSnapshot(app.paths.root, {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date(now - 5 * HOUR).toISOString(),
      updatedAt: new Date(now).toISOString(),
      bounds,
      hours: [
        hour(now - 30 * HOUR, { 'GET /old': route(100, 0, [100, 0, 0, 0]) }),
        hour(now - HOUR, { 'GET /a': route(10, 1, [5, 4, 1, 0]) }),
        hour(now, { 'GET /a': route(10, 0, [10, 0, 0, 0]) }),
      ],
    });
    await writeSnapshot(app.paths.root, {
      pid: await deadPid(),
      host: hostname(),
      startedAt: new Date(now - 2 * HOUR).toISOString(),
      updatedAt: new Date(now - HOUR).toISOString(),
      bounds,
      hours: [hour(now, { 'GET /a': route(80, 2, [0, 0, 0, 80]) })],
    });
    const dir = join(app.paths.root, 'var/state/metrics');
    await writeFile(join(dir, 'junk-1.json'), 'not json');
    await writeFile(
      join(dir, 'neg-2.json'),
      JSON.stringify({
        pid: 2,
        host: 'h',
        updatedAt: new Date().toISOString(),
        bounds: [],
        hours: [
          { hour: hourOf(now), requests: { x: { count: -1 } }, queries: {}, cache: {}, jobs: {} },
        ],
      }),
    );
    await writeFile(
      join(dir, 'evil-3.json'),
      `{"pid":3,"host":"elsewhere.example","updatedAt":"${new Date().toISOString()}","bounds":[1],"hours":[{"hour":"${hourOf(now)}","requests":{"__proto__":{"count":5,"errors":0,"sum":0,"buckets":[5,0]}},"queries":{},"cache":{},"jobs":{}}]}`,
    );
    const { code, json, err } = await show(app, { hours: '6' });
    expect(code).toBe(0);
    expect(({} as Record<string, unknown>).count).toBeUndefined();
    const a = json?.routes.find((r) => r.route === '/a');
    expect(a).toMatchObject({ requests: 100, errors: 3 });
    // 15 of 100 at ≤10 ms, 4 at ≤100 ms, 1 at ≤1 s, 80 past the last bound.
    expect(a?.p50).toBe('>1');
    expect(json?.routes.find((r) => r.route === '/old')).toBeUndefined();
    // The other host's file counts too; its odd route key stays a plain key.
    expect(json?.hourly.map((h) => h.requests)).toEqual([10, 95]);
    expect(json?.routes.find((r) => r.route === '__proto__')).toMatchObject({ requests: 5 });
    expect(json?.cache).toEqual([{ pool: 'data', hits: 9, misses: 3, writes: 3, hitRate: 0.75 }]);
    expect(json?.queries).toEqual([
      {
        connection: 'default',
        count: 12,
        errors: 3,
        slow: 6,
        sum: expect.any(Number),
        meanMs: expect.any(Number),
      },
    ]);
    expect(json?.processes.map((p) => p.state).sort()).toEqual(['elsewhere', 'gone', 'running']);
    expect(json?.skipped.map((s) => s.file).sort()).toEqual(['junk-1.json', 'neg-2.json']);
    expect(err).toContain('skipped var/state/metrics/junk-1.json: not JSON');

    const wide = await show(app, { hours: '48' });
    expect(wide.json?.routes.find((r) => r.route === '/old')?.requests).toBe(100);
    for (const hours of ['0', '49', 'x', '-1', '1.5'])
      expect((await show(app, { hours })).code, hours).toBe(1);
  }, 30_000);
});

describe('snapshots of console processes', () => {
  async function consoleApp(root: string): Promise<Application> {
    const app = await Application.create({
      root,
      environment: 'console',
      env: { LOG_LEVEL: 'silent' },
      logger: createNullLogger(),
      providers: [HttpProvider, DatabaseProvider, CacheProvider, QueueProvider, MetricsProvider],
    });
    await app.boot();
    return app;
  }

  it('a command writes none, unless it ran jobs (queue:work)', async () => {
    const fixture = await apps.fixture(METRICS_APP_FILES);
    const folder = join(fixture.root, 'var/state/metrics');
    const setup = await consoleApp(fixture.root);
    const manager = setup.make('db');
    await appMigrator(
      setup,
      manager,
      await appMigrations(setup, manager),
      manager.defaultName,
    ).migrate();
    await db().schema.createTable('notes').addColumn('text', 'text').execute();
    await setup.shutdown();
    expect(await readdir(folder).catch(() => [])).toEqual([]);

    const worker = await consoleApp(fixture.root);
    const { Note } = (await import(join(fixture.root, 'modules/shop/jobs.ts'))) as {
      Note: new (p: unknown) => Job;
    };
    await worker.make('queue').dispatch(new Note({ text: 'a' }));
    await (await worker.make('queue').worker({ stopWhenEmpty: true, sleepMs: 10 })).run();
    await worker.shutdown();
    const files = await readdir(folder);
    expect(files).toHaveLength(1);
    const written = JSON.parse(
      await readFile(join(folder, files[0] as string), 'utf8'),
    ) as ProcessMetricsSnapshot;
    expect(written.hours.at(-1)?.jobs).toEqual({
      default: { processed: 1, failed: 0, retried: 0 },
    });
  }, 30_000);
});

describe('MetricsSnapshotRecorder', () => {
  it('folds counts into hourly buckets by delta and keeps 48 hours', async () => {
    const registry = new MetricsRegistry();
    const http = new HttpMetrics(registry);
    const ctx = { method: 'GET', route: { record: { path: '/x' } } } as never;
    let now = Date.UTC(2026, 0, 1, 10, 30);
    const written: ProcessMetricsSnapshot[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'keel-metrics-recorder-'));
    const recorder = new MetricsSnapshotRecorder({
      folder: dir,
      read: () => readTotals(registry),
      intervalMs: 0,
      now: () => new Date(now),
    });
    const { rm } = await import('node:fs/promises');
    try {
      expect(await recorder.flush()).toBe(false); // nothing counted yet: no file
      http.record(ctx, 200, 5);
      http.record(ctx, 500, 50);
      expect(await recorder.flush()).toBe(true);
      now += HOUR;
      http.record(ctx, 200, 5);
      await recorder.flush();
      written.push(JSON.parse(await readFile(recorder.file, 'utf8')) as ProcessMetricsSnapshot);
      expect(written[0]?.hours.map((h) => h.requests['GET /x']?.count)).toEqual([2, 1]);
      expect(written[0]?.hours[0]?.requests['GET /x']?.errors).toBe(1);
      for (let i = 0; i < 60; i++) {
        now += HOUR;
        http.record(ctx, 200, 5);
        await recorder.flush();
      }
      const last = JSON.parse(await readFile(recorder.file, 'utf8')) as ProcessMetricsSnapshot;
      expect(last.hours).toHaveLength(48);
      expect(last.hours.every((h) => h.requests['GET /x']?.count === 1)).toBe(true);
      expect(last.bounds).toEqual(http.duration.buckets);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
