import type { Application } from '../../../kernel/index.js';
import { defineCommand } from '../../../kernel/index.js';
import { ScheduleWorker } from '../schedule-worker.js';
import { reportResult } from './schedule-run-command.js';

/**
 * `keel schedule:work`: the scheduler as a daemon. Wakes at each minute boundary and runs
 * the tasks due; SIGTERM or SIGINT stops it once the running tasks have finished (a second
 * signal ends the process at once). Run one per server under systemd or supervisor, or use
 * `schedule:run` from cron instead.
 */
export const scheduleWorkCommand = defineCommand<Application>({
  name: 'schedule:work',
  description: 'Run the scheduler in the foreground: due tasks at each minute, until SIGTERM',
  async handle({ app, ui }) {
    if (!app.container.bound('scheduler')) {
      ui.warn('the scheduler is not configured (the ScheduleProvider is not registered)');
      return 1;
    }
    const scheduler = app.make('scheduler');
    const tasks = scheduler.schedule.tasks();
    const worker = new ScheduleWorker({
      scheduler,
      logger: app.logger.child({ component: 'scheduler' }),
      onTick: (_minute, results) => {
        for (const result of results) if (result.status !== 'skipped') reportResult(ui, result);
      },
    });
    const done = worker.run();
    ui.info(`scheduler running with ${tasks.length} task(s); stop it with Ctrl+C or SIGTERM`);
    await done;
    ui.info(`scheduler stopped (${worker.stoppedBy ?? 'stopped'}); running tasks finished`);
    return 0;
  },
});
