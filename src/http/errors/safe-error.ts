import { KeelError } from '../../support/index.js';

/**
 * Reading thrown values without trusting them. Anything can be thrown: strings, `null`,
 * objects whose getters throw, Proxies whose every trap throws, errors whose `cause` points
 * back at themselves. The error layer runs while something already went wrong, so every
 * read here is guarded and every result is plain, bounded, JSON-serialisable data.
 */

/** Longest string kept from a thrown value (messages, detail members). */
export const MAX_TEXT = 4096;
const MAX_DEPTH = 6;
const MAX_ITEMS = 1000;
const MAX_KEYS = 100;
const MAX_CAUSES = 10;
const MAX_STACK_LINES = 50;

/** `value[key]`, or `undefined` when reading it throws. */
export function safeGet(value: unknown, key: PropertyKey): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function'))
    return undefined;
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** `value instanceof KeelError`, false when the check itself throws (hostile Proxy). */
export function safeIsKeelError(value: unknown): value is KeelError {
  try {
    return value instanceof KeelError;
  } catch {
    return false;
  }
}

/** `value instanceof Error` without throwing. */
export function safeIsError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** Cut `text` to `max` characters. */
export function truncate(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `String(value)` that never throws (a `toString` or `Symbol.toPrimitive` may). */
export function safeString(value: unknown): string {
  try {
    return truncate(String(value));
  } catch {
    return '[unprintable]';
  }
}

/** A string property, or `undefined` when absent, not a string or unreadable. */
export function stringProp(value: unknown, key: string): string | undefined {
  const found = safeGet(value, key);
  return typeof found === 'string' ? found : undefined;
}

/**
 * A copy of `value` that `JSON.stringify` always accepts: cycles become `'[Circular]'`, deep
 * nesting `'[Truncated]'`, bigints strings, dates ISO strings, errors `{ name, message }`,
 * functions and symbols are dropped, unreadable members skipped.
 */
export function toJsonSafe(value: unknown): unknown {
  return clone(value, 0, new Set());
}

function clone(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return truncate(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof Error) return errorSummary(value);
    ancestors.add(value);
    try {
      if (Array.isArray(value)) {
        return value.slice(0, MAX_ITEMS).map((item) => clone(item, depth + 1, ancestors) ?? null);
      }
      const toJSON = safeGet(value, 'toJSON');
      if (typeof toJSON === 'function') return clone(toJSON.call(value), depth + 1, ancestors);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value).slice(0, MAX_KEYS)) {
        // Assigning '__proto__' would replace the copy's prototype instead of adding a key.
        if (key === '__proto__') continue;
        const member = clone(safeGet(value, key), depth + 1, ancestors);
        if (member !== undefined) out[key] = member;
      }
      return out;
    } finally {
      ancestors.delete(value);
    }
  } catch {
    return '[Unreadable]';
  }
}

function errorSummary(error: unknown): { name: string; message: string; code?: string } {
  const described = describeThrown(error);
  return {
    name: described.name,
    message: described.message,
    ...(described.code === undefined ? {} : { code: described.code }),
  };
}

/** What a thrown value says about itself, read safely. */
export interface ThrownDescription {
  /** `error.name`, or the kind of value thrown: `'string'`, `'null'`, `'object'`. */
  name: string;
  message: string;
  /** `error.code` when it is a string (`E_*` or a Node code such as `ECONNREFUSED`). */
  code?: string;
  stack?: string;
}

/**
 * Name, message, code and stack of anything thrown, never throwing itself.
 *
 * @example
 * ```ts
 * describeThrown('boom'); // { name: 'string', message: 'boom' }
 * ```
 */
export function describeThrown(value: unknown): ThrownDescription {
  if (value === null) return { name: 'null', message: 'null' };
  if (typeof value !== 'object' && typeof value !== 'function') {
    return { name: typeof value, message: safeString(value) };
  }
  const name = stringProp(value, 'name') ?? (safeIsError(value) ? 'Error' : 'object');
  let message = stringProp(value, 'message');
  if (message === undefined) {
    const json = safeStringify(toJsonSafe(value));
    message = json === undefined || json === '{}' ? safeString(value) : json;
  }
  const code = stringProp(value, 'code');
  const stack = stringProp(value, 'stack');
  return {
    name: truncate(name, 200),
    message: truncate(message),
    ...(code === undefined ? {} : { code: truncate(code, 200) }),
    ...(stack === undefined ? {} : { stack }),
  };
}

/** `JSON.stringify` that returns `undefined` instead of throwing. */
export function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The stack of a thrown value as trimmed lines, at most 50. */
export function stackLines(value: unknown): string[] | undefined {
  const stack = stringProp(value, 'stack');
  if (stack === undefined) return undefined;
  return stack
    .split('\n')
    .slice(0, MAX_STACK_LINES)
    .map((line) => truncate(line.trim(), 1000))
    .filter((line) => line !== '');
}

/** One link of a cause chain. */
export interface CauseSummary {
  name: string;
  message: string;
  code?: string;
}

/** The `cause` chain below `value` (not `value` itself), stopping at a cycle or after 10. */
export function causeChain(value: unknown): CauseSummary[] {
  const chain: CauseSummary[] = [];
  const seen = new Set<unknown>([value]);
  let current = safeGet(value, 'cause');
  while (current !== undefined && chain.length < MAX_CAUSES && !seen.has(current)) {
    seen.add(current);
    chain.push(errorSummary(current));
    current = safeGet(current, 'cause');
  }
  return chain;
}
