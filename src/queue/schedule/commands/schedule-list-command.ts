import type { Application } from '../../../kernel/index.js';
import { defineCommand } from '../../../kernel/index.js';

/**
 * `keel schedule:list [--json]`: every scheduled task with its cron expression, time zone,
 * next run (in the task's zone and UTC) and options.
 */
export const scheduleListCommand = defineCommand<Application>({
  name: 'schedule:list',
  description: 'List the scheduled tasks with their cron expression, time zone and next run',
  json: true,
  async handle({ app, ui }) {
    if (!app.container.bound('scheduler')) {
      ui.warn('the scheduler is not configured (the ScheduleProvider is not registered)');
      return 1;
    }
    const scheduler = app.make('scheduler');
    const tasks = scheduler.upcoming().map(({ task, nextRun }) => {
      const info = task.info;
      return {
        name: info.name,
        kind: info.kind,
        expression: info.expression,
        timezone: info.timezone,
        nextRun: nextRun?.toISOString() ?? null,
        nextRunLocal: nextRun ? localTime(nextRun, info.timezone) : null,
        withoutOverlapping: info.withoutOverlapping !== undefined,
        onOneServer: info.onOneServer,
        environments: info.environments ?? null,
        description: info.description ?? '',
      };
    });
    ui.output({ tasks }, () => {
      if (tasks.length === 0) {
        ui.info(
          'no scheduled tasks (add them with app.make("schedule") or a module\'s schedule.ts)',
        );
        return;
      }
      ui.table(
        tasks.map((t) => ({
          name: t.name,
          expression: t.expression,
          timezone: t.timezone,
          'next run': t.nextRunLocal ?? 'never',
          options: [t.withoutOverlapping ? 'no overlap' : '', t.onOneServer ? 'one server' : '']
            .filter(Boolean)
            .join(', '),
          description: t.description,
        })),
        ['name', 'expression', 'timezone', 'next run', 'options', 'description'],
      );
    });
    return 0;
  },
});

/** `2026-03-29 03:00 (+02:00)`: the wall-clock time in `timezone`, with its offset. */
export function localTime(date: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const offset = String(parts.timeZoneName).replace('GMT', '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (${offset})`;
}
