import { E_INVALID_EVENT_NAME, E_INVALID_LISTENER } from './errors.js';
import type { ListenerOptions } from './types.js';

/** Longest accepted event name; names are identifiers in code, not user data. */
export const MAX_EVENT_NAME_LENGTH = 200;

// Whitespace and control characters make names ambiguous in logs and CLI output; `*` is
// reserved for wildcard listeners in listings (`ListenerInfo.event === '*'`).
const FORBIDDEN = /[\s\p{Cc}*]/u;

/**
 * Throw `E_INVALID_EVENT_NAME` unless `name` is a usable event name: a non-empty string of
 * at most {@link MAX_EVENT_NAME_LENGTH} characters, without whitespace, control
 * characters or `*`.
 */
export function assertEventName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new E_INVALID_EVENT_NAME(name, `expected a string, got ${describeType(name)}`);
  }
  if (name.length === 0) throw new E_INVALID_EVENT_NAME(name, 'it is empty');
  if (name.length > MAX_EVENT_NAME_LENGTH) {
    throw new E_INVALID_EVENT_NAME(
      name,
      `it is ${name.length} characters long (at most ${MAX_EVENT_NAME_LENGTH})`,
    );
  }
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    const what =
      bad[0] === '*' ? '"*" (reserved for wildcards)' : 'whitespace or a control character';
    throw new E_INVALID_EVENT_NAME(name, `it contains ${what} at position ${bad.index}`);
  }
}

/** `null`, `array` or the `typeof` of a value, for error messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Throw `E_INVALID_LISTENER` unless `options` are usable listener options: a finite
 * priority, a boolean `once`, non-empty `module` and `name`.
 */
export function checkListenerOptions(
  event: string,
  options: ListenerOptions | undefined,
): ListenerOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw new E_INVALID_LISTENER(event, `options must be an object, got ${describeType(options)}`);
  }
  const { priority, once, module, name } = options;
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isFinite(priority))) {
    throw new E_INVALID_LISTENER(
      event,
      `priority must be a finite number, got ${typeof priority === 'number' ? String(priority) : describeType(priority)}`,
    );
  }
  if (once !== undefined && typeof once !== 'boolean') {
    throw new E_INVALID_LISTENER(event, `"once" must be a boolean, got ${describeType(once)}`);
  }
  for (const [key, value] of [
    ['module', module],
    ['name', name],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new E_INVALID_LISTENER(
        event,
        `"${key}" must be a non-empty string, got ${describeType(value)}`,
      );
    }
  }
  return options;
}
