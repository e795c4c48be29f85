import { type ProcessState, readProcessSnapshots } from '../../support/index.js';
import {
  addDelta,
  emptyTotals,
  type MetricsTotals,
  type ProcessMetricsSnapshot,
  SNAPSHOT_HOURS,
} from './metrics-snapshots.js';

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
    state: ProcessState;
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
  const firstHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
  const read = await readProcessSnapshots(folder, parseSnapshot, {
    ...options,
    now,
    goneRetentionMs: SNAPSHOT_HOURS * HOUR_MS,
    maxBytes: MAX_FILE_BYTES,
  });
  const summary: MetricsSummary = {
    hours,
    from: new Date(firstHour).toISOString(),
    to: now.toISOString(),
    processes: read.snapshots.map(({ state, data }) => ({
      pid: data.pid,
      host: data.host,
      updatedAt: data.updatedAt,
      state,
    })),
    requests: { total: 0, errors: 0, errorRate: null },
    routes: [],
    hourly: [],
    queries: [],
    cache: [],
    jobs: [],
    skipped: read.skipped,
  };
  const total = emptyTotals();
  const byHour = new Map<string, MetricsTotals>();
  const kept = read.snapshots.map(({ data }) => data);
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

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * The rest of a snapshot file, once `readProcessSnapshots` checked its pid, host and
 * `updatedAt`: the snapshot, or why it is not one.
 */
function parseSnapshot(d: Record<string, unknown>): ProcessMetricsSnapshot | string {
  if (!Array.isArray(d.bounds) || !d.bounds.every(isCount)) return 'no valid "bounds"';
  if (!Array.isArray(d.hours)) return 'no "hours" array';
  for (const [i, h] of d.hours.entries()) {
    const problem = hourProblem(h);
    if (problem !== undefined) return `hours[${i}]: ${problem}`;
  }
  return d as unknown as ProcessMetricsSnapshot;
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
