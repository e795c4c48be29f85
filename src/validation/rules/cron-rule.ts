import type { z } from 'zod';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { type RuleOptions, stringRule } from '../rule-check.js';

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** `?`, `L` (dom: last day; dow: `5L` last Friday), `#` (dow: `1#2` second Monday). */
  readonly special?: 'dom' | 'dow';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND: Field = { name: 'second', min: 0, max: 59 };
const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, special: 'dom' },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS, special: 'dow' },
];

const MACROS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

function value(text: string, field: Field): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max ? n : undefined;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) return undefined;
  // month names are 1-based, day names 0-based
  return field.names === MONTHS ? index + 1 : index;
}

function item(text: string, field: Field): boolean {
  if (field.special === 'dom' && (text === 'L' || text === '?')) return true;
  if (field.special === 'dow') {
    if (text === '?') return true;
    const nth = /^(\w+)#([1-5])$/.exec(text);
    if (nth) return value(nth[1]!, field) !== undefined;
    const last = /^(\w+)L$/.exec(text);
    if (last) return value(last[1]!, field) !== undefined;
  }
  const [base, step, ...rest] = text.split('/');
  if (rest.length > 0 || base === undefined) return false;
  if (step !== undefined) {
    if (!/^\d{1,2}$/.test(step)) return false;
    const n = Number(step);
    if (n < 1 || n > field.max - field.min + 1) return false;
  }
  if (base === '*') return true;
  const [from, to, ...more] = base.split('-');
  if (more.length > 0 || from === undefined) return false;
  const start = value(from, field);
  if (start === undefined) return false;
  if (to === undefined) return true;
  const end = value(to, field);
  return end !== undefined && start <= end;
}

/** Why `expression` is not a cron expression, or undefined when it is one. */
export function cronProblem(expression: string, seconds: boolean | 'optional'): string | undefined {
  const text = expression.trim();
  if (text.length > 256) return 'is too long';
  if (text.startsWith('@'))
    return MACROS.has(text.toLowerCase()) ? undefined : `unknown macro "${text}"`;
  const parts = text.split(/\s+/);
  const withSeconds = parts.length === 6;
  if (parts.length !== 5 && !withSeconds) {
    return `has ${parts.length} fields, expected ${seconds === true ? 6 : seconds === false ? 5 : '5 or 6'}`;
  }
  if ((withSeconds && seconds === false) || (!withSeconds && seconds === true)) {
    return `has ${parts.length} fields, expected ${seconds ? 6 : 5}`;
  }
  const fields = withSeconds ? [SECOND, ...FIELDS] : FIELDS;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const part = parts[i]!;
    if (!part.split(',').every((entry) => item(entry, field))) {
      return `${field.name} field "${part}" is not valid (${field.min}-${field.max})`;
    }
  }
  return undefined;
}

/**
 * A cron expression: five fields (minute hour day-of-month month day-of-week), or six with
 * seconds first; `*`, lists, ranges, steps, month and day names, `?`, `L`, `#`, and the
 * `@daily`-style macros. The error names the faulty field.
 *
 * @example
 * ```ts
 * rules.cron().parse('*\/15 9-17 * * MON-FRI');
 * rules.cron({ seconds: true }).parse('0 0 * * * *');
 * ```
 */
export function cron(options: RuleOptions & { seconds?: boolean | 'optional' } = {}): z.ZodString {
  const seconds = options.seconds ?? 'optional';
  if (seconds !== true && seconds !== false && seconds !== 'optional') {
    throw new E_INVALID_RULE_OPTIONS('cron', `seconds is true, false or 'optional'`);
  }
  return stringRule(
    'cron',
    (expression) => {
      const problem = cronProblem(expression, seconds);
      return problem === undefined
        ? undefined
        : { message: 'Must be a cron expression: {problem}', params: { problem } };
    },
    options,
  );
}
