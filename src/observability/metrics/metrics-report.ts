import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  addDelta,
  emptyTotals,
  type MetricsTotals,
  type ProcessMetricsSnapshot,
  SNAPSHOT_HOURS,
} from './metrics-snapshots.js';

const PROCESS_FILE = /^[A-Za-z0-9._-]+-\d+\.json$/;
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const HOUR_MS = 3_600_000;

/** Requests of one route over the window, with percentiles read from the histogram buckets. */
export interface RouteSummary {
  method: string;
  route: string;
  requests: number;
  errors: number;
  /** errors / requests, 0–1. */
  errorRate: number;
  /** Upper bound (seconds) of the bucket holding the percentile; a string past the last bound. */
  p50: number | string | null;
  p95: number | string | null;
  p99: number | string | null;
}

/** What `keel metrics:show --json` prints. */
export interface MetricsSummary {
  hours: number;
  /** ISO start of the oldest hour in the window, and the time of the read. */
  from: string;
  to: string;
  processes: Array<{
    pid: number;
    host: string;
    updatedAt: string;
    state: 'running' | 'gone' | 'elsewhere';
  }>;
  requests: { total: number; errors: number; errorRate: number | null };
  routes: RouteSummary[];
  hourly: Array<{ hour: string; requests: number; errors: number; p95: number | string | null }>;
  queries: Array<{
    connection: string;
    count: number;
    errors: number;
    slow: number;
    meanMs: number | null;
  }>;
  cache: Array<{
    pool: string;
    hits: number;
    misses: number;
    writes: number;
    hitRate: number | null;
  }>;
  jobs: Array<{ queue: string; processed: number; failed: number; retried: number }>;
  /** Files that are not snapshots, with why (left in place). */
  skipped: Array<{ file: string; reason: string }>;
}

export interface ReadMetricsOptions {
  /** The window, in hours back from now (1–48, default 24). */
  hours?: number;
  now?: Date;
  host?: string;
  isRunning?: (pid: number) => boolean;
}

/**
 * Read every process's snapshot under `folder` (`var/state/metrics`), add the hours of the
 * window up over processes, and summarise: requests, error rate, latency percentiles per
 * route (from the histogram buckets), database, cache and job counts, and an hourly
 * breakdown. Files of processes gone for longer than the 48 hours kept are deleted.
 *
 * @example
 * ```ts
 * const summary = await readMetricsSummary(join(app.paths.state, 'metrics'), { hours: 6 });
 * ```
 */
export async function readMetricsSummary(
  folder: string,
  options: ReadMetricsOptions = {},
): Promise<MetricsSummary> {
  const now = options.now ?? new Date();
  const hours = Math.min(Math.max(1, Math.floor(options.hours ?? 24)), SNAPSHOT_HOURS);
  const host = options.host ?? hostname();
  const isRunning = options.isRunning ?? processRunning;
  const firstHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
  const summary: MetricsSummary = {
    hours,
    from: new Date(firstHour).toISOString(),
    to: now.toISOString(),
    processes: [],
    requests: { total: 0, errors: 0, errorRate: null },
    routes: [],
    hourly: [],
    queries: [],
    cache: [],
    jobs: [],
    skipped: [],
  };
  const total = emptyTotals();
  const byHour = new Map<string, MetricsTotals>();
  const kept: ProcessMetricsSnapshot[] = [];
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (!PROCESS_FILE.test(name)) continue;
    const data = await readSnapshot(join(folder, name));
    if (typeof data === 'string') {
      summary.skipped.push({ file: name, reason: data });
      continue;
    }
    const state = data.host !== host ? 'elsewhere' : isRunning(data.pid) ? 'running' : 'gone';
    if (state === 'gone' && now.getTime() - Date.parse(data.updatedAt) > SNAPSHOT_HOURS * HOUR_MS) {
      await rm(join(folder, name), { force: true });
      continue;
    }
    summary.processes.push({ pid: data.pid, host: data.host, updatedAt: data.updatedAt, state });
    kept.push(data);
  }
  // Latency buckets add up only over the same bounds: those of most requests win (processes
  // with other `metrics.buckets` still count their requests, not their latencies).
  const weight = new Map<string, number>();
  for (const data of kept)
    for (const hour of data.hours)
      for (const r of Object.values(hour.requests))
        weight.set(data.bounds.join(), (weight.get(data.bounds.join()) ?? 0) + r.count);
  const heaviest = [...weight].sort((x, y) => y[1] - x[1])[0]?.[0];
  const bounds = kept.find((data) => data.bounds.join() === heaviest)?.bounds;
  for (const data of kept) {
    const sameBounds = data.bounds.join() === heaviest;
    for (const hour of data.hours) {
      if (Date.parse(hour.hour) < firstHour) continue;
      const counts = sameBounds ? hour : withoutBuckets(hour);
      addDelta(total, counts, emptyTotals());
      addDelta(byHour.get(hour.hour) ?? setGet(byHour, hour.hour), counts, emptyTotals());
    }
  }
  const b = bounds ?? [];
  for (const [key, t] of Object.entries(total.requests)) {
    const space = key.indexOf(' ');
    summary.routes.push({
      method: space < 0 ? '' : key.slice(0, space),
      route: key.slice(space + 1),
      requests: t.count,
      errors: t.errors,
      errorRate: t.count === 0 ? 0 : t.errors / t.count,
      p50: percentile(t.buckets, b, 50),
      p95: percentile(t.buckets, b, 95),
      p99: percentile(t.buckets, b, 99),
    });
    summary.requests.total += t.count;
    summary.requests.errors += t.errors;
  }
  summary.routes.sort((x, y) => y.requests - x.requests || (x.route < y.route ? -1 : 1));
  summary.requests.errorRate =
    summary.requests.total === 0 ? null : summary.requests.errors / summary.requests.total;
  for (const [hour, t] of [...byHour].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const all = Object.values(t.requests);
    const merged = all.reduce<number[]>((acc, r) => r.buckets.map((n, i) => n + (acc[i] ?? 0)), []);
    summary.hourly.push({
      hour,
      requests: all.reduce((n, r) => n + r.count, 0),
      errors: all.reduce((n, r) => n + r.errors, 0),
      p95: percentile(merged, b, 95),
    });
  }
  for (const [connection, q] of Object.entries(total.queries))
    summary.queries.push({
      connection,
      ...q,
      meanMs: q.count === 0 ? null : (q.sum / q.count) * 1000,
    });
  for (const [pool, c] of Object.entries(total.cache)) {
    const reads = c.hits + c.misses;
    summary.cache.push({ pool, ...c, hitRate: reads === 0 ? null : c.hits / reads });
  }
  for (const [queue, j] of Object.entries(total.jobs)) summary.jobs.push({ queue, ...j });
  return summary;
}

