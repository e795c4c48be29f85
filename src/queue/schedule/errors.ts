import { defineError } from '../../support/index.js';

/**
 * The scheduler catalogue: definitions refused when a module declares them (500: a
 * programming error in the schedule), and faults found when a task runs.
 */

export const E_SCHEDULE_INVALID_CRON = defineError(
  'E_SCHEDULE_INVALID_CRON',
  (expression: string, reason: string) =>
    `Invalid cron expression "${expression.slice(0, 120)}": ${reason}`,
  {
    status: 500,
    help: 'Use five fields "minute hour day-of-month month day-of-week" (e.g. "*/5 * * * *" or "30 2 * * 1-5"); seconds are not supported, the scheduler ticks once a minute.',
    details: (expression, reason) => ({ expression: expression.slice(0, 200), reason }),
  },
);

export const E_SCHEDULE_INVALID_TIME = defineError(
  'E_SCHEDULE_INVALID_TIME',
  (method: string, input: string, reason: string) =>
    `Invalid time given to ${method}(): "${input.slice(0, 80)}" ${reason}`,
  {
    status: 500,
    help: 'Give times as "HH:MM" in 24-hour format (00:00 to 23:59), minutes as integers 0-59, hours 0-23, days of the month 1-31 and days of the week 0-6 (Sunday is 0).',
    details: (method, input, reason) => ({ method, input: input.slice(0, 200), reason }),
  },
);

export const E_SCHEDULE_INVALID_TIMEZONE = defineError(
  'E_SCHEDULE_INVALID_TIMEZONE',
  (timezone: string) => `Unknown time zone "${timezone.slice(0, 80)}"`,
  {
    status: 500,
    help: 'Use an IANA time zone name such as "UTC", "Europe/Paris" or "America/New_York" (case-sensitive).',
    details: (timezone) => ({ timezone: timezone.slice(0, 200) }),
  },
);

export const E_SCHEDULE_INVALID_TASK = defineError(
  'E_SCHEDULE_INVALID_TASK',
  (task: string, reason: string) => `Invalid scheduled task "${task.slice(0, 120)}": ${reason}`,
  {
    status: 500,
    help: 'Give each task a name of 1 to 200 printable characters, a function for call(), a command name for command(), a Job class for job(), and a positive duration for withoutOverlapping().',
    details: (task, reason) => ({ task: task.slice(0, 200), reason }),
  },
);

export const E_SCHEDULE_DUPLICATE_TASK = defineError(
  'E_SCHEDULE_DUPLICATE_TASK',
  (task: string) => `Two scheduled tasks are named "${task.slice(0, 120)}"`,
  {
    status: 500,
    help: 'Task names key their locks and log lines: give one of them another name with .name("...").',
    details: (task) => ({ task: task.slice(0, 200) }),
  },
);

export const E_SCHEDULE_COMMAND_NOT_FOUND = defineError(
  'E_SCHEDULE_COMMAND_NOT_FOUND',
  (command: string, suggestion: string | undefined) =>
    `The scheduled command "${command.slice(0, 120)}" does not exist${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
  {
    status: 500,
    help: 'Schedule a command that `keel list` shows (framework, module or app command), spelled as its name or alias.',
    details: (command) => ({ command: command.slice(0, 200) }),
  },
);

export const E_SCHEDULE_COMMAND_FAILED = defineError(
  'E_SCHEDULE_COMMAND_FAILED',
  (command: string, reason: string) => `The scheduled command "${command}" failed: ${reason}`,
  {
    status: 500,
    help: "Run the command by hand (keel <command>) to see its output; the scheduler logs what it printed under the task's name.",
    details: (command, reason) => ({ command, reason }),
  },
);

export const E_SCHEDULE_NO_DISPATCHER = defineError(
  'E_SCHEDULE_NO_DISPATCHER',
  (task: string) => `The scheduled job "${task}" cannot be dispatched: no queue dispatcher is set`,
  {
    status: 500,
    help: "Register the queue provider (it gives the scheduler its dispatcher), or pass `dispatch` to the Scheduler, or call app.make('scheduler').useDispatcher(fn).",
    details: (task) => ({ task }),
  },
);

export const E_SCHEDULE_NO_LOCKS = defineError(
  'E_SCHEDULE_NO_LOCKS',
  (task: string, feature: string) =>
    `The scheduled task "${task}" uses ${feature}, but no lock manager is configured`,
  {
    status: 500,
    help: 'Register the LockProvider (app.make("locks")); for onOneServer use a store every server shares: database or redis.',
    details: (task, feature) => ({ task, feature }),
  },
);
