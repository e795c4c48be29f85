import type { Application, CommandContext } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';
import { durationMs } from '../backoff.js';
import type { QueueDriver } from '../driver.js';

const connectionOption = {
  flags: '--connection <name>',
  description: 'the queue connection (default: the default one)',
};

/** The driver of `--connection`, or undefined (after a warning) when there is no queue. */
async function driverOf(ctx: CommandContext<Application>): Promise<QueueDriver | undefined> {
  if (!ctx.app.container.bound('queue')) {
    ctx.ui.warn('no queue is configured (the QueueProvider is not registered)');
    return undefined;
  }
  const name = ctx.options.connection === undefined ? undefined : String(ctx.options.connection);
  return ctx.app.make('queue').driver(name);
}

/** `keel queue:failed`: the failed jobs, newest first. */
export const queueFailedCommand = defineCommand<Application>({
  name: 'queue:failed',
  description: 'List failed jobs, newest first',
  options: [
    connectionOption,
    { flags: '--queue <name>', description: 'only this queue' },
    { flags: '--limit <n>', description: 'at most this many (default 50)' },
  ],
  json: true,
  async handle(ctx) {
    const driver = await driverOf(ctx);
    if (!driver) return 1;
    const failed = await driver.failed({
      ...(ctx.options.queue !== undefined ? { queue: String(ctx.options.queue) } : {}),
      limit: Number(ctx.options.limit ?? 50) || 50,
    });
    ctx.ui.output(failed, () => {
      if (failed.length === 0) return ctx.ui.success('no failed jobs');
      ctx.ui.table(
        failed.map((f) => ({
          id: f.id,
          job: f.name,
          queue: f.queue,
          attempts: f.attempts,
          'failed at': new Date(f.failedAt).toISOString(),
          error: (f.error.split('\n')[0] ?? '').slice(0, 100),
        })),
      );
    });
    return 0;
  },
});

/** `keel queue:retry <id|all>`: put failed jobs back on their queue. */
export const queueRetryCommand = defineCommand<Application>({
  name: 'queue:retry',
  description: 'Put failed jobs back on their queue (ids, or "all")',
  arguments: [
    { name: 'ids', description: 'failed job ids, or all', variadic: true, required: true },
  ],
  options: [connectionOption],
  json: true,
  async handle(ctx) {
    const driver = await driverOf(ctx);
    if (!driver) return 1;
    const ids = (ctx.args.ids as string[] | undefined) ?? [];
    const retried = await driver.retryFailed(ids.length === 1 && ids[0] === 'all' ? 'all' : ids);
    ctx.ui.output({ retried }, () => ctx.ui.success(`${retried} job(s) queued again`));
    return retried === 0 && ids[0] !== 'all' ? 1 : 0;
  },
});

/** `keel queue:forget <id>`: delete one failed job. */
export const queueForgetCommand = defineCommand<Application>({
  name: 'queue:forget',
  description: 'Delete a failed job',
  arguments: [{ name: 'id', description: 'the failed job id', required: true }],
  options: [connectionOption],
  json: true,
  async handle(ctx) {
    const driver = await driverOf(ctx);
    if (!driver) return 1;
    const forgotten = await driver.forgetFailed(String(ctx.args.id));
    ctx.ui.output({ forgotten }, () =>
      forgotten ? ctx.ui.success('forgotten') : ctx.ui.warn('no failed job has this id'),
    );
    return forgotten ? 0 : 1;
  },
});

/** `keel queue:flush`: delete failed jobs (all, or older than a duration). */
export const queueFlushCommand = defineCommand<Application>({
  name: 'queue:flush',
  description: 'Delete failed jobs (all, or those older than --older-than)',
  options: [connectionOption, { flags: '--older-than <duration>', description: 'e.g. 7d' }],
  json: true,
  async handle(ctx) {
    const driver = await driverOf(ctx);
    if (!driver) return 1;
    const older = ctx.options.olderThan;
    // flushFailed takes an age in ms ("failed longer ago than"), not a timestamp.
    const removed = await driver.flushFailed(
      older === undefined ? undefined : durationMs(String(older)),
    );
    ctx.ui.output({ removed }, () => ctx.ui.success(`${removed} failed job(s) deleted`));
    return 0;
  },
});

/** `keel queue:clear <queue>`: delete a queue's waiting jobs. */
export const queueClearCommand = defineCommand<Application>({
  name: 'queue:clear',
  description: "Delete a queue's waiting jobs (running ones finish)",
  arguments: [{ name: 'queue', description: 'the queue name', required: true }],
  options: [connectionOption, { flags: '--force', description: 'do not ask' }],
  json: true,
  async handle(ctx) {
    const driver = await driverOf(ctx);
    if (!driver) return 1;
    const queue = String(ctx.args.queue);
    if (
      ctx.options.force !== true &&
      !(await ctx.ui.confirm(`delete every waiting job of "${queue}"?`))
    ) {
      ctx.ui.warn('nothing deleted');
      return 1;
    }
    const removed = await driver.clear(queue);
    ctx.ui.output({ queue, removed }, () =>
      ctx.ui.success(`${removed} job(s) deleted from ${queue}`),
    );
    return 0;
  },
});

/**
 * `keel queue:monitor`: backlog, oldest job's age and failed count per queue; exits 1 when a
 * threshold is crossed, for a cron job or a health probe.
 */
export const queueMonitorCommand = defineCommand<Application>({
  name: 'queue:monitor',
  description: 'Backlog, oldest age and failures per queue; exit 1 over a threshold',
  options: [
    connectionOption,
    { flags: '--queue <names>', description: 'queues to show (default: every queue with jobs)' },
    { flags: '--max-backlog <n>', description: 'fail when a queue has more ready jobs' },
    { flags: '--max-age <duration>', description: 'fail when the oldest ready job is older' },
    { flags: '--max-failed <n>', description: 'fail when a queue has more failed jobs' },
  ],
  json: true,
  async handle(ctx) {
    const driver = await driverOf(ctx);
    if (!driver) return 1;
    const names =
      ctx.options.queue === undefined ? undefined : String(ctx.options.queue).split(',');
    const stats = await driver.stats(names);
    const maxBacklog =
      ctx.options.maxBacklog === undefined ? Infinity : Number(ctx.options.maxBacklog);
    const maxAge =
      ctx.options.maxAge === undefined ? Infinity : durationMs(String(ctx.options.maxAge));
    const maxFailed =
      ctx.options.maxFailed === undefined ? Infinity : Number(ctx.options.maxFailed);
    const over = stats.filter(
      (s) => s.ready > maxBacklog || s.oldestAgeMs > maxAge || s.failed > maxFailed,
    );
    ctx.ui.output({ queues: stats, over: over.map((s) => s.queue) }, () => {
      ctx.ui.table(
        stats.map((s) => ({
          queue: s.queue,
          ready: s.ready,
          delayed: s.delayed,
          running: s.running,
          oldest: `${Math.round(s.oldestAgeMs / 1000)}s`,
          failed: s.failed,
          status: over.includes(s) ? 'OVER' : 'ok',
        })),
      );
    });
    return over.length > 0 ? 1 : 0;
  },
});