function setGet(map: Map<string, MetricsTotals>, key: string): MetricsTotals {
  const value = emptyTotals();
  map.set(key, value);
  return value;
}

function withoutBuckets(t: MetricsTotals): MetricsTotals {
  const requests = Object.fromEntries(
    Object.entries(t.requests).map(([k, r]) => [k, { ...r, buckets: [] }]),
  );
  return { ...t, requests };
}

/** The upper bound of the bucket holding the `p`-th percentile; `">last"` past the last bound. */
export function percentile(
  buckets: readonly number[],
  bounds: readonly number[],
  p: number,
): number | string | null {
  const count = buckets.reduce((n, c) => n + c, 0);
  if (count === 0) return null;
  const rank = Math.ceil((p / 100) * count);
  let seen = 0;
  for (const [i, n] of buckets.entries()) {
    seen += n;
    if (seen >= rank) return bounds[i] ?? `>${bounds.at(-1) ?? 0}`;
  }
  return `>${bounds.at(-1) ?? 0}`;
}

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A snapshot file's content, or why it is not one. */
async function readSnapshot(file: string): Promise<ProcessMetricsSnapshot | string> {
  let text: string;
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) return `larger than ${MAX_FILE_BYTES} bytes`;
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
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'not an object';
  const d = data as Record<string, unknown>;
  if (!Number.isSafeInteger(d.pid) || (d.pid as number) <= 0) return 'no valid "pid"';
  if (typeof d.host !== 'string' || d.host === '') return 'no valid "host"';
  if (typeof d.updatedAt !== 'string' || Number.isNaN(Date.parse(d.updatedAt)))
    return 'no valid "updatedAt"';
  if (!Array.isArray(d.bounds) || !d.bounds.every(isCount)) return 'no valid "bounds"';
  if (!Array.isArray(d.hours)) return 'no "hours" array';
  for (const [i, h] of d.hours.entries()) {
    const problem = hourProblem(h);
    if (problem !== undefined) return `hours[${i}]: ${problem}`;
  }
  return data as ProcessMetricsSnapshot;
}

function hourProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'not an object';
  const h = value as Record<string, unknown>;
  if (typeof h.hour !== 'string' || Number.isNaN(Date.parse(h.hour))) return 'bad "hour"';
  for (const section of ['requests', 'queries', 'cache', 'jobs']) {
    const entries = h[section];
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries))
      return `"${section}" is not an object`;
    for (const [key, fields] of Object.entries(entries as Record<string, unknown>)) {
      if (key.length > 500 || fields === null || typeof fields !== 'object')
        return `bad "${section}" entry`;
      for (const [field, v] of Object.entries(fields as Record<string, unknown>)) {
        if (field === 'buckets') {
          if (!Array.isArray(v) || v.length > 100 || !v.every(isCount))
            return `"${section}.${key.slice(0, 50)}.buckets" are not counts`;
        } else if (!isCount(v)) return `"${section}.${key.slice(0, 50)}.${field}" is not a count`;
      }
    }
  }
  return undefined;
}
