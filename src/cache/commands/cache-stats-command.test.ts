import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider } from '../../db/db-provider.js';
import type { Application } from '../../kernel/index.js';
import { CacheProvider } from '../cache-provider.js';
import { CacheStats, type CacheStatsSnapshot } from '../cache-stats.js';
import { type ProcessCacheStats, statsFileName } from '../cache-stats-recorder.js';
import type { CacheStatsReport } from '../cache-stats-report.js';
import { readCacheStats } from '../cache-stats-report.js';
import { runCommand } from './__fixtures__/run-command.js';
import { cacheStatsCommand } from './cache-stats-command.js';

const apps = providerApps([DatabaseProvider, CacheProvider]);
const HOST = hostname();
const DAY = 24 * 60 * 60 * 1000;

/** A pool snapshot with the given counters and latency samples. */
function snapshot(
  pool: string,
  counters: Partial<Record<'hits' | 'misses' | 'writes' | 'evictions', number>>,
  latencies: number[] = [],
  store = 'memory',
): CacheStatsSnapshot {
  const stats = new CacheStats(pool, store, () => counters.evictions ?? 0);
  stats.hits = counters.hits ?? 0;
  stats.misses = counters.misses ?? 0;
  stats.writes = counters.writes ?? 0;
  for (const ms of latencies) stats.observe(ms);
  return stats.snapshot();
}

