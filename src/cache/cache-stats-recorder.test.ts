import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { providerApps } from '../../test/support/provider-app.js';
import { DatabaseProvider } from '../db/db-provider.js';
import { CacheProvider } from './cache-provider.js';
import { CacheStats, type CacheStatsSnapshot } from './cache-stats.js';
import {
  CacheStatsRecorder,
  type ProcessCacheStats,
  statsFileName,
  subtractSnapshot,
} from './cache-stats-recorder.js';
import { resetCacheStats } from './cache-stats-report.js';

const folders: string[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-cache-stats-'));
  folders.push(dir);
  return join(dir, 'cache-stats');
}

async function readJson(file: string): Promise<ProcessCacheStats> {
  return JSON.parse(await readFile(file, 'utf8')) as ProcessCacheStats;
}

describe('CacheStatsRecorder', () => {
  it('writes nothing until a pool counts something, then the process file, atomically', async () => {
    const dir = await folder();
    const data = new CacheStats('data', 'memory');
    const recorder = new CacheStatsRecorder({
      folder: dir,
      stats: () => [data.snapshot()],
      intervalMs: 0,
      pid: 4242,
      host: 'web 1/a',
      now: () => new Date('2026-03-01T10:00:00.000Z'),
    });
    // A CLI command boots the app and touches no pool (or only reads names): no file.
    expect(await recorder.flush()).toBe(false);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
    data.hits += 3;
    data.misses += 1;
    data.observe(0.3);
    expect(await recorder.flush()).toBe(true);
    // The host is reduced to safe characters in the name, kept as is in the content.
    expect(await readdir(dir)).toEqual(['web_1_a-4242.json']);
    expect(recorder.file).toBe(join(dir, 'web_1_a-4242.json'));
    const written = await readJson(recorder.file);
    expect(written).toEqual({
      pid: 4242,
      host: 'web 1/a',
      startedAt: '2026-03-01T10:00:00.000Z',
      updatedAt: '2026-03-01T10:00:00.000Z',
      pools: [data.snapshot()],
    });
    expect(written.pools[0]).toMatchObject({ pool: 'data', hits: 3, misses: 1 });
  });

  it('names files by host and pid, never with path characters', () => {
    expect(statsFileName('api.example.com', 12)).toBe('api.example.com-12.json');
    expect(statsFileName('../../etc/passwd', 1)).toBe('.._.._etc_passwd-1.json');
    expect(statsFileName('', 7)).toBe('host-7.json');
  });

  it('writes on its unref-ed timer and once more at stop, then no more', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const dir = await folder();
    const data = new CacheStats('data', 'memory');
    data.writes = 1;
    let reads = 0;
    const recorder = new CacheStatsRecorder({
      folder: dir,
      stats: () => {
        reads++;
        return [data.snapshot()];
      },
      intervalMs: 5_000,
    });
    recorder.start();
    recorder.start(); // a second start does not add a timer
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    await recorder.stop();
    expect(vi.getTimerCount()).toBe(0);
    // Two ticks and the final write.
    expect(reads).toBe(3);
    expect((await readJson(recorder.file)).pools[0]?.writes).toBe(1);
  });

  it('reports a failing write once and never throws', async () => {
    const dir = await folder();
    // A file where the folder should be: every write fails.
    await writeFile(join(dir, '..', 'blocker'), '');
    const data = new CacheStats('data', 'memory');
    data.hits = 1;
    const onError = vi.fn();
    const recorder = new CacheStatsRecorder({
      folder: join(dir, '..', 'blocker', 'cache-stats'),
      stats: () => [data.snapshot()],
      intervalMs: 0,
      onError,
    });
    expect(await recorder.flush()).toBe(false);
    expect(await recorder.flush()).toBe(false);
    await recorder.stop();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'ENOTDIR' });
  });

  it('counts from a reset on: the file holds the difference, memory keeps its counters', async () => {
    const dir = await folder();
    const data = new CacheStats('data', 'memory');
    let clock = new Date('2026-03-01T10:00:00.000Z');
    const recorder = new CacheStatsRecorder({
      folder: dir,
      stats: () => [data.snapshot()],
      intervalMs: 0,
      now: () => clock,
    });
    data.hits = 10;
    data.observe(2);
    await recorder.flush();
    clock = new Date('2026-03-01T10:01:00.000Z');
    expect(await resetCacheStats(dir, clock)).toEqual([statsFileName(hostname(), process.pid)]);
    expect(await readdir(dir)).toEqual(['reset.json']);
    // Nothing since the reset: nothing written.
    expect(await recorder.flush()).toBe(false);
    data.hits += 2;
    data.misses += 1;
    expect(await recorder.flush()).toBe(true);
    const pool = (await readJson(recorder.file)).pools[0];
    expect(pool).toMatchObject({ hits: 2, misses: 1, latency: { count: 0, sumMs: 0 } });
    expect(data.hits).toBe(12);
    // An old marker (before this recorder started) changes nothing.
    const late = new CacheStatsRecorder({
      folder: dir,
      stats: () => [data.snapshot()],
      intervalMs: 0,
      pid: 1,
      host: 'other',
      now: () => new Date('2026-03-02T00:00:00.000Z'),
    });
    await late.flush();
    expect((await readJson(late.file)).pools[0]?.hits).toBe(12);
  });

  it('subtracts a baseline without going below zero', () => {
    const a = new CacheStats('data', 'memory');
    a.hits = 5;
    a.observe(1);
    const base: CacheStatsSnapshot = { ...a.snapshot(), evictions: 9 };
    a.hits = 7;
    a.observe(30);
    expect(subtractSnapshot(a.snapshot(), base)).toMatchObject({
      hits: 2,
      evictions: 0,
      latency: { count: 1, sumMs: 30 },
    });
    expect(subtractSnapshot(a.snapshot(), undefined)).toEqual(a.snapshot());
  });
});

