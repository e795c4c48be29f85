import type { Application } from '../../kernel/index.js';
import type { Schedule } from './schedule.js';

/**
 * The framework's maintenance tasks, registered when their subsystem is configured, with
 * the cadence the seeds use. An app replaces one by removing it (`schedule.remove(name)`)
 * and adding its own, or turns them all off with `schedule.maintenance: false` in config.
 *
 * Each later subsystem adds its line here as it lands:
 * - activity prune at 03:00, notification cleanup at 04:00.
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
  // Expired sessions of the database and file stores (Redis and memory expire by themselves).
  if (app.container.bound('session.manager'))
    schedule
      .command('session:cleanup')
      .dailyAt('02:00')
      .name('keel:session-cleanup')
      .description('Remove expired sessions from the session store');
  // Expired API tokens (refused anyway; this keeps api_tokens small).
  if (
    app.container.bound('auth.tokens') &&
    app.container.bound('db') &&
    app.config.get('auth' as never) !== undefined
  )
    schedule
      .command('auth:tokens:prune')
      .daily()
      .name('keel:auth-tokens-prune')
      .description('Delete expired API tokens');
  // Expired idempotency keys of the database store (Redis and memory expire by themselves).
  if (app.container.bound('idempotency'))
    schedule
      .command('idempotency:prune')
      .hourly()
      .name('keel:idempotency-prune')
      .description('Delete expired idempotency keys (database store)');
}
