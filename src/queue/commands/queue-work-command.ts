import type { Application } from '../../kernel/index.js';
import { defineCommand, installSignalHandlers } from '../../kernel/index.js';
import { runAutoscaler, superviseChild } from '../autoscaler.js';
import { durationMs } from '../backoff.js';

function positive(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/**
 * `keel queue:work`: claim and run jobs until stopped. SIGTERM/SIGINT stop claiming and let
 * running jobs finish within the shutdown deadline (`queue.worker.shutdown`), then release
 * the rest for other workers; a second signal forces the exit.
 */
export const queueWorkCommand = defineCommand<Application>({
  name: 'queue:work',
  description: 'Run queued jobs until stopped',
  options: [
    { flags: '--queue <names>', description: 'queues in order of preference (default: default)' },
    {
      flags: '--connection <name>',
      description: 'the queue connection (default: the default one)',
    },
    { flags: '--concurrency <n>', description: 'jobs run at once' },
    { flags: '--sleep <duration>', description: 'longest idle wait between claims (1s)' },
    { flags: '--max-jobs <n>', description: 'stop after this many jobs' },
    { flags: '--max-time <duration>', description: 'stop claiming after this long' },
    { flags: '--stop-when-empty', description: 'stop once no job is left' },
    {
      flags: '--autoscale <min,max>',
      description: 'supervise min to max worker processes, scaled by backlog (1 ≤ min ≤ max ≤ 64)',
    },
    { flags: '--scale-backlog <n>', description: 'with --autoscale: ready jobs per worker (10)' },
    { flags: '--scale-age <duration>', description: 'with --autoscale: oldest job age (30s)' },
    { flags: '--scale-cooldown <duration>', description: 'with --autoscale: idle time (60s)' },
    { flags: '--scale-interval <duration>', description: 'with --autoscale: poll every (3s)' },
  ],
  json: true,
  async handle({ app, options, ui }) {
    if (!app.container.bound('queue')) {
      ui.warn('no queue is configured (the QueueProvider is not registered)');
      return 1;
    }
    const queue = app.make('queue');
    let concurrency: number | undefined;
    let maxJobs: number | undefined;
    try {
      concurrency = positive(options.concurrency, 'concurrency');
      maxJobs = positive(options.maxJobs, 'max-jobs');
    } catch (error) {
      ui.error((error as Error).message);
      return 1;
    }
    const queues = String(options.queue ?? queue.config.defaultQueue)
      .split(',')
      .map((q) => q.trim())
      .filter(Boolean);
    if (options.autoscale !== undefined) return runAutoscaler({ app, options, ui, queues });
    const worker = await queue.worker({
      queues,
      ...(options.connection !== undefined ? { connection: String(options.connection) } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(maxJobs !== undefined ? { maxJobs } : {}),
      ...(options.sleep !== undefined ? { sleepMs: durationMs(String(options.sleep)) } : {}),
      ...(options.maxTime !== undefined ? { maxTimeMs: durationMs(String(options.maxTime)) } : {}),
      stopWhenEmpty: options.stopWhenEmpty === true,
    });
    // Supervised by --autoscale: the supervisor relays Ctrl+C (sent to the whole process
    // group) as its stop message, so SIGINT here would count twice and force the exit.
    const supervised = superviseChild(() => worker.stop());
    const remove = installSignalHandlers({
      ...(supervised.active ? { signals: ['SIGTERM' as const] } : {}),
      shutdown: async () => {
        ui.info('stopping: finishing running jobs (a second signal forces the exit)');
        worker.stop();
      },
      // The first signal only stops the worker: run() returns and the command ends as usual,
      // closing the app; a second signal exits at once.
      exit: (code) => {
        if (code !== 0) process.exit(code);
      },
    });
    ui.info(`worker ${worker.id} on ${queues.join(', ')}`);
    try {
      const summary = await worker.run();
      ui.output(summary, () =>
        ui.success(
          `processed ${summary.processed}, failed ${summary.failed}, retried ${summary.retried}` +
            (summary.released ? `, released ${summary.released}` : '') +
            (summary.delayed ? `, put back ${summary.delayed} (middleware)` : '') +
            (summary.lost ? `, lost ${summary.lost} (lease taken by another worker)` : ''),
        ),
      );
    } finally {
      remove();
      supervised.remove();
    }
    return 0;
  },
});
