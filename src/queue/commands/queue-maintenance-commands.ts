import type { Application, CommandContext } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';
import { durationMs } from '../backoff.js';
import { DEAD_AFTER_BEATS, isDeadWorker } from '../worker-registry.js';

const connectionOption = {
  flags: '--connection <name>',
  description: 'the queue connection (default: the default one)',
};

/** The default retention of `queue:prune`: finished batches and failed jobs, 30 days. */
export const DEFAULT_PRUNE_RETENTION = '30d';

function queueOf(ctx: CommandContext<Application>) {
  if (!ctx.app.container.bound('queue')) {
    ctx.ui.warn('no queue is configured (the QueueProvider is not registered)');
    return undefined;
  }
  return ctx.app.make('queue');
}

function connectionOf(ctx: CommandContext<Application>): string | undefined {
  return ctx.options.connection === undefined ? undefined : String(ctx.options.connection);
}

/**
 * `keel queue:prune [--older-than 30d]`: delete finished batches and failed jobs older than
 * the retention. The scheduler runs it daily (`keel:queue-prune`).
 */
export const queuePruneCommand = defineCommand<Application>({
  name: 'queue:prune',
  description: 'Delete finished batches and failed jobs older than a retention (default 30d)',
  options: [
    connectionOption,
    { flags: '--older-than <duration>', description: 'the retention, e.g. 7d (default 30d)' },
  ],
  json: true,
  async handle(ctx) {
    const queue = queueOf(ctx);
    if (!queue) return 1;
    const text = String(ctx.options.olderThan ?? DEFAULT_PRUNE_RETENTION);
    let ms: number;
    try {
      ms = durationMs(text);
    } catch {
      ctx.ui.error(`--older-than must be a duration such as 30d or 12h (got "${text}")`);
      return 1;
    }
    if (!Number.isSafeInteger(ms) || ms < 0) {
      ctx.ui.error(`--older-than must be a duration such as 30d or 12h (got "${text}")`);
      return 1;
    }
    const driver = await queue.driver(connectionOf(ctx));
    const pruned = await driver.prune(Date.now() - ms);
    ctx.ui.output(pruned, () =>
      ctx.ui.success(
        `${pruned.batches} finished batch(es) and ${pruned.failed} failed job(s) older than ${text} deleted`,
      ),
    );
    return 0;
  },
});

/**
 * `keel queue:workers`: the workers heartbeating into the registry, with the dead ones
 * (no heartbeat for 3 periods) flagged; `--prune` removes the dead ones' rows.
 */
export const queueWorkersCommand = defineCommand<Application>({
  name: 'queue:workers',
  description: 'List running queue workers; flag (or --prune) the dead ones',
  options: [
    connectionOption,
    { flags: '--prune', description: "remove dead workers' rows" },
    {
      flags: '--dead-after <n>',
      description: `heartbeats a worker may miss before it is dead (default ${DEAD_AFTER_BEATS})`,
    },
  ],
  json: true,
  async handle(ctx) {
    const queue = queueOf(ctx);
    if (!queue) return 1;
    const beats = Number(ctx.options.deadAfter ?? DEAD_AFTER_BEATS);
    if (!Number.isInteger(beats) || beats < 1) {
      ctx.ui.error('--dead-after must be a positive integer');
      return 1;
    }
    const registry = await queue.workerRegistry(connectionOf(ctx));
    if (registry === undefined) {
      ctx.ui.warn('this queue connection keeps no worker registry (sync)');
      return 1;
    }
    const now = Date.now();
    const workers = (await registry.list()).map((w) => ({
      ...w,
      status: isDeadWorker(w, now, beats) ? ('dead' as const) : ('alive' as const),
    }));
    const dead = workers.filter((w) => w.status === 'dead');
    if (ctx.options.prune === true) for (const w of dead) await registry.remove(w.id);
    ctx.ui.output({ workers, pruned: ctx.options.prune === true ? dead.length : 0 }, () => {
      if (workers.length === 0) return ctx.ui.success('no worker is running');
      ctx.ui.table(
        workers.map((w) => ({
          id: w.id,
          host: w.host,
          pid: w.pid,
          queues: w.queues.join(','),
          started: new Date(w.startedAt).toISOString(),
          'last seen': `${Math.round((now - w.lastSeen) / 1000)}s ago`,
          processed: w.processed,
          failed: w.failed,
          status: w.status === 'dead' ? 'DEAD' : 'alive',
        })),
      );
      if (dead.length > 0 && ctx.options.prune === true)
        ctx.ui.info(`${dead.length} dead worker(s) removed`);
    });
    return 0;
  },
});