describe('CacheProvider statistics', () => {
  const apps = providerApps([DatabaseProvider, CacheProvider]);
  const file = (root: string) =>
    join(root, 'var/state/cache-stats', statsFileName(hostname(), process.pid));

  it('writes the used pools to var/state/cache-stats at shutdown', async () => {
    // The test environment records nothing unless asked: these tests ask.
    const { root } = await apps.fixture({
      'config/cache.ts': 'export default { stats: { flushInterval: 5 } };\n',
    });
    const app = await apps.create(root);
    await app.boot();
    const cache = app.make('cache');
    await cache.pool('views').set('page', '<p>');
    await cache.pool('views').get('page');
    cache.pool('data').stats.misses += 2;
    await app.shutdown();
    const written = await readJson(file(root));
    expect(written).toMatchObject({ pid: process.pid, host: hostname() });
    expect(written.pools.map((p) => p.pool).sort()).toEqual(['data', 'views']);
    expect(written.pools.find((p) => p.pool === 'data')).toMatchObject({ misses: 2 });
    expect(written.pools.find((p) => p.pool === 'views')?.hits).toBeGreaterThanOrEqual(1);
  });

  it('records nothing by default in the test environment', async () => {
    const { root } = await apps.fixture();
    const app = await apps.create(root);
    await app.boot();
    await app.make('cache').pool('views').set('page', '<p>');
    await app.shutdown();
    await expect(readFile(file(root))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves no file for a process that used no pool (a CLI command)', async () => {
    const { root } = await apps.fixture({
      'config/cache.ts': 'export default { stats: { flushInterval: 5 } };\n',
    });
    const app = await apps.create(root);
    await app.boot();
    app.make('cache').names();
    await app.shutdown();
    await expect(readFile(file(root))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes nothing when cache.stats.flushInterval is false', async () => {
    const { root } = await apps.fixture({
      'config/cache.ts': 'export default { stats: { flushInterval: false } };\n',
    });
    const app = await apps.create(root);
    await app.boot();
    app.make('cache').pool('data').stats.hits += 1;
    await app.shutdown();
    await expect(readFile(file(root))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a flushInterval that is not seconds or false', async () => {
    for (const value of ["'5s'", '-1', 'true', '1e9']) {
      const app = await apps.create({
        'config/cache.ts': `export default { stats: { flushInterval: ${value} } };\n`,
      });
      const error = await app.boot().catch((e: unknown) => e);
      expect(((error as Error).cause as Error).cause, value).toMatchObject({
        code: 'E_CACHE_CONFIG_INVALID',
        message: expect.stringContaining('stats.flushInterval'),
      });
    }
  });
});