async function writeProcess(
  root: string,
  data: Omit<ProcessCacheStats, 'startedAt' | 'updatedAt'> & { updatedAt?: string },
): Promise<string> {
  const dir = join(root, 'var/state/cache-stats');
  await mkdir(dir, { recursive: true });
  const name = statsFileName(data.host, data.pid);
  const updatedAt = data.updatedAt ?? new Date().toISOString();
  await writeFile(
    join(dir, name),
    JSON.stringify({ ...data, startedAt: '2026-01-01T00:00:00.000Z', updatedAt }),
  );
  return name;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

async function booted(files: Record<string, string> = {}): Promise<Application> {
  const app = await apps.create(files);
  await app.boot();
  return app;
}

describe('cache:stats', () => {
  it('adds up the pools of every process file, per pool and store', async () => {
    const app = await booted();
    const root = app.paths.root;
    const gone = await deadPid();
    await writeProcess(root, {
      pid: process.pid,
      host: HOST,
      pools: [
        snapshot('data', { hits: 8, misses: 2, writes: 2 }, [0.2, 0.2, 3]),
        snapshot('views', { hits: 1 }),
      ],
    });
    await writeProcess(root, {
      pid: gone,
      host: HOST,
      pools: [snapshot('data', { hits: 2, misses: 8, evictions: 4 }, [0.2, 600])],
    });
    await writeProcess(root, {
      pid: 99,
      host: 'worker-2.internal',
      pools: [snapshot('data', { hits: 5 }, [], 'redis')],
    });
    const { code, json } = await runCommand(cacheStatsCommand, app);
    expect(code).toBe(0);
    const report = json as CacheStatsReport & { flushInterval: number };
    expect(report.flushInterval).toBe(5);
    expect(report.pools.map((p) => [p.pool, p.store])).toEqual([
      ['data', 'memory'],
      ['data', 'redis'],
      ['views', 'memory'],
    ]);
    expect(report.pools[0]).toMatchObject({
      hits: 10,
      misses: 10,
      writes: 2,
      evictions: 4,
      hitRate: 0.5,
      processes: 2,
      goneProcesses: 1,
      latency: { count: 5 },
      p50Ms: 0.25,
      p99Ms: 1000,
    });
    expect(report.pools[1]).toMatchObject({ hits: 5, processes: 1, goneProcesses: 0 });
    expect(report.pools[2]).toMatchObject({ hits: 1, hitRate: 1, p50Ms: null, meanMs: null });
    expect(report.processes.map((p) => [p.pid, p.state]).sort()).toEqual(
      [
        [process.pid, 'running'],
        [gone, 'gone'],
        [99, 'elsewhere'],
      ].sort(),
    );
    expect(report.removed).toEqual([]);
    // Only one pool's rows with --pool.
    const views = await runCommand(cacheStatsCommand, app, { pool: 'views' });
    expect((views.json as CacheStatsReport).pools.map((p) => p.pool)).toEqual(['views']);
  });

  it('prints a table with hit rate, percentiles and gone processes', async () => {
    const app = await booted();
    const gone = await deadPid();
    await writeProcess(app.paths.root, {
      pid: process.pid,
      host: HOST,
      pools: [snapshot('data', { hits: 3, misses: 1 }, [0.3, 2000])],
    });
    await writeProcess(app.paths.root, {
      pid: gone,
      host: HOST,
      pools: [snapshot('data', { hits: 0, misses: 0, writes: 4 })],
    });
    const { code, stdout } = await runCommand(cacheStatsCommand, app, {}, false);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]?.trimEnd()).toMatch(
      /^pool +store +hits +misses +hit % +writes +deletes +evictions +errors +stale +factory +p50 +p99 +processes$/,
    );
    expect(lines[2]).toMatch(
      /^data +memory +3 +1 +75\.0 +4 +0 +0 +0 +0 +0 +≤0\.5 ms +>1000 ms +2 \(1 gone\)$/,
    );
    expect(stdout).toContain('2 process(es): 1 running, 1 gone');
    expect(stdout).toContain(`gone: pid ${gone} on ${HOST}`);
  });

  it('deletes the files of processes gone for over a day, keeps running ones however old', async () => {
    const app = await booted();
    const root = app.paths.root;
    const old = new Date(Date.now() - DAY - 60_000).toISOString();
    const recent = new Date(Date.now() - DAY + 60_000).toISOString();
    const [a, b] = [await deadPid(), await deadPid()];
    const stale = await writeProcess(root, {
      pid: a,
      host: HOST,
      updatedAt: old,
      pools: [snapshot('data', { hits: 100 })],
    });
    const kept = await writeProcess(root, {
      pid: b,
      host: HOST,
      updatedAt: recent,
      pools: [snapshot('data', { hits: 1 })],
    });
    const alive = await writeProcess(root, {
      pid: process.pid,
      host: HOST,
      updatedAt: old,
      pools: [snapshot('data', { hits: 2 })],
    });
    await writeFile(join(root, 'var/state/cache-stats', `${stale}.ab12.tmp`), '{');
    const { json } = await runCommand(cacheStatsCommand, app);
    const report = json as CacheStatsReport;
    expect(report.removed).toEqual([stale]);
    expect(report.pools[0]).toMatchObject({ hits: 3, processes: 2, goneProcesses: 1 });
    // The fresh temp file of a write in progress is left alone.
    expect((await readdir(join(root, 'var/state/cache-stats'))).sort()).toEqual(
      [alive, kept, `${stale}.ab12.tmp`].sort(),
    );
    const later = await readCacheStats(join(root, 'var/state/cache-stats'), {
      now: new Date(Date.now() + 2 * DAY),
    });
    expect(later.removed).toEqual([kept]);
    expect(await readdir(join(root, 'var/state/cache-stats'))).toEqual([alive]);
  });

  it('--reset deletes every process file and says since when nothing was recorded', async () => {
    const app = await booted();
    const root = app.paths.root;
    const name = await writeProcess(root, {
      pid: process.pid,
      host: HOST,
      pools: [snapshot('data', { hits: 1 })],
    });
    const reset = await runCommand(cacheStatsCommand, app, { reset: true });
    expect(reset).toMatchObject({ code: 0, json: { reset: true, removed: [name] } });
    expect(await readdir(join(root, 'var/state/cache-stats'))).toEqual(['reset.json']);
    const after = await runCommand(cacheStatsCommand, app, {}, false);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(
      /nothing recorded since the reset at \d{4}-\d\d-\d\dT[\d:.]+Z: no process has used a cache pool since then/,
    );
    const json = await runCommand(cacheStatsCommand, app);
    expect(json.json).toMatchObject({ pools: [], processes: [], resetAt: expect.any(String) });
  });

  it('says why nothing is recorded: no process used a pool, or recording is off', async () => {
    const app = await booted();
    const empty = await runCommand(cacheStatsCommand, app, {}, false);
    expect(empty.stdout).toContain(
      'nothing recorded yet: no running process has used a cache pool, nor any process that stopped in the last 24 h.',
    );
    expect(empty.stdout).toContain('every 5 s and at shutdown');
    const off = await booted({
      'config/cache.ts': 'export default { stats: { flushInterval: 0 } };\n',
    });
    const result = await runCommand(cacheStatsCommand, off, {}, false);
    expect(result.stdout).toContain('cache.stats.flushInterval is off');
    expect((await runCommand(cacheStatsCommand, off)).json).toMatchObject({ flushInterval: false });
  });

  it('skips files that are not snapshots, whatever they hold, and names them', async () => {
    const app = await booted();
    const dir = join(app.paths.root, 'var/state/cache-stats');
    await writeProcess(app.paths.root, {
      pid: process.pid,
      host: HOST,
      pools: [snapshot('data', { hits: 4 })],
    });
    const good = snapshot('data', { hits: 1 });
    const bad: Record<string, unknown> = {
      'a-1.json': 'not json',
      'b-2.json': JSON.stringify(null),
      'c-3.json': JSON.stringify({ pid: -3, host: HOST, pools: [] }),
      'd-4.json': JSON.stringify({ pid: 4, host: HOST, startedAt: 'x', updatedAt: 'x', pools: [] }),
      'e-5.json': JSON.stringify({
        pid: 5,
        host: HOST,
        startedAt: good.pool,
        updatedAt: new Date().toISOString(),
        pools: [],
      }),
      'f-6.json': JSON.stringify({
        pid: 6,
        host: 'x',
        startedAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
        pools: [{ ...good, hits: 1e300 }],
      }),
      'g-7.json': JSON.stringify({
        pid: 7,
        host: 'x',
        startedAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
        pools: [{ ...good, latency: { ...good.latency, buckets: [1] } }],
      }),
      'h-8.json':
        '{"pid":8,"host":"x","startedAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","pools":[{"__proto__":{"hits":5}}]}',
    };
    for (const [name, content] of Object.entries(bad))
      await writeFile(join(dir, name), String(content));
    await writeFile(join(dir, 'notes.txt'), 'ignored: not a process file name');
    const { code, json, stderr } = await runCommand(cacheStatsCommand, app);
    expect(code).toBe(0);
    const report = json as CacheStatsReport;
    expect(report.pools).toMatchObject([{ pool: 'data', hits: 4, processes: 1 }]);
    expect(report.skipped.map((s) => s.file)).toEqual(Object.keys(bad));
    expect(report.skipped.map((s) => s.reason)).toEqual([
      'not JSON',
      'not an object',
      'no valid "pid"',
      'no valid "startedAt"',
      'no valid "startedAt"',
      'pools[0]: "hits" is not a count',
      'pools[0]: "latency.buckets" is not 14 counts',
      'pools[0]: bad "pool"',
    ]);
    expect(stderr).toContain('skipped var/state/cache-stats/a-1.json: not JSON');
    expect(({} as Record<string, unknown>).hits).toBeUndefined();
  });

  it('refuses a pool that is not configured', async () => {
    const app = await booted();
    const { code, stderr } = await runCommand(cacheStatsCommand, app, { pool: 'nope' });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'cache pool "nope" is not configured; pools: config, runtime, views, data',
    );
  });
});
