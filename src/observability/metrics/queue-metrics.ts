import type {
  ClaimedJob,
  JobInstrument,
  JobOutcome,
  QueueManager,
  QueueStats,
} from '../../queue/index.js';
import type { CounterChild, HistogramChild } from './metric-series.js';
import type { MetricsRegistry } from './metrics-registry.js';

interface JobSeries {
  processed: CounterChild;
  failed: CounterChild;
  retried: CounterChild;
  duration: HistogramChild;
}

/**
 * Queue metrics: attempts by queue and job name and how they ended (a JobInstrument on the
 * workers this process builds), their duration, and each queue's backlog and oldest-job age,
 * read at scrape time from `driver.stats()` of `options.connections` (default: the default
 * one; `sync` connections have no backlog). A stats read is bounded by the registry's collect
 * timeout; a failed one leaves the last values and counts a scrape error.
 *
 * @example
 * ```ts
 * instrumentQueue(registry, app.make('queue'), { connections: ['database'] });
 * ```
 */
export function instrumentQueue(
  registry: MetricsRegistry,
  manager: QueueManager,
  options: {
    /** Whose backlog to read (default: the default connection). */
    connections?: readonly string[] | undefined;
    /** Called once, when this process's workers end their first attempt. */
    onFirstJob?: () => void;
  } = {},
): () => void {
  const connections = options.connections ?? [manager.config.default];
  let onFirstJob = options.onFirstJob;
  const labelNames = ['queue', 'job'] as const;
  const processed = registry.counter({
    name: 'queue_jobs_processed_total',
    help: 'Job attempts completed, by queue and job',
    labelNames,
  });
  const failed = registry.counter({
    name: 'queue_jobs_failed_total',
    help: 'Jobs failed for good (moved to failed jobs), by queue and job',
    labelNames,
  });
  const retried = registry.counter({
    name: 'queue_jobs_retried_total',
    help: 'Job attempts that failed and will run again, by queue and job',
    labelNames,
  });
  const duration = registry.histogram({
    name: 'queue_job_duration_seconds',
    help: 'Job attempt duration from claim to recorded outcome, by queue and job',
    labelNames,
  });
  const byQueue = new Map<string, Map<string, JobSeries>>();
  const series = (job: ClaimedJob): JobSeries => {
    let jobs = byQueue.get(job.queue);
    if (jobs === undefined) {
      jobs = new Map();
      byQueue.set(job.queue, jobs);
    }
    let found = jobs.get(job.name);
    if (found === undefined) {
      found = {
        processed: processed.labels(job.queue, job.name),
        failed: failed.labels(job.queue, job.name),
        retried: retried.labels(job.queue, job.name),
        duration: duration.labels(job.queue, job.name),
      };
      jobs.set(job.name, found);
    }
    return found;
  };
  const instrument: JobInstrument<undefined> = {
    name: 'metrics',
    end(job: ClaimedJob, _state: undefined, outcome: JobOutcome) {
      if (onFirstJob !== undefined) {
        const first = onFirstJob;
        onFirstJob = undefined;
        first();
      }
      const s = series(job);
      if (outcome.status === 'completed') s.processed.inc();
      else if (outcome.status === 'failed') s.failed.inc();
      else if (outcome.status === 'retried') s.retried.inc();
      else return; // delayed or lost: no attempt of its own was measured
      s.duration.observe(outcome.durationMs / 1000);
    },
  };
  // The manager's signature takes any state type (`never`); ours carries none.
  manager.instrument(instrument as JobInstrument<never>);

  // Every worker reads the same backlog: a cluster scrape keeps the largest, not the sum.
  const backlog = ['connection', 'queue'] as const;
  const waiting = registry.gauge({
    name: 'queue_jobs_waiting',
    help: 'Jobs waiting to be claimed (ready or delayed), by connection and queue',
    labelNames: backlog,
    aggregator: 'max',
  });
  const delayed = registry.gauge({
    name: 'queue_jobs_delayed',
    help: 'Waiting jobs not yet available (delayed or backing off), by connection and queue',
    labelNames: backlog,
    aggregator: 'max',
  });
  const running = registry.gauge({
    name: 'queue_jobs_running',
    help: 'Jobs claimed by a worker, by connection and queue',
    labelNames: backlog,
    aggregator: 'max',
  });
  const oldest = registry.gauge({
    name: 'queue_oldest_job_age_seconds',
    help: 'Age of the oldest job available now (0 when none), by connection and queue',
    labelNames: backlog,
    aggregator: 'max',
  });
  const targets = connections.filter((name) => manager.config.connections[name]?.driver !== 'sync');
  return registry.onCollect('queue', async () => {
    const all = await Promise.all(
      targets.map(async (name) => [name, await (await manager.driver(name)).stats()] as const),
    );
    for (const [connection, stats] of all)
      for (const s of stats as QueueStats[]) {
        waiting.labels(connection, s.queue).set(s.waiting);
        delayed.labels(connection, s.queue).set(s.delayed);
        running.labels(connection, s.queue).set(s.running);
        oldest.labels(connection, s.queue).set(s.oldestAgeMs / 1000);
      }
  });
}
