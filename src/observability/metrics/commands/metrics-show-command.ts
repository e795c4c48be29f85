import { join } from 'node:path';
import type { Application, CommandUI } from '../../../kernel/index.js';
import { defineCommand } from '../../../kernel/index.js';
import { type MetricsSummary, readMetricsSummary } from '../metrics-report.js';
import { METRICS_SNAPSHOT_FOLDER, SNAPSHOT_HOURS } from '../metrics-snapshots.js';

/** One queue's backlog, read live by the command. */
export interface BacklogRow {
  connection: string;
  queue: string;
  waiting: number;
  delayed: number;
  running: number;
  oldestAgeSeconds: number;
}

/** The longest the live backlog read may take before the command reports without it. */
const BACKLOG_TIMEOUT_MS = 3_000;

/**
 * `keel metrics:show [--hours N] [--json]` (alias `metrics`): requests, error rate and
 * p50/p95/p99 latency by route, an hourly breakdown, statements and slow queries by
 * connection, cache hit ratio by pool and jobs by queue, added up over every process that
 * wrote a snapshot to `var/state/metrics` in the last N hours (default 24, at most 48); and
 * the queue backlog, read now.
 */
export const metricsShowCommand = defineCommand<Application>({
  name: 'metrics:show',
  aliases: ['metrics'],
  description: 'Summarise requests, latency, errors, queries, cache and queues over the last hours',
  options: [
    { flags: '--hours <n>', description: `hours back to cover (1–${SNAPSHOT_HOURS}, default 24)` },
  ],
  json: true,
  async handle({ app, options, ui }) {
    const raw = options.hours === undefined ? '24' : String(options.hours);
    const hours = Number(raw);
    if (!/^\d{1,3}$/.test(raw) || hours < 1 || hours > SNAPSHOT_HOURS) {
      ui.error(
        `--hours must be a whole number from 1 to ${SNAPSHOT_HOURS}, got "${raw.slice(0, 40)}"`,
      );
      return 1;
    }
    const summary = await readMetricsSummary(join(app.paths.state, METRICS_SNAPSHOT_FOLDER), {
      hours,
    });
    const backlog = await readBacklog(app);
    ui.output({ ...summary, backlog: backlog.rows, backlogError: backlog.error ?? null }, () =>
      render(ui, summary, backlog),
    );
    for (const { file, reason } of summary.skipped)
      ui.warn(`skipped var/state/${METRICS_SNAPSHOT_FOLDER}/${file}: ${reason}`);
    return 0;
  },
});

async function readBacklog(app: Application): Promise<{ rows: BacklogRow[]; error?: string }> {
  if (!app.container.bound('queue')) return { rows: [] };
  const queue = app.make('queue');
  const connection = queue.config.default;
  if (queue.config.connections[connection]?.driver === 'sync') return { rows: [] };
  let timer: NodeJS.Timeout | undefined;
  try {
    const stats = await Promise.race([
      queue.driver(connection).then((driver) => driver.stats()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${BACKLOG_TIMEOUT_MS} ms`)),
          BACKLOG_TIMEOUT_MS,
        );
      }),
    ]);
    return {
      rows: stats.map((s) => ({
        connection,
        queue: s.queue,
        waiting: s.waiting,
        delayed: s.delayed,
        running: s.running,
        oldestAgeSeconds: Math.round(s.oldestAgeMs / 1000),
      })),
    };
  } catch (error) {
    return { rows: [], error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

const percent = (rate: number | null): string =>
  rate === null ? '–' : `${(rate * 100).toFixed(1)}%`;

// A histogram gives the bucket, not the value: the percentile is at most its upper bound.
function seconds(value: number | string | null): string {
  if (value === null) return '–';
  if (typeof value === 'string') return `${value} s`;
  return value < 1 ? `≤${Math.round(value * 1000)} ms` : `≤${value} s`;
}

function render(
  ui: CommandUI,
  s: MetricsSummary,
  backlog: { rows: BacklogRow[]; error?: string },
): void {
  ui.line(ui.bold(`Last ${s.hours} h (since ${s.from})`));
  if (s.processes.length === 0)
    ui.info(
      `no metrics recorded in the last ${s.hours} h: serving processes and workers write var/state/${METRICS_SNAPSHOT_FOLDER} every metrics.snapshotInterval seconds (default 10)`,
    );
  ui.line(
    `requests: ${s.requests.total}, errors (5xx): ${s.requests.errors}, error rate: ${percent(s.requests.errorRate)}`,
  );
  if (s.routes.length > 0)
    ui.table(
      s.routes.map((r) => ({
        method: r.method,
        route: r.route,
        requests: r.requests,
        'error %': percent(r.errorRate),
        p50: seconds(r.p50),
        p95: seconds(r.p95),
        p99: seconds(r.p99),
      })),
      ['method', 'route', 'requests', 'error %', 'p50', 'p95', 'p99'],
    );
  if (s.hourly.length > 0)
    ui.table(
      s.hourly.map((h) => ({
        hour: h.hour,
        requests: h.requests,
        errors: h.errors,
        p95: seconds(h.p95),
      })),
      ['hour', 'requests', 'errors', 'p95'],
    );
  if (s.queries.length > 0)
    ui.table(
      s.queries.map((q) => ({
        connection: q.connection,
        queries: q.count,
        errors: q.errors,
        slow: q.slow,
        'mean ms': q.meanMs === null ? '–' : q.meanMs.toFixed(2),
      })),
      ['connection', 'queries', 'errors', 'slow', 'mean ms'],
    );
  if (s.cache.length > 0)
    ui.table(
      s.cache.map((c) => ({
        pool: c.pool,
        hits: c.hits,
        misses: c.misses,
        'hit %': percent(c.hitRate),
        writes: c.writes,
      })),
      ['pool', 'hits', 'misses', 'hit %', 'writes'],
    );
  if (s.jobs.length > 0)
    ui.table(
      s.jobs.map((j) => ({
        queue: j.queue,
        processed: j.processed,
        failed: j.failed,
        retried: j.retried,
      })),
      ['queue', 'processed', 'failed', 'retried'],
    );
  if (backlog.rows.length > 0)
    ui.table(
      backlog.rows.map((b) => ({
        queue: b.queue,
        waiting: b.waiting,
        delayed: b.delayed,
        running: b.running,
        'oldest s': b.oldestAgeSeconds,
      })),
      ['queue', 'waiting', 'delayed', 'running', 'oldest s'],
    );
  if (backlog.error !== undefined) ui.warn(`queue backlog unavailable: ${backlog.error}`);
  const gone = s.processes.filter((p) => p.state === 'gone').length;
  ui.line(ui.dim(`${s.processes.length} process(es) recorded${gone > 0 ? `, ${gone} gone` : ''}`));
}
