import parseJson from 'secure-json-parse';
import { isPlainObject } from '../../support/index.js';
import { E_CONFIG_OVERRIDE_INVALID } from './errors.js';

/** The prefix of variables that override config: `KEEL_CONFIG__catalog__pageSize=50`. */
export const CONFIG_OVERRIDE_PREFIX = 'KEEL_CONFIG__';

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The config tree set by `KEEL_CONFIG__<namespace>__<key>__<subkey>` variables. Each
 * segment is matched against the keys already in `base`: exactly, else ignoring case, else
 * also ignoring `_` and `-` (so `PAGE_SIZE` finds `pageSize`); a segment that matches nothing
 * is used as written. A value that parses as JSON is used parsed (`50`, `true`,
 * `["a","b"]`), anything else as a string. Prototype-poisoning keys are dropped, in names
 * and inside JSON values.
 *
 * @example
 * ```ts
 * configOverridesFromEnv({ KEEL_CONFIG__CATALOG__PAGE_SIZE: '50' }, { catalog: { pageSize: 20 } });
 * // { catalog: { pageSize: 50 } }
 * ```
 */
export function configOverridesFromEnv(
  variables: Readonly<Record<string, string | undefined>>,
  base: Readonly<Record<string, unknown>> = {},
  prefix: string = CONFIG_OVERRIDE_PREFIX,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Shallower paths first, so a whole-object override (`…__db`) is applied before a deeper one
  // (`…__DB__POOL`) whatever their case, and the more specific one wins.
  const depth = (name: string) => name.split('__').length;
  const names = Object.keys(variables)
    .filter((name) => name.startsWith(prefix))
    .sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const raw = variables[name];
    if (raw === undefined) continue;
    const segments = name.slice(prefix.length).split('__');
    if (segments.some((segment) => segment === '')) {
      throw new E_CONFIG_OVERRIDE_INVALID(name, 'has an empty path segment');
    }
    if (segments.some((segment) => FORBIDDEN_KEYS.has(segment))) continue;
    const path: string[] = [];
    let cursor: unknown = base;
    for (const segment of segments) {
      const key = matchKey(cursor, segment);
      path.push(key);
      cursor = isPlainObject(cursor) && Object.hasOwn(cursor, key) ? cursor[key] : undefined;
    }
    setIn(out, path, parseOverrideValue(raw));
  }
  return out;
}

/** JSON when the text is valid JSON (with `__proto__`/`constructor` keys removed), else the text. */
export function parseOverrideValue(raw: string): unknown {
  try {
    return parseJson(raw, null, { protoAction: 'remove', constructorAction: 'remove' });
  } catch {
    return raw;
  }
}

function matchKey(node: unknown, segment: string): string {
  if (!isPlainObject(node) || Object.hasOwn(node, segment)) return segment;
  const keys = Object.keys(node).sort();
  const lower = segment.toLowerCase();
  const loose = (key: string) => key.toLowerCase().replace(/[-_]/g, '');
  return (
    keys.find((key) => key.toLowerCase() === lower) ??
    keys.find((key) => loose(key) === loose(segment)) ??
    segment
  );
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}
