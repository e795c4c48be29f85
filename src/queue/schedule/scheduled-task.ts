import type { Logger } from '../../kernel/logger.js';
import { type Awaitable, parseDuration } from '../../support/index.js';
import type { Job, JobClass } from '../job.js';
import { assertCron, assertTimezone, CronExpression } from './cron-expression.js';
import {
  E_SCHEDULE_INVALID_CRON,
  E_SCHEDULE_INVALID_TASK,
  E_SCHEDULE_INVALID_TIME,
} from './errors.js';

/** What a `schedule.call()` callback receives. */
export interface TaskContext {
  /** The task's name. */
  readonly name: string;
  /** The minute the task was due at (not the moment it started). */
  readonly scheduledAt: Date;
  /** The scheduler's logger with the task's name bound. */
  readonly logger: Logger;
}

/** What a task runs: a CLI command, a callback, or a job handed to the queue. */
export type TaskTarget =
  | { readonly kind: 'command'; readonly command: string; readonly argv: readonly string[] }
  | { readonly kind: 'call'; readonly fn: (ctx: TaskContext) => Awaitable<unknown> }
  | { readonly kind: 'job'; readonly job: JobClass<unknown>; readonly payload: unknown };

/** A predicate for `when()` / `skip()`. */
export type TaskFilter = (scheduledAt: Date) => Awaitable<boolean>;

/** A task's settings, as `schedule:list` shows them. */
export interface TaskInfo {
  readonly name: string;
  readonly description: string | undefined;
  readonly kind: TaskTarget['kind'];
  /** The five-field cron expression. */
  readonly expression: string;
  readonly timezone: string;
  /** The lock's lease in ms when the task must not overlap itself; undefined otherwise. */
  readonly withoutOverlapping: number | undefined;
  readonly onOneServer: boolean;
  /** The environments it runs in; undefined for all. */
  readonly environments: readonly string[] | undefined;
}

/** Laravel's default: a crashed run's overlap lock expires after a day. */
const DEFAULT_OVERLAP_TTL = 24 * 60 * 60 * 1000;
const MAX_NAME_LENGTH = 200;

