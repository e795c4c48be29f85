import type { Application, CommandUI } from '../../../kernel/index.js';
import { defineCommand } from '../../../kernel/index.js';
import { isKeelError } from '../../../support/index.js';
import type { TaskRunResult } from '../scheduler.js';

/**
 * `keel schedule:run [--json]`: run the tasks due this minute, then exit; the entry for an
 * external cron (`* * * * * cd /srv/app && keel schedule:run`). Exits 1 when a task failed.
 */
export const scheduleRunCommand = defineCommand<Application>({
  name: 'schedule:run',
  description: 'Run the scheduled tasks due this minute (call it every minute from cron)',
  json: true,
  async handle({ app, ui }) {
    if (!app.container.bound('scheduler')) {
      ui.warn('the scheduler is not configured (the ScheduleProvider is not registered)');
      return 1;
    }
    const scheduler = app.make('scheduler');
    const minute = scheduler.now();
    const results = await scheduler.runDue(minute);
    const failed = results.filter((r) => r.status === 'failed');
    ui.output({ at: minute.toISOString(), tasks: results.map(plainResult) }, () => {
      if (results.length === 0) ui.info('no scheduled tasks are due');
      for (const result of results) reportResult(ui, result);
    });
    return failed.length > 0 ? 1 : 0;
  },
});

/** A result as JSON: the error as its message (and code). */
export function plainResult(result: TaskRunResult): Record<string, unknown> {
  return {
    name: result.name,
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    durationMs: Math.round(result.durationMs),
    ...(result.status === 'failed' ? { error: errorText(result.error) } : {}),
  };
}

/** One line per task: ran, skipped (why) or failed (the error). */
export function reportResult(ui: CommandUI, result: TaskRunResult): void {
  const time = `${Math.round(result.durationMs)} ms`;
  if (result.status === 'ran') ui.success(`${result.name} ran in ${time}`);
  else if (result.status === 'skipped') ui.info(`${result.name} skipped (${result.reason})`);
  else ui.error(`${result.name} failed after ${time}: ${errorText(result.error)}`);
}

function errorText(error: unknown): string {
  if (isKeelError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
