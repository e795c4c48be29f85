import type { Application } from '../../kernel/index.js';
import type { Schedule } from './schedule.js';

/**
 * The framework's maintenance tasks, registered when their subsystem is configured, with
 * the cadence the seeds use. An app replaces one by removing it (`schedule.remove(name)`)
 * and adding its own, or turns them all off with `schedule.maintenance: false` in config.
 *
 * Each later subsystem adds its line here as it lands:
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
  // Finished batches and failed jobs older than 30 days (queue:prune --older-than to change).
  if (app.container.bound('queue'))
    schedule
      .command('queue:prune')
      .daily()
      .name('keel:queue-prune')
      .description('Delete finished job batches and failed jobs older than 30 days');
}
