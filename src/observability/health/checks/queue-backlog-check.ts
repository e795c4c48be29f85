import type { HealthCheckOutcome, HealthCheckStatus } from '../../../kernel/index.js';
import type { QueueDriver, QueueStats } from '../../../queue/index.js';
import type { QueueThresholds } from '../health-config.js';

export interface QueueBacklogOptions {
  /** The connection's driver (its `stats()` is read on each run). */
  driver: () => Promise<Pick<QueueDriver, 'stats'>>;
  warn: QueueThresholds;
  fail: QueueThresholds;
  /** Per-queue levels, replacing `warn` / `fail` for that queue. */
  queues?: Record<string, { warn?: QueueThresholds; fail?: QueueThresholds }>;
}

function crossed(stats: QueueStats, levels: QueueThresholds): string | undefined {
  if (levels.waiting !== undefined && stats.waiting > levels.waiting)
    return `${stats.waiting} waiting (over ${levels.waiting})`;
  if (levels.ageMs !== undefined && stats.oldestAgeMs > levels.ageMs)
    return `oldest ready job ${Math.round(stats.oldestAgeMs / 1000)} s old (over ${Math.round(levels.ageMs / 1000)} s)`;
  return undefined;
}

/**
 * The queue backlog against thresholds: per queue, more jobs `waiting` than allowed, or an
 * oldest ready job older than `ageMs`, warns or fails; the worst queue decides. Each
 * queue's counts are in `details.queues`.
 *
 * @example
 * ```ts
 * app.health.register('queue', queueBacklogCheck({
 *   driver: () => app.make('queue').driver(),
 *   warn: { waiting: 1000 }, fail: { ageMs: 600_000 },
 *   queues: { emails: { fail: { waiting: 50 } } },
 * }), { readiness: false });
 * ```
 */
export function queueBacklogCheck(options: QueueBacklogOptions): () => Promise<HealthCheckOutcome> {
  const own = options.queues ?? {};
  return async () => {
    const driver = await options.driver();
    const named = Object.keys(own);
    const all = await driver.stats();
    // Queues with their own levels are watched even while empty (stats() lists busy ones).
    const missing = named.filter((name) => !all.some((s) => s.queue === name));
    const stats = missing.length > 0 ? [...all, ...(await driver.stats(missing))] : all;
    let status: HealthCheckStatus = 'ok';
    const problems: string[] = [];
    for (const queue of stats) {
      const levels = Object.hasOwn(own, queue.queue) ? own[queue.queue] : undefined;
      const failed = crossed(queue, levels?.fail ?? options.fail);
      const warned = failed ? undefined : crossed(queue, levels?.warn ?? options.warn);
      if (failed) {
        status = 'fail';
        problems.push(`${queue.queue}: ${failed}`);
      } else if (warned) {
        if (status === 'ok') status = 'warn';
        problems.push(`${queue.queue}: ${warned}`);
      }
    }
    const waiting = stats.reduce((sum, s) => sum + s.waiting, 0);
    const summary = `${stats.length} queue(s), ${waiting} job(s) waiting`;
    return {
      status,
      message: problems.length > 0 ? `${summary}; ${problems.join('; ')}` : summary,
      details: {
        queues: stats.map((s) => ({
          queue: s.queue,
          waiting: s.waiting,
          ready: s.ready,
          delayed: s.delayed,
          running: s.running,
          oldestAgeMs: s.oldestAgeMs,
          failed: s.failed,
        })),
      },
    };
  };
}
