/** True for plain `{}` objects (not arrays, dates, class instances or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Deep-merge plain objects, later sources winning. Arrays and non-plain values are
 * replaced, not merged. Prototype-poisoning keys are skipped.
 */
export function deepMerge<T extends Record<string, unknown>>(
  ...sources: Array<Record<string, unknown> | undefined>
): T {
  const out: Record<string, unknown> = {};
  for (const source of sources) {
    if (!source) continue;
    for (const [key, value] of Object.entries(source)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      const current = out[key];
      out[key] =
        isPlainObject(value) && isPlainObject(current)
          ? deepMerge(current, value)
          : isPlainObject(value)
            ? deepMerge(value)
            : value;
    }
  }
  return out as T;
}

/** Recursively freeze an object graph of plain objects and arrays. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** Read a dot path (`'db.connections.default'`) from an object. */
export function getPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Set a dot path on a plain object, creating intermediate objects. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let current = target;
  for (const segment of segments.slice(0, -1)) {
    if (FORBIDDEN_KEYS.has(segment)) return;
    const next = current[segment];
    if (!isPlainObject(next)) current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  const last = segments.at(-1)!;
  if (!FORBIDDEN_KEYS.has(last)) current[last] = value;
}

/** Whether `object` has an own or inherited enumerable key; no array of keys is made. */
export function hasKeys(object: object): boolean {
  for (const _ in object) return true;
  return false;
}
