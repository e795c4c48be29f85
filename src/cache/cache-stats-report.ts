import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  type CacheStatsSnapshot,
  COUNTERS,
  LATENCY_BUCKETS_MS,
  latencyPercentile,
  mergeSnapshots,
} from './cache-stats.js';
import { CACHE_STATS_RESET_FILE, type ProcessCacheStats } from './cache-stats-recorder.js';

/** A process file whose process is gone is deleted by `cache:stats` after this long. */
export const GONE_PROCESS_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Snapshot files are small; a larger one is not ours and is skipped unread. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

const PROCESS_FILE = /^[A-Za-z0-9._-]+-\d+\.json$/;
const TEMP_FILE = /\.json\.[0-9a-f]+\.tmp$/;

/** A process that wrote a snapshot file. */
export interface CacheStatsProcess {
  file: string;
  pid: number;
  host: string;
  startedAt: string;
  updatedAt: string;
  /** `running`/`gone` on this host; `elsewhere` when written on another host (not checked). */
  state: 'running' | 'gone' | 'elsewhere';
}

/** The counters of one pool and store, added up over every process that used it. */
export interface CacheStatsRow extends CacheStatsSnapshot {
  /** hits / (hits + misses), 0–1; null before any read. */
  hitRate: number | null;
  /** Mean store latency in ms; null without samples. */
  meanMs: number | null;
  /**
   * The upper bound (ms) of the histogram bucket holding the percentile; `">1000"` past the
   * last bucket; null without samples.
   */
  p50Ms: number | string | null;
  p99Ms: number | string | null;
  /** Processes whose files were added up, and how many of them are gone. */
  processes: number;
  goneProcesses: number;
}

/** What `keel cache:stats --json` prints. */
export interface CacheStatsReport {
  folder: string;
  pools: CacheStatsRow[];
  processes: CacheStatsProcess[];
  /** Files of processes gone for more than 24 hours, deleted by this read. */
  removed: string[];
  /** Files that could not be read as snapshots, with why (left in place). */
  skipped: Array<{ file: string; reason: string }>;
  /** When `cache:stats --reset` last ran (ISO), or null. */
  resetAt: string | null;
}

export interface ReadCacheStatsOptions {
  now?: Date;
  /** This host's name (processes of other hosts are not checked). */
  host?: string;
  /** Whether a pid runs on this host; default: `process.kill(pid, 0)`. */
  isRunning?: (pid: number) => boolean;
  /** Only this pool's rows. */
  pool?: string;
}

/**
 * Read every process's snapshot file under `folder` (`var/state/cache-stats`), add the
 * counters up per pool and store, say which processes are gone, and delete the files of
 * processes gone for more than a day (their counts leave the totals with them).
 *
 * @example
 * ```ts
 * const report = await readCacheStats(join(app.paths.state, 'cache-stats'));
 * for (const row of report.pools) console.log(row.pool, row.hitRate);
 * ```
 */
export async function readCacheStats(
  folder: string,
  options: ReadCacheStatsOptions = {},
): Promise<CacheStatsReport> {
  const now = (options.now ?? new Date()).getTime();
  const host = options.host ?? hostname();
  const isRunning = options.isRunning ?? isProcessRunning;
  const report: CacheStatsReport = {
    folder,
    pools: [],
    processes: [],
    removed: [],
    skipped: [],
    resetAt: await readResetMarker(folder),
  };
  const names = await readdir(folder).catch(() => [] as string[]);
  const kept: ProcessCacheStats[] = [];
  const gone = new Set<ProcessCacheStats>();
  for (const name of names.sort()) {
    const file = join(folder, name);
    if (TEMP_FILE.test(name)) {
      // Left by a writer that died between write and rename.
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > GONE_PROCESS_RETENTION_MS) await rm(file, { force: true });
      continue;
    }
    if (!PROCESS_FILE.test(name)) continue;
    const data = await readProcessFile(file);
    if (typeof data === 'string') {
      report.skipped.push({ file: name, reason: data });
      continue;
    }
    const state =
      data.host !== host ? 'elsewhere' : isRunning(data.pid) ? 'running' : ('gone' as const);
    if (state === 'gone' && now - Date.parse(data.updatedAt) > GONE_PROCESS_RETENTION_MS) {
      await rm(file, { force: true });
      report.removed.push(name);
      continue;
    }
    report.processes.push({ file: name, ...pick(data), state });
    kept.push(data);
    if (state === 'gone') gone.add(data);
  }
  const groups = new Map<string, { snapshots: CacheStatsSnapshot[]; gone: number }>();
  for (const data of kept) {
    for (const snapshot of data.pools) {
      if (options.pool !== undefined && snapshot.pool !== options.pool) continue;
      const key = `${snapshot.pool}\0${snapshot.store}`;
      const group = groups.get(key) ?? { snapshots: [], gone: 0 };
      group.snapshots.push(snapshot);
      if (gone.has(data)) group.gone++;
      groups.set(key, group);
    }
  }
  report.pools = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) => row(mergeSnapshots(group.snapshots), group));
  return report;
}