/** A task's name, checked: 1 to 200 characters without control characters. */
export function assertTaskName(name: unknown): string {
  if (typeof name !== 'string')
    throw new E_SCHEDULE_INVALID_TASK(String(name), 'the name must be a string');
  if (name.trim().length === 0) throw new E_SCHEDULE_INVALID_TASK(name, 'the name is empty');
  if (name.length > MAX_NAME_LENGTH)
    throw new E_SCHEDULE_INVALID_TASK(
      name,
      `the name is longer than ${MAX_NAME_LENGTH} characters`,
    );
  const control =
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters
    /[\u0000-\u001f\u007f]/.test(name);
  if (control || /[\uD800-\uDFFF]/.test(name.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')))
    throw new E_SCHEDULE_INVALID_TASK(
      name,
      'the name contains a control character or an unpaired surrogate',
    );
  return name;
}

function integer(method: string, value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new E_SCHEDULE_INVALID_TIME(method, String(value), `is not ${what} (${min}-${max})`);
  return value;
}

/** `'HH:MM'` → [hour, minute]; `'7:05'` is accepted, `'24:00'`, `'2:5'` and `'02:00:30'` are not. */
export function parseTime(method: string, time: unknown): [number, number] {
  const match = typeof time === 'string' ? /^(\d{1,2}):(\d{2})$/.exec(time) : null;
  if (!match) throw new E_SCHEDULE_INVALID_TIME(method, String(time), 'is not "HH:MM"');
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (hour > 23) throw new E_SCHEDULE_INVALID_TIME(method, String(time), 'has an hour over 23');
  if (minute > 59) throw new E_SCHEDULE_INVALID_TIME(method, String(time), 'has a minute over 59');
  return [hour, minute];
}

/**
 * One scheduled task: what it runs, when (a cron expression in a time zone), and how
 * (overlap and one-server locks, filters). Made by `schedule.command()`, `.call()` or
 * `.job()`; every method returns the task, Laravel-style. The frequency helpers set fields of
 * the expression, so they combine: `.weekly().at('08:30')`, `.hourlyAt(15).weekdays()`.
 *
 * @example
 * ```ts
 * schedule.command('cache:gc').hourly();
 * schedule.call('reports:nightly', async ({ logger }) => buildReports(logger))
 *   .dailyAt('02:00').timezone('Europe/Paris').withoutOverlapping().onOneServer();
 * schedule.job(SendDigest, { list: 'weekly' }).weeklyOn(1, '08:00');
 * ```
 */
export class ScheduledTask {
  readonly target: TaskTarget;
  /** minute, hour, day of month, month, day of week. */
  #fields: string[] = ['*', '*', '*', '*', '*'];
  #name: string;
  #description: string | undefined;
  #timezone: string | undefined;
  #defaultTimezone: () => string;
  #overlapTtl: number | undefined;
  #oneServer = false;
  #environments: string[] | undefined;
  #filters: Array<{ skip: boolean; fn: TaskFilter }> = [];
  #compiled: CronExpression | undefined;

  constructor(target: TaskTarget, name: string, defaultTimezone: () => string = () => 'UTC') {
    this.target = target;
    this.#name = assertTaskName(name);
    this.#defaultTimezone = defaultTimezone;
  }

  /** The five-field expression. */
  get expression(): string {
    return this.#fields.join(' ');
  }

  get info(): TaskInfo {
    return {
      name: this.#name,
      description: this.#description,
      kind: this.target.kind,
      expression: this.expression,
      timezone: this.#timezone ?? this.#defaultTimezone(),
      withoutOverlapping: this.#overlapTtl,
      onOneServer: this.#oneServer,
      environments: this.#environments,
    };
  }

  /** The parsed expression in the task's time zone (cached until a setting changes). */
  get compiled(): CronExpression {
    const timezone = this.#timezone ?? this.#defaultTimezone();
    if (this.#compiled?.expression !== this.expression || this.#compiled.timezone !== timezone)
      this.#compiled = new CronExpression(this.expression, timezone);
    return this.#compiled;
  }

  /** The filters (`when`, `skip`) in order. */
  get filters(): ReadonlyArray<{ readonly skip: boolean; readonly fn: TaskFilter }> {
    return this.#filters;
  }

  // Identity and description -------------------------------------------------------------

  /** Name the task: its log lines, `schedule:list` row and lock keys. */
  name(name: string): this {
    this.#name = assertTaskName(name);
    return this;
  }

  description(text: string): this {
    if (typeof text !== 'string')
      throw new E_SCHEDULE_INVALID_TASK(this.#name, 'the description must be a string');
    this.#description = text;
    return this;
  }

  // Expression ---------------------------------------------------------------------------

  /** A five-field cron expression (`'*\/5 * * * *'`, `'30 2 * * 1-5'`, `'@daily'`). */
  cron(expression: string): this {
    const text = assertCron(expression);
    // croner expands nicknames; keep five fields so helpers can still edit one of them.
    const fields = text.startsWith('@') ? nickname(expression, text) : text.split(' ');
    this.#fields = fields;
    return this;
  }

  /** Evaluate the expression in this IANA time zone (default: the schedule's, UTC unless configured). */
  timezone(timezone: string): this {
    this.#timezone = assertTimezone(timezone);
    return this;
  }

  everyMinute(): this {
    return this.#set(0, '*').#set(1, '*');
  }
  everyTwoMinutes(): this {
    return this.#everyMinutes(2);
  }
  everyThreeMinutes(): this {
    return this.#everyMinutes(3);
  }
  everyFourMinutes(): this {
    return this.#everyMinutes(4);
  }
  everyFiveMinutes(): this {
    return this.#everyMinutes(5);
  }
  everyTenMinutes(): this {
    return this.#everyMinutes(10);
  }
  everyFifteenMinutes(): this {
    return this.#everyMinutes(15);
  }
  everyThirtyMinutes(): this {
    return this.#everyMinutes(30);
  }

  /** At minute 0 of every hour. */
  hourly(): this {
    return this.hourlyAt(0);
  }
  /** At this minute (0-59) of every hour. */
  hourlyAt(minute: number): this {
    return this.#set(0, String(integer('hourlyAt', minute, 0, 59, 'a minute'))).#set(1, '*');
  }
  everyTwoHours(minute = 0): this {
    return this.#everyHours(2, minute);
  }
  everyThreeHours(minute = 0): this {
    return this.#everyHours(3, minute);
  }
  everyFourHours(minute = 0): this {
    return this.#everyHours(4, minute);
  }
  everySixHours(minute = 0): this {
    return this.#everyHours(6, minute);
  }

  /** At midnight. */
  daily(): this {
    return this.dailyAt('00:00');
  }
  /** Every day at `'HH:MM'`. */
  dailyAt(time: string): this {
    return this.#at('dailyAt', time);
  }
  /** Set the time of day (`'HH:MM'`) of the current frequency: `.weekly().at('08:30')`. */
  at(time: string): this {
    return this.#at('at', time);
  }
  /** Twice a day, at minute `minute` of hours `first` and `second`. */
  twiceDaily(first = 1, second = 13, minute = 0): this {
    const a = integer('twiceDaily', first, 0, 23, 'an hour');
    const b = integer('twiceDaily', second, 0, 23, 'an hour');
    return this.#set(0, String(integer('twiceDaily', minute, 0, 59, 'a minute'))).#set(
      1,
      `${a},${b}`,
    );
  }

  /** Sundays at midnight. */
  weekly(): this {
    return this.#set(0, '0').#set(1, '0').#set(2, '*').#set(4, '0');
  }
  /** On this day of the week (0 = Sunday … 6) at `'HH:MM'`. */
  weeklyOn(day: number, time = '00:00'): this {
    this.#set(2, '*').#set(4, String(integer('weeklyOn', day, 0, 6, 'a day of the week')));
    return this.#at('weeklyOn', time);
  }
  /** The first of the month at midnight. */
  monthly(): this {
    return this.#set(0, '0').#set(1, '0').#set(2, '1').#set(3, '*');
  }
  /** On this day of the month (1-31) at `'HH:MM'`. */
  monthlyOn(day = 1, time = '00:00'): this {
    this.#set(2, String(integer('monthlyOn', day, 1, 31, 'a day of the month'))).#set(3, '*');
    return this.#at('monthlyOn', time);
  }
  /** The first day of each quarter at midnight. */
  quarterly(): this {
    return this.#set(0, '0').#set(1, '0').#set(2, '1').#set(3, '1-12/3');
  }
  /** January 1st at midnight. */
  yearly(): this {
    return this.#set(0, '0').#set(1, '0').#set(2, '1').#set(3, '1');
  }

  /** Monday to Friday. */
  weekdays(): this {
    return this.#set(4, '1-5');
  }
  /** Saturday and Sunday. */
  weekends(): this {
    return this.#set(4, '0,6');
  }
  sundays(): this {
    return this.days(0);
  }
  mondays(): this {
    return this.days(1);
  }
  tuesdays(): this {
    return this.days(2);
  }
  wednesdays(): this {
    return this.days(3);
  }
  thursdays(): this {
    return this.days(4);
  }
  fridays(): this {
    return this.days(5);
  }
  saturdays(): this {
    return this.days(6);
  }
  /** Only on these days of the week (0 = Sunday … 6). */
  days(...days: number[]): this {
    if (days.length === 0) throw new E_SCHEDULE_INVALID_TIME('days', '', 'needs at least one day');
    const list = [...new Set(days.map((d) => integer('days', d, 0, 6, 'a day of the week')))];
    return this.#set(4, list.sort((a, b) => a - b).join(','));
  }

  // Running ------------------------------------------------------------------------------

  /**
   * Skip a run while the previous one still runs (on any server sharing the lock store).
   * `ttl` bounds the lock, so a crashed run frees the task after it (default 24 hours).
   */
  withoutOverlapping(ttl: number | string = DEFAULT_OVERLAP_TTL): this {
    let ms: number;
    try {
      ms = parseDuration(ttl);
    } catch {
      throw new E_SCHEDULE_INVALID_TASK(
        this.#name,
        `withoutOverlapping(${JSON.stringify(ttl)}) is not a duration`,
      );
    }
    if (!(ms >= 1000))
      throw new E_SCHEDULE_INVALID_TASK(
        this.#name,
        'the withoutOverlapping() lock must last at least 1 second',
      );
    this.#overlapTtl = ms;
    return this;
  }

  /** Run once per due minute across every server sharing the lock store (database or redis). */
  onOneServer(): this {
    this.#oneServer = true;
    return this;
  }

  /** Run only in these environments (`app.environment` names: production, staging, …). */
  environments(...names: string[]): this {
    if (names.length === 0 || names.some((n) => typeof n !== 'string' || n === ''))
      throw new E_SCHEDULE_INVALID_TASK(this.#name, 'environments() needs one or more names');
    this.#environments = names;
    return this;
  }

  /** Run only when `fn` answers true (checked each time the task is due). */
  when(fn: TaskFilter): this {
    return this.#filter(false, fn);
  }

  /** Skip the run when `fn` answers true. */
  skip(fn: TaskFilter): this {
    return this.#filter(true, fn);
  }

  #filter(skip: boolean, fn: TaskFilter): this {
    if (typeof fn !== 'function')
      throw new E_SCHEDULE_INVALID_TASK(this.#name, `${skip ? 'skip' : 'when'}() needs a function`);
    this.#filters.push({ skip, fn });
    return this;
  }

  #set(index: number, value: string): this {
    this.#fields[index] = value;
    return this;
  }

  #everyMinutes(n: number): this {
    return this.#set(0, `*/${n}`).#set(1, '*');
  }

  #everyHours(n: number, minute: number): this {
    return this.#set(0, String(integer(`every${n}Hours`, minute, 0, 59, 'a minute'))).#set(
      1,
      `*/${n}`,
    );
  }

  #at(method: string, time: string): this {
    const [hour, minute] = parseTime(method, time);
    return this.#set(0, String(minute)).#set(1, String(hour));
  }
}

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function nickname(input: string, text: string): string[] {
  const expanded = NICKNAMES[text.toLowerCase()];
  if (!expanded)
    throw new E_SCHEDULE_INVALID_CRON(input, `the nickname "${text}" is not supported`);
  return expanded.split(' ');
}

/** A job instance for a `schedule.job()` task, built fresh for each run. */
export function buildJob(target: Extract<TaskTarget, { kind: 'job' }>): Job<unknown> {
  return new target.job(target.payload);
}
