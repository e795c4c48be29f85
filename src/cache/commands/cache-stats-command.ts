import { join } from 'node:path';
import type { Application, CommandUI } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';
import { CACHE_STATS_FOLDER, DEFAULT_STATS_FLUSH_SECONDS } from '../cache-stats-recorder.js';
import {
  type CacheStatsReport,
  type CacheStatsRow,
  readCacheStats,
  resetCacheStats,
} from '../cache-stats-report.js';

/**
 * `keel cache:stats [--pool name] [--json] [--reset]`: the hits, misses, writes, evictions,
 * errors and store latency of each pool, added up over every process that used it (each
 * writes its counters to `var/state/cache-stats`; see CacheStatsRecorder). Processes that
 * are gone are named; their files are deleted a day after their last write.
 */
export const cacheStatsCommand = defineCommand<Application>({
  name: 'cache:stats',
  description:
    'Show cache hits, misses, writes, evictions and latency per pool, over all processes',
  options: [
    { flags: '--pool <name>', description: 'only this pool' },
    { flags: '--reset', description: 'delete the recorded statistics and count from now on' },
  ],
  json: true,
  async handle({ app, options, ui }) {
    if (!app.container.bound('cache')) {
      ui.warn('no cache is configured (the CacheProvider is not registered)');
      return 1;
    }
    const cache = app.make('cache');
    const folder = join(app.paths.state, CACHE_STATS_FOLDER);
    const interval = cache.config.stats?.flushInterval ?? DEFAULT_STATS_FLUSH_SECONDS;
    if (options.reset) {
      const removed = await resetCacheStats(folder);
      ui.output({ reset: true, removed }, () =>
        ui.success(
          `cache statistics reset: ${removed.length} process file(s) deleted; running processes count from their next write${interval ? ` (within ${interval} s)` : ''}`,
        ),
      );
      return 0;
    }
    const pool = options.pool === undefined ? undefined : String(options.pool);
    if (pool !== undefined && !cache.names().includes(pool)) {
      ui.error(`cache pool "${pool}" is not configured; pools: ${cache.names().join(', ')}`);
      return 1;
    }
    const report = await readCacheStats(folder, pool === undefined ? {} : { pool });
    ui.output({ ...report, flushInterval: interval || false }, () => render(ui, report, interval));
    for (const { file, reason } of report.skipped)
      ui.warn(`skipped var/state/${CACHE_STATS_FOLDER}/${file}: ${reason}`);
    return 0;
  },
});

function render(ui: CommandUI, report: CacheStatsReport, interval: number | false): void {
  if (report.removed.length > 0)
    ui.info(`deleted the files of ${report.removed.length} process(es) gone for over 24 h`);
  if (report.pools.length === 0) {
    ui.info(nothingRecorded(report, interval));
    return;
  }
  ui.table(report.pools.map(cells), COLUMNS);
  const gone = report.processes.filter((p) => p.state === 'gone');
  const elsewhere = report.processes.filter((p) => p.state === 'elsewhere');
  const running = report.processes.length - gone.length - elsewhere.length;
  const parts = [`${running} running`];
  if (gone.length > 0) parts.push(`${gone.length} gone`);
  if (elsewhere.length > 0) parts.push(`${elsewhere.length} on other hosts (not checked)`);
  ui.line(ui.dim(`${report.processes.length} process(es): ${parts.join(', ')}`));
  for (const p of gone)
    ui.line(ui.dim(`  gone: pid ${p.pid} on ${p.host}, last write ${p.updatedAt}`));
  if (report.resetAt !== null) ui.line(ui.dim(`counting since the reset at ${report.resetAt}`));
  if (interval === false || interval === 0)
    ui.warn('cache.stats.flushInterval is off: running processes no longer write their counters');
}

function nothingRecorded(report: CacheStatsReport, interval: number | false): string {
  if (interval === false || interval === 0)
    return 'no cache statistics recorded: cache.stats.flushInterval is off in config/cache.ts, so no process writes its counters';
  const what =
    report.resetAt !== null
      ? `nothing recorded since the reset at ${report.resetAt}: no process has used a cache pool since then.`
      : 'nothing recorded yet: no running process has used a cache pool, nor any process that stopped in the last 24 h.';
  return `${what} Serving processes and workers write their counters to var/state/${CACHE_STATS_FOLDER} every ${interval} s and at shutdown; commands that use no pool write none.`;
}

const COLUMNS = [
  'pool',
  'store',
  'hits',
  'misses',
  'hit %',
  'writes',
  'deletes',
  'evictions',
  'errors',
  'stale',
  'factory',
  'p50',
  'p99',
  'processes',
];

function cells(row: CacheStatsRow): Record<string, unknown> {
  return {
    pool: row.pool,
    store: row.store,
    hits: row.hits,
    misses: row.misses,
    'hit %': row.hitRate === null ? '–' : (row.hitRate * 100).toFixed(1),
    writes: row.writes,
    deletes: row.deletes,
    evictions: row.evictions,
    errors: row.errors,
    stale: row.stale,
    factory: row.factoryCalls,
    p50: latency(row.p50Ms),
    p99: latency(row.p99Ms),
    processes:
      row.goneProcesses > 0 ? `${row.processes} (${row.goneProcesses} gone)` : row.processes,
  };
}

// A histogram gives the bucket, not the value: the percentile is at most its upper bound.
function latency(ms: number | string | null): string {
  if (ms === null) return '–';
  return typeof ms === 'string' ? `${ms} ms` : `≤${ms} ms`;
}