/**
 * Delete every process's snapshot file and leave a reset marker: running processes count
 * from their next flush on. Returns the names of the files deleted.
 *
 * @example
 * ```ts
 * await resetCacheStats(join(app.paths.state, 'cache-stats'));
 * ```
 */
export async function resetCacheStats(folder: string, now = new Date()): Promise<string[]> {
  // The marker first: a process that flushes after the files are gone must see it.
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, CACHE_STATS_RESET_FILE),
    `${JSON.stringify({ at: now.toISOString() })}\n`,
  );
  const removed: string[] = [];
  for (const name of await readdir(folder)) {
    if (!PROCESS_FILE.test(name)) continue;
    await rm(join(folder, name), { force: true });
    removed.push(name);
  }
  return removed.sort();
}

/** Whether `pid` is a running process on this host (one owned by another user counts). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function row(
  merged: CacheStatsSnapshot,
  group: { snapshots: CacheStatsSnapshot[]; gone: number },
): CacheStatsRow {
  const reads = merged.hits + merged.misses;
  const percentile = (p: number): number | string | null => {
    const ms = latencyPercentile(merged.latency, p);
    if (ms === undefined) return null;
    return Number.isFinite(ms) ? ms : `>${LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]}`;
  };
  return {
    ...merged,
    hitRate: reads === 0 ? null : merged.hits / reads,
    meanMs: merged.latency.count === 0 ? null : merged.latency.sumMs / merged.latency.count,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    processes: group.snapshots.length,
    goneProcesses: group.gone,
  };
}

function pick(data: ProcessCacheStats): Omit<CacheStatsProcess, 'file' | 'state'> {
  return { pid: data.pid, host: data.host, startedAt: data.startedAt, updatedAt: data.updatedAt };
}

async function readResetMarker(folder: string): Promise<string | null> {
  try {
    const marker = JSON.parse(await readFile(join(folder, CACHE_STATS_RESET_FILE), 'utf8')) as {
      at?: unknown;
    } | null;
    const at = marker?.at;
    return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? at : null;
  } catch {
    return null;
  }
}

/** A process file's content, or why it is not one (another version, a hand edit, junk). */
async function readProcessFile(file: string): Promise<ProcessCacheStats | string> {
  let text: string;
  try {
    const info = await stat(file);
    if (info.size > MAX_FILE_BYTES) return `larger than ${MAX_FILE_BYTES} bytes`;
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (data === null || typeof data !== 'object') return 'not an object';
  const d = data as Record<string, unknown>;
  if (!Number.isSafeInteger(d.pid) || (d.pid as number) <= 0) return 'no valid "pid"';
  if (typeof d.host !== 'string' || d.host === '') return 'no valid "host"';
  for (const field of ['startedAt', 'updatedAt'] as const) {
    if (typeof d[field] !== 'string' || Number.isNaN(Date.parse(d[field] as string)))
      return `no valid "${field}"`;
  }
  if (!Array.isArray(d.pools)) return 'no "pools" array';
  for (const [i, pool] of d.pools.entries()) {
    const problem = snapshotProblem(pool);
    if (problem !== undefined) return `pools[${i}]: ${problem}`;
  }
  return data as ProcessCacheStats;
}

function snapshotProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'not an object';
  const s = value as Record<string, unknown>;
  if (typeof s.pool !== 'string' || s.pool === '' || s.pool.length > 100) return 'bad "pool"';
  if (typeof s.store !== 'string' || s.store === '' || s.store.length > 100) return 'bad "store"';
  for (const field of COUNTERS) {
    if (!isCount(s[field])) return `"${field}" is not a count`;
  }
  const latency = s.latency as Record<string, unknown> | null | undefined;
  if (latency === null || typeof latency !== 'object') return 'no "latency"';
  if (!isCount(latency.count)) return '"latency.count" is not a count';
  if (typeof latency.sumMs !== 'number' || !(latency.sumMs >= 0) || !Number.isFinite(latency.sumMs))
    return '"latency.sumMs" is not a duration';
  const buckets = latency.buckets;
  if (
    !Array.isArray(buckets) ||
    buckets.length !== LATENCY_BUCKETS_MS.length + 1 ||
    !buckets.every(isCount)
  )
    return `"latency.buckets" is not ${LATENCY_BUCKETS_MS.length + 1} counts`;
  return undefined;
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
