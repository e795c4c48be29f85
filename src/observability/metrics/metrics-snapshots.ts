import { PeriodicSnapshotWriter } from '../../support/index.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** The folder of per-process snapshot files, under the app's `var/state`. */
export const METRICS_SNAPSHOT_FOLDER = 'metrics';

/** Hourly buckets a snapshot file keeps (and `metrics:show --hours` can reach). */
export const SNAPSHOT_HOURS = 48;

/** Seconds between two snapshot writes when `metrics.snapshotInterval` is not set. */
export const DEFAULT_SNAPSHOT_SECONDS = 10;

/** Requests of one method and route pattern. */
export interface RouteTotals {
  count: number;
  /** Answered with a 5xx status. */
  errors: number;
  /** Seconds, summed. */
  sum: number;
  /** Per-bucket counts (not cumulative) over `bounds`, the last one past the last bound. */
  buckets: number[];
}

/** What one hour (or a process's lifetime) counted. */
export interface MetricsTotals {
  /** Keyed `METHOD route`. */
  requests: Record<string, RouteTotals>;
  /** Keyed by connection. */
  queries: Record<string, { count: number; errors: number; slow: number; sum: number }>;
  /** Keyed by pool. */
  cache: Record<string, { hits: number; misses: number; writes: number }>;
  /** Keyed by queue. */
  jobs: Record<string, { processed: number; failed: number; retried: number }>;
}

/** One hour of a process's counts: `hour` is the ISO start of the hour (UTC). */
export interface HourTotals extends MetricsTotals {
  hour: string;
}

/** What one process writes to `var/state/metrics/<host>-<pid>.json`. */
export interface ProcessMetricsSnapshot {
  pid: number;
  host: string;
  startedAt: string;
  updatedAt: string;
  /** The request duration bucket bounds (seconds) of `RouteTotals.buckets`. */
  bounds: number[];
  /** Newest last, at most {@link SNAPSHOT_HOURS}. */
  hours: HourTotals[];
}

/** Empty totals; null-prototype maps, as their keys come from files and labels. */
export function emptyTotals(): MetricsTotals {
  return {
    requests: Object.create(null),
    queries: Object.create(null),
    cache: Object.create(null),
    jobs: Object.create(null),
  };
}

const num = (v: number | undefined): number => v ?? 0;

/** `map[key]`, created by `make` on first use. */
function entry<T>(map: Record<string, T>, key: string, make: () => T): T {
  let value = map[key];
  if (value === undefined) {
    value = make();
    map[key] = value;
  }
  return value;
}

/**
 * This process's cumulative counts, read from the registry's series (no collector runs:
 * cache counters are read from the pools by `cacheStats`).
 */
export function readTotals(
  registry: MetricsRegistry,
  cacheStats?: () => Array<{ pool: string; hits: number; misses: number; writes: number }>,
): { totals: MetricsTotals; bounds: number[] } {
  const totals = emptyTotals();
  const requests = registry.snapshot('http_requests_total');
  for (const v of requests?.values ?? []) {
    const key = `${v.labels.method} ${v.labels.route}`;
    const t = entry(totals.requests, key, () => ({ count: 0, errors: 0, sum: 0, buckets: [] }));
    t.count += v.value;
    if (Number(v.labels.status) >= 500) t.errors += v.value;
  }
  const histogram = registry.get('http_request_duration_seconds');
  const bounds = histogram && 'buckets' in histogram ? [...histogram.buckets] : [];
  const prefix = registry.prefix;
  for (const v of histogram?.get().values ?? []) {
    const key = `${v.labels.method} ${v.labels.route}`;
    const t = entry(totals.requests, key, () => ({ count: 0, errors: 0, sum: 0, buckets: [] }));
    if (v.metricName === `${prefix}http_request_duration_seconds_sum`) t.sum += v.value;
    else if (v.metricName === `${prefix}http_request_duration_seconds_bucket`)
      t.buckets.push(v.value);
  }
  // Cumulative `le` counts into per-bucket counts.
  for (const t of Object.values(totals.requests))
    for (let i = t.buckets.length - 1; i > 0; i--)
      t.buckets[i] = (t.buckets[i] as number) - (t.buckets[i - 1] as number);
  const byConnection = (name: string, field: 'count' | 'errors' | 'slow' | 'sum') => {
    for (const v of registry.snapshot(name)?.values ?? []) {
      if (field === 'sum' && !v.metricName?.endsWith('_sum')) continue;
      const connection = String(v.labels.connection);
      const q = entry(totals.queries, connection, () => ({ count: 0, errors: 0, slow: 0, sum: 0 }));
      q[field] += v.value;
    }
  };
  byConnection('db_queries_total', 'count');
  byConnection('db_query_errors_total', 'errors');
  byConnection('db_slow_queries_total', 'slow');
  byConnection('db_query_duration_seconds', 'sum');
  for (const s of cacheStats?.() ?? []) {
    const c = entry(totals.cache, s.pool, () => ({ hits: 0, misses: 0, writes: 0 }));
    c.hits += s.hits;
    c.misses += s.misses;
    c.writes += s.writes;
  }
  for (const [name, field] of [
    ['queue_jobs_processed_total', 'processed'],
    ['queue_jobs_failed_total', 'failed'],
    ['queue_jobs_retried_total', 'retried'],
  ] as const) {
    for (const v of registry.snapshot(name)?.values ?? []) {
      const j = entry(totals.jobs, String(v.labels.queue), () => ({
        processed: 0,
        failed: 0,
        retried: 0,
      }));
      j[field] += v.value;
    }
  }
  return { totals, bounds };
}

