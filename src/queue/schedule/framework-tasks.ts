import type { Application } from '../../kernel/index.js';
import type { Schedule } from './schedule.js';

/**
 * The framework's maintenance tasks, registered when their subsystem is configured, with
 * the cadence the seeds use. An app replaces one by removing it (`schedule.remove(name)`)
 * and adding its own, or turns them all off with `schedule.maintenance: false` in config.
 *
 * Each later subsystem adds its line here as it lands:
 * - `queue:prune` daily (finished batches and failed jobs past their retention, 30 days by
 *   default), once the queue has the command;
 * - session cleanup at 02:00, activity prune at 03:00, notification cleanup at 04:00.
 */
export function registerFrameworkTasks(schedule: Schedule, app: Application): void {
  // Expired entries of the file and database cache stores (memory and Redis expire by themselves).
  if (app.container.bound('cache'))
    schedule
      .command('cache:gc')
      .hourly()
      .name('keel:cache-gc')
      .description('Remove expired entries from the file and database cache stores');
  // queue:prune goes here, daily, once the queue provides the command:
  // schedule.command('queue:prune').daily().name('keel:queue-prune').description('...');
}
