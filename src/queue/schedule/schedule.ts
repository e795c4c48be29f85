import type { Awaitable } from '../../support/index.js';
import type { JobClass } from '../job.js';
import { jobNameOf } from '../job.js';
import { assertTimezone } from './cron-expression.js';
import { E_SCHEDULE_DUPLICATE_TASK, E_SCHEDULE_INVALID_TASK } from './errors.js';
import { ScheduledTask, type TaskContext } from './scheduled-task.js';

export interface ScheduleOptions {
  /** The time zone of tasks that set none (default `'UTC'`, the same on every server). */
  timezone?: string;
}

// `"quoted words"`, `'quoted words'` or a run of non-space characters.
const TOKEN = /"([^"]*)"|'([^']*)'|(\S+)/g;

/** Split a command line the way a shell would for simple quoting (no escapes, no variables). */
export function splitCommandLine(line: string): string[] {
  const tokens: string[] = [];
  for (const match of line.matchAll(TOKEN)) tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
  return tokens;
}

/**
 * The task definitions: `app.make('schedule')`. Modules add theirs in a provider's
 * `register()` or `boot()` (or in a `schedule.ts` file next to `module.ts`, see
 * {@link defineSchedule}); the app's own go in a provider too.
 *
 * @example
 * ```ts
 * const schedule = app.make('schedule');
 * schedule.command('cache:gc').hourly();
 * schedule.command('reports:send --format=pdf').weekdays().at('07:00').timezone('Europe/Paris');
 * schedule.call('billing:close-day', async ({ scheduledAt }) => closeDay(scheduledAt)).dailyAt('23:55');
 * schedule.job(SendDigest, { list: 'weekly' }).weeklyOn(1, '08:00').onOneServer();
 * ```
 */
export class Schedule {
  readonly #tasks: ScheduledTask[] = [];
  #timezone: string;

  constructor(options: ScheduleOptions = {}) {
    this.#timezone = assertTimezone(options.timezone ?? 'UTC');
  }

  /** The default time zone of tasks that set none. */
  get timezone(): string {
    return this.#timezone;
  }

  set timezone(timezone: string) {
    this.#timezone = assertTimezone(timezone);
  }

  /**
   * Run a CLI command in-process: `'cache:gc'`, `'reports:send --format=pdf "Q1 2026"'`,
   * or the name with its arguments as a list. Named after its command line by default.
   */
  command(line: string, args: readonly string[] = []): ScheduledTask {
    if (typeof line !== 'string' || line.trim() === '')
      throw new E_SCHEDULE_INVALID_TASK(String(line), 'command() needs a command name');
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))
      throw new E_SCHEDULE_INVALID_TASK(line, "command()'s arguments must be a list of strings");
    const [command, ...rest] = splitCommandLine(line);
    const argv = [...rest, ...args];
    const name = [command, ...argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a))].join(' ');
    return this.#add(
      new ScheduledTask({ kind: 'command', command: command as string, argv }, name, this.#zone),
    );
  }

  /** Run a callback; `name` keys its log lines and locks. */
  call(name: string, fn: (ctx: TaskContext) => Awaitable<unknown>): ScheduledTask {
    if (typeof fn !== 'function')
      throw new E_SCHEDULE_INVALID_TASK(String(name), 'call() needs a function');
    return this.#add(new ScheduledTask({ kind: 'call', fn }, name, this.#zone));
  }

  /**
   * Dispatch a job onto the queue: a new `new JobClass(payload)` each run. The scheduler only
   * dispatches; a worker runs it. Named after the job by default.
   */
  job<P>(job: JobClass<P>, payload: P): ScheduledTask {
    if (typeof job !== 'function' || typeof job.prototype?.handle !== 'function')
      throw new E_SCHEDULE_INVALID_TASK(
        String((job as { name?: unknown })?.name ?? job),
        'job() needs a Job class',
      );
    const target = { kind: 'job' as const, job: job as JobClass<unknown>, payload };
    return this.#add(new ScheduledTask(target, jobNameOf(job as JobClass<unknown>), this.#zone));
  }

  /**
   * Every task, in the order they were defined. Throws E_SCHEDULE_DUPLICATE_TASK when two share
   * a name (checked here, as `.name()` may rename a task after it was added).
   */
  tasks(): readonly ScheduledTask[] {
    const seen = new Set<string>();
    for (const task of this.#tasks) {
      const { name } = task.info;
      if (seen.has(name)) throw new E_SCHEDULE_DUPLICATE_TASK(name);
      seen.add(name);
    }
    return [...this.#tasks];
  }

  /** Remove a task by name (to replace a framework default); true when one was removed. */
  remove(name: string): boolean {
    const index = this.#tasks.findIndex((t) => t.info.name === name);
    if (index === -1) return false;
    this.#tasks.splice(index, 1);
    return true;
  }

  readonly #zone = (): string => this.#timezone;

  #add(task: ScheduledTask): ScheduledTask {
    this.#tasks.push(task);
    return task;
  }
}

/** What a module's `schedule.ts` exports by default. */
export type ScheduleDefinition<App = unknown> = (schedule: Schedule, app: App) => Awaitable<void>;

/**
 * Type a module's `schedule.ts`: the scheduler provider imports it at boot.
 *
 * @example
 * ```ts
 * // modules/billing/schedule.ts
 * export default defineSchedule((schedule) => {
 *   schedule.command('billing:close-day').dailyAt('23:55').onOneServer();
 * });
 * ```
 */
export function defineSchedule<App = unknown>(
  definition: ScheduleDefinition<App>,
): ScheduleDefinition<App> {
  return definition;
}