/** `into += current - previous`, field by field (a counter that went down counts afresh). */
export function addDelta(
  into: MetricsTotals,
  current: MetricsTotals,
  previous: MetricsTotals,
): boolean {
  let changed = false;
  const d = (a: number, b: number | undefined): number => {
    const delta = a >= num(b) ? a - num(b) : a;
    if (delta !== 0) changed = true;
    return delta;
  };
  for (const [key, t] of Object.entries(current.requests)) {
    const p = previous.requests[key];
    const i = entry(into.requests, key, () => ({
      count: 0,
      errors: 0,
      sum: 0,
      buckets: t.buckets.map(() => 0),
    }));
    i.count += d(t.count, p?.count);
    i.errors += d(t.errors, p?.errors);
    i.sum += d(t.sum, p?.sum);
    t.buckets.forEach((n, k) => {
      i.buckets[k] = num(i.buckets[k]) + d(n, p?.buckets[k]);
    });
  }
  for (const section of ['queries', 'cache', 'jobs'] as const) {
    const cur = current[section] as Record<string, Record<string, number>>;
    const prev = previous[section] as Record<string, Record<string, number>>;
    const target = into[section] as Record<string, Record<string, number>>;
    for (const [key, fields] of Object.entries(cur)) {
      const t = entry(target, key, () => Object.create(null) as Record<string, number>);
      for (const [field, value] of Object.entries(fields))
        t[field] = num(t[field]) + d(value, prev[key]?.[field]);
    }
  }
  return changed;
}

export interface MetricsSnapshotRecorderOptions {
  folder: string;
  /** This process's cumulative totals now. */
  read: () => { totals: MetricsTotals; bounds: number[] };
  intervalMs: number;
  onError?: (error: unknown) => void;
  now?: () => Date;
  pid?: number;
  host?: string;
}

/**
 * Writes this process's counts, by hour, to `var/state/metrics/<host>-<pid>.json` every
 * `intervalMs` (unref'd timer) and at `stop()`, so that `keel metrics:show`, another
 * process, can add up every serving process and worker over the last hours. Only a process
 * that counted something writes a file; at most {@link SNAPSHOT_HOURS} hours are kept.
 *
 * @example
 * ```ts
 * const recorder = new MetricsSnapshotRecorder({ folder, read: () => readTotals(registry), intervalMs: 10_000 });
 * recorder.start();
 * ```
 */
export class MetricsSnapshotRecorder {
  readonly file: string;
  readonly #options: MetricsSnapshotRecorderOptions;
  readonly #writer: PeriodicSnapshotWriter<Pick<ProcessMetricsSnapshot, 'bounds' | 'hours'>>;
  #previous: MetricsTotals = emptyTotals();
  #hours: HourTotals[] = [];
  #active = false;

  constructor(options: MetricsSnapshotRecorderOptions) {
    this.#options = options;
    // The writer takes the folder, interval, clock and identity as they are.
    this.#writer = new PeriodicSnapshotWriter({
      ...options,
      snapshot: (now) => this.#snapshot(now),
    });
    this.file = this.#writer.file;
  }

  /** Whether `start()` was called (and `stop()` not yet). */
  get started(): boolean {
    return this.#writer.started;
  }

  start(): void {
    this.#writer.start();
  }

  /** Fold the counts since the last flush into the current hour and write; never rejects. */
  flush(): Promise<boolean> {
    return this.#writer.flush();
  }

  stop(): Promise<void> {
    return this.#writer.stop();
  }

  #snapshot(now: Date): Pick<ProcessMetricsSnapshot, 'bounds' | 'hours'> | undefined {
    const { totals, bounds } = this.#options.read();
    const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000).toISOString();
    let bucket = this.#hours.at(-1);
    if (bucket?.hour !== hour) {
      bucket = { hour, ...emptyTotals() };
      this.#hours.push(bucket);
      if (this.#hours.length > SNAPSHOT_HOURS) this.#hours = this.#hours.slice(-SNAPSHOT_HOURS);
    }
    if (addDelta(bucket, totals, this.#previous)) this.#active = true;
    this.#previous = totals;
    if (!this.#active) return undefined;
    return { bounds, hours: this.#hours.filter((h) => h !== bucket || hasCounts(h)) };
  }
}

function hasCounts(t: MetricsTotals): boolean {
  return (
    Object.keys(t.requests).length +
      Object.keys(t.queries).length +
      Object.keys(t.cache).length +
      Object.keys(t.jobs).length >
    0
  );
}
