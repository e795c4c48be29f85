import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isProcessSnapshotFile,
  type ProcessState,
  readProcessSnapshots,
} from '../support/index.js';
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

/** A process that wrote a snapshot file. */
export interface CacheStatsProcess {
  file: string;
  pid: number;
  host: string;
  startedAt: string;
  updatedAt: string;
  /** `running`/`gone` on this host; `elsewhere` when written on another host (not checked). */
  state: ProcessState;
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
  const resetAt = await readResetMarker(folder);
  const read = await readProcessSnapshots(folder, parseProcessFile, {
    ...options,
    goneRetentionMs: GONE_PROCESS_RETENTION_MS,
    maxBytes: MAX_FILE_BYTES,
    timestamps: ['startedAt', 'updatedAt'],
  });
  const report: CacheStatsReport = {
    folder,
    pools: [],
    processes: read.snapshots.map(({ file, state, data }) => ({ file, ...pick(data), state })),
    removed: read.removed,
    skipped: read.skipped,
    resetAt,
  };
  const groups = new Map<string, { snapshots: CacheStatsSnapshot[]; gone: number }>();
  for (const { state, data } of read.snapshots) {
    for (const snapshot of data.pools) {
      if (options.pool !== undefined && snapshot.pool !== options.pool) continue;
      const key = `${snapshot.pool}\0${snapshot.store}`;
      const group = groups.get(key) ?? { snapshots: [], gone: 0 };
      group.snapshots.push(snapshot);
      if (state === 'gone') group.gone++;
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
    if (!isProcessSnapshotFile(name)) continue;
    await rm(join(folder, name), { force: true });
    removed.push(name);
  }
  return removed.sort();
}

// Still exported from here, as the cache's public API has it; it lives in support.
export { isProcessRunning } from '../support/index.js';

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

/**
 * The rest of a process file, once `readProcessSnapshots` checked its pid, host and times:
 * the snapshot, or why it is not one (another version, a hand edit, junk).
 */
function parseProcessFile(d: Record<string, unknown>): ProcessCacheStats | string {
  if (!Array.isArray(d.pools)) return 'no "pools" array';
  for (const [i, pool] of d.pools.entries()) {
    const problem = snapshotProblem(pool);
    if (problem !== undefined) return `pools[${i}]: ${problem}`;
  }
  return d as unknown as ProcessCacheStats;
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
