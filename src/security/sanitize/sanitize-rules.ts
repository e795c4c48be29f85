import { suggest } from '../../support/index.js';
import { E_SECURITY_CONFIG_INVALID } from '../errors.js';
import {
  collapseWhitespace,
  compose,
  limitCombining,
  lowercase,
  normalize,
  type Sanitizer,
  stripControl,
  stripInvisible,
  stripTags,
  trim,
  uppercase,
} from './sanitizers.js';

/**
 * A sanitizer by name (`'trim'`, `'nfkc'`, `'strip_control:keep_newlines'`,
 * `'max_combining:2'`, ...) or a function of your own.
 */
export type SanitizerSpec = string | Sanitizer;

/** Sanitizers for every string of a part, or per field path (`'*'` for the others). */
export type PartRules = readonly SanitizerSpec[] | Record<string, readonly SanitizerSpec[]>;

/** What the `sanitize` middleware rewrites before validation. */
export interface SanitizeOptions {
  body?: PartRules;
  query?: PartRules;
}

/** `security.sanitize` in config/security.ts: named profiles for `sanitize[:name]`. */
export interface SanitizeConfig {
  profiles?: Record<string, SanitizeOptions>;
}

const NAMED: Record<string, (arg: string | undefined) => Sanitizer> = {
  trim: () => trim(),
  collapse_whitespace: (arg) => collapseWhitespace({ keepNewlines: arg === 'keep_newlines' }),
  nfc: () => normalize('NFC'),
  nfd: () => normalize('NFD'),
  nfkc: () => normalize('NFKC'),
  nfkd: () => normalize('NFKD'),
  strip_control: (arg) => stripControl(arg === 'keep_newlines' ? { keep: '\n\t' } : {}),
  strip_invisible: (arg) => stripInvisible({ keepJoiners: arg === 'keep_joiners' }),
  max_combining: (arg) => limitCombining(arg === undefined ? 2 : Number(arg)),
  strip_tags: () => stripTags(),
  lowercase: () => lowercase(),
  uppercase: () => uppercase(),
};

const ARGS: Record<string, (arg: string) => boolean> = {
  collapse_whitespace: (arg) => arg === 'keep_newlines',
  strip_control: (arg) => arg === 'keep_newlines',
  strip_invisible: (arg) => arg === 'keep_joiners',
  max_combining: (arg) => /^\d{1,2}$/.test(arg),
};

/**
 * Safe defaults for free text: control characters out (newlines and tabs kept), invisible
 * format characters out (joiners kept), NFC, at most two combining marks per letter, trimmed.
 */
export const DEFAULT_SANITIZERS: readonly SanitizerSpec[] = Object.freeze([
  'strip_control:keep_newlines',
  'strip_invisible:keep_joiners',
  'nfc',
  'max_combining:2',
  'trim',
]);

function fail(key: string, reason: string): never {
  throw new E_SECURITY_CONFIG_INVALID(key, reason);
}

/** Build one sanitizer from a list of specs; `key` names the list in errors. */
export function compileSanitizers(specs: unknown, key: string): Sanitizer {
  if (!Array.isArray(specs) || specs.length === 0)
    fail(key, "expected a non-empty list like ['trim', 'nfc']");
  const steps = specs.map((spec, i): Sanitizer => {
    if (typeof spec === 'function') return spec as Sanitizer;
    if (typeof spec !== 'string') fail(`${key}.${i}`, 'expected a sanitizer name or a function');
    const colon = spec.indexOf(':');
    const name = colon === -1 ? spec : spec.slice(0, colon);
    const arg = colon === -1 ? undefined : spec.slice(colon + 1);
    const make = NAMED[name];
    if (make === undefined) {
      const nearest = suggest(name, Object.keys(NAMED));
      fail(
        `${key}.${i}`,
        `unknown sanitizer "${name}"${nearest ? `; did you mean "${nearest}"?` : ''}`,
      );
    }
    if (arg !== undefined && !ARGS[name]?.(arg))
      fail(`${key}.${i}`, `"${spec}": ${name} does not take "${arg}"`);
    return make(arg);
  });
  return compose(...steps);
}

/** A compiled part: one sanitizer for every string, or per path segment list. */
export type CompiledPart =
  | { kind: 'all'; sanitize: Sanitizer }
  | {
      kind: 'fields';
      fields: readonly { path: readonly string[]; sanitize: Sanitizer }[];
      rest: Sanitizer | undefined;
    };

export function compilePart(rules: unknown, key: string): CompiledPart | undefined {
  if (rules === undefined) return undefined;
  if (Array.isArray(rules)) return { kind: 'all', sanitize: compileSanitizers(rules, key) };
  if (typeof rules !== 'object' || rules === null)
    fail(key, "expected a list of sanitizers or { field: [...], '*': [...] }");
  const fields: { path: string[]; sanitize: Sanitizer }[] = [];
  let rest: Sanitizer | undefined;
  for (const [field, specs] of Object.entries(rules)) {
    const at = `${key}.${field}`;
    if (field === '*') {
      rest = compileSanitizers(specs, at);
      continue;
    }
    const path = field.split('.');
    if (path.some((segment) => segment === '' || segment === '__proto__'))
      fail(at, 'a field path is names separated by dots, "*" for any key or index');
    fields.push({ path, sanitize: compileSanitizers(specs, at) });
  }
  return { kind: 'fields', fields, rest };
}

/**
 * Validate `security.sanitize` and compile each profile; a `default` profile
 * ({@link DEFAULT_SANITIZERS} on body and query) exists unless the app defines its own.
 */
export function compileSanitizeProfiles(
  config: unknown,
): Map<string, { body?: CompiledPart; query?: CompiledPart }> {
  const out = new Map<string, { body?: CompiledPart; query?: CompiledPart }>();
  const profiles: Record<string, unknown> = {
    default: { body: DEFAULT_SANITIZERS, query: DEFAULT_SANITIZERS },
  };
  if (config !== undefined) {
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      fail('security.sanitize', 'expected an object like { profiles: { ... } }');
    for (const key of Object.keys(config))
      if (key !== 'profiles') fail(`security.sanitize.${key}`, 'unknown key (expected "profiles")');
    const own = (config as SanitizeConfig).profiles;
    if (own !== undefined) {
      if (typeof own !== 'object' || own === null || Array.isArray(own))
        fail('security.sanitize.profiles', 'expected profiles by name');
      Object.assign(profiles, own);
    }
  }
  for (const [name, options] of Object.entries(profiles)) {
    out.set(name, compileOptions(options, `security.sanitize.profiles.${name}`));
  }
  return out;
}

export function compileOptions(
  options: unknown,
  key: string,
): { body?: CompiledPart; query?: CompiledPart } {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    fail(key, 'expected { body?, query? }');
  for (const part of Object.keys(options))
    if (part !== 'body' && part !== 'query')
      fail(`${key}.${part}`, 'unknown part (expected body or query)');
  const body = compilePart((options as SanitizeOptions).body, `${key}.body`);
  const query = compilePart((options as SanitizeOptions).query, `${key}.query`);
  if (body === undefined && query === undefined)
    fail(key, 'sanitizes nothing: give body or query rules');
  return { ...(body ? { body } : {}), ...(query ? { query } : {}) };
}
