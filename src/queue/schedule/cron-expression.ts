import { Cron } from 'croner';
import { E_SCHEDULE_INVALID_CRON, E_SCHEDULE_INVALID_TIMEZONE } from './errors.js';

/** One minute in milliseconds: the scheduler's resolution. */
export const MINUTE_MS = 60_000;

const MAX_EXPRESSION_LENGTH = 200;

// Names as written in the IANA database ('America/New_York', 'Etc/GMT+2', 'UTC'); the shape
// check keeps paths, whitespace and overlong input away from Intl.
const IANA_SHAPE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}$/;

/**
 * The time zone, checked: an IANA name the runtime knows. Throws E_SCHEDULE_INVALID_TIMEZONE.
 *
 * @example
 * ```ts
 * assertTimezone('Europe/Paris'); // 'Europe/Paris'
 * assertTimezone('Mars/Olympus'); // throws
 * ```
 */
export function assertTimezone(timezone: unknown): string {
  if (typeof timezone !== 'string' || timezone.length > 64 || !IANA_SHAPE.test(timezone))
    throw new E_SCHEDULE_INVALID_TIMEZONE(String(timezone));
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new E_SCHEDULE_INVALID_TIMEZONE(timezone);
  }
  return timezone;
}

/** The start of the minute `date` falls in (UTC epoch minutes: every zone in use today has whole-minute offsets). */
export function startOfMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / MINUTE_MS) * MINUTE_MS);
}

/**
 * A five-field cron expression in a time zone, parsed once by croner. DST follows croner's
 * rules, the same as Vixie cron's: a task at a fixed time (`30 2 * * *`) whose time falls in
 * the spring-forward gap runs at the first minute after the gap, and once only when the
 * fall-back hour repeats it; interval tasks (`*\/15 * * * *`, `0 * * * *`) run on the wall
 * clock's real minutes, skipping the gap and running in both repeated hours.
 *
 * @example
 * ```ts
 * const cron = new CronExpression('30 2 * * *', 'Europe/Paris');
 * cron.isDue(new Date('2026-03-29T01:00:00Z')); // true: 02:30 does not exist that day, 03:00 runs it
 * ```
 */
export class CronExpression {
  readonly expression: string;
  readonly timezone: string;
  readonly #cron: Cron;

  constructor(expression: string, timezone: string) {
    this.expression = assertCron(expression);
    this.timezone = assertTimezone(timezone);
    this.#cron = new Cron(this.expression, {
      timezone: this.timezone,
      mode: '5-part',
      paused: true,
    });
  }

  /** The first run strictly after `after` (null when the expression never matches, like Feb 31). */
  nextRun(after: Date): Date | null {
    return this.#cron.nextRun(after);
  }

  /** The next `n` runs after `after`. */
  nextRuns(n: number, after: Date): Date[] {
    return this.#cron.nextRuns(n, after);
  }

  /** Whether the task runs in the minute that contains `now`. */
  isDue(now: Date): boolean {
    const minute = startOfMinute(now).getTime();
    // The run after the last second of the previous minute is this minute's, when it is due:
    // unlike match(), this also covers a fixed time moved out of a DST gap.
    return this.#cron.nextRun(new Date(minute - 1000))?.getTime() === minute;
  }
}

/**
 * The expression, checked: five fields that croner parses. Throws E_SCHEDULE_INVALID_CRON
 * naming the field at fault.
 */
export function assertCron(expression: unknown): string {
  if (typeof expression !== 'string')
    throw new E_SCHEDULE_INVALID_CRON(
      String(expression),
      `it is a ${typeof expression}, not a string`,
    );
  const text = expression.trim().replace(/\s+/g, ' ');
  if (text.length === 0) throw new E_SCHEDULE_INVALID_CRON(expression, 'it is empty');
  if (text.length > MAX_EXPRESSION_LENGTH)
    throw new E_SCHEDULE_INVALID_CRON(
      expression,
      `it is longer than ${MAX_EXPRESSION_LENGTH} characters`,
    );
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters
  if (/[\u0000-\u001f\u007f]/.test(text))
    throw new E_SCHEDULE_INVALID_CRON(expression, 'it contains a control character');
  const fields = text.split(' ').length;
  if (!text.startsWith('@') && fields !== 5)
    throw new E_SCHEDULE_INVALID_CRON(
      expression,
      fields === 6
        ? 'it has 6 fields; seconds are not supported (the scheduler runs once a minute)'
        : `it has ${fields} field(s), not 5 (minute hour day-of-month month day-of-week)`,
    );
  try {
    new Cron(text, { mode: '5-part', paused: true });
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw new E_SCHEDULE_INVALID_CRON(expression, reason);
  }
  return text;
}
