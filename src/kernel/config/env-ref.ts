import parseJson from 'secure-json-parse';
import { isPlainObject } from '../../support/index.js';
import { Env, parseBooleanString } from '../env/index.js';
import { E_ENV_CAST, E_ENV_REF_INVALID, type EnvCastFailure } from './errors.js';

/** How an env reference turns the variable's string into a config value. */
export type EnvCast = 'string' | 'number' | 'boolean' | 'json';

const CASTS: ReadonlySet<string> = new Set<EnvCast>(['string', 'number', 'boolean', 'json']);
const REF_KEYS: ReadonlySet<string> = new Set(['$env', 'default', 'cast']);
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A placeholder for an environment variable inside a config tree. It is plain JSON, so the
 * compiled `var/cache/config.json` holds `{ "$env": "DB_PASSWORD" }` and never the password.
 */
export interface EnvRef {
  readonly $env: string;
  readonly default?: unknown;
  readonly cast?: EnvCast;
}

/**
 * What references resolve against: an `Env` (its validated values, then its raw variables),
 * or a plain map of variables or already-validated values.
 */
export type EnvLookup = Env<object> | Readonly<Record<string, unknown>>;

type JsonDefault = string | number | boolean | null | readonly unknown[] | Record<string, unknown>;

/** The value type `env(key, default)` stands for: the default's type, widened. */
export type EnvDefaultType<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends null
        ? string | null
        : T;

/** The `env` helper of config files; see {@link env}. */
export interface EnvHelper {
  (key: string): string | undefined;
  <T extends JsonDefault>(key: string, defaultValue: T): EnvDefaultType<T>;
  string(key: string): string | undefined;
  string(key: string, defaultValue: string): string;
  number(key: string): number | undefined;
  number(key: string, defaultValue: number): number;
  boolean(key: string): boolean | undefined;
  boolean(key: string, defaultValue: boolean): boolean;
  json<T = unknown>(key: string): T | undefined;
  json<T>(key: string, defaultValue: T): T;
}

function makeRef(key: unknown, cast: EnvCast, args: readonly unknown[]): EnvRef {
  if (typeof key !== 'string' || key.trim() === '') {
    throw new E_ENV_REF_INVALID(
      `the variable name must be a non-empty string, got ${describe(key)}`,
    );
  }
  const hasDefault = args.length > 1 && args[1] !== undefined;
  const ref: EnvRef = hasDefault ? { $env: key, default: args[1], cast } : { $env: key, cast };
  return Object.freeze(ref);
}

function castOf(defaultValue: unknown): EnvCast {
  switch (typeof defaultValue) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return defaultValue === null ? 'string' : 'json';
    default:
      return 'string';
  }
}

/**
 * Refer to an environment variable from a config file. The call returns a reference object
 * (`{ $env: 'PORT', default: 3000, cast: 'number' }`) typed as the value it stands for;
 * references are resolved when the application boots, so compiled config holds no secrets.
 * With a default, the default's type picks the cast; `env.number`, `env.boolean`,
 * `env.string` and `env.json` pick it explicitly.
 *
 * @example
 * ```ts
 * export default defineConfig({
 *   port: env('PORT', 3000),            // number
 *   password: env('DB_PASSWORD'),       // string | undefined
 *   debug: env.boolean('SQL_DEBUG', false),
 *   replicas: env.json<string[]>('DB_REPLICAS', []),
 * });
 * ```
 */
export const env: EnvHelper = Object.assign(
  (...args: unknown[]) => makeRef(args[0], castOf(args[1]), args),
  {
    string: (...args: unknown[]) => makeRef(args[0], 'string', args),
    number: (...args: unknown[]) => makeRef(args[0], 'number', args),
    boolean: (...args: unknown[]) => makeRef(args[0], 'boolean', args),
    json: (...args: unknown[]) => makeRef(args[0], 'json', args),
  },
) as unknown as EnvHelper;

/**
 * True for an env reference, including one read back from compiled JSON: a plain object
 * with a string `$env`, an optional known `cast`, and no other keys than `default`.
 *
 * @example
 * ```ts
 * isEnvRef({ $env: 'PORT', default: 3000, cast: 'number' }); // true
 * ```
 */
export function isEnvRef(value: unknown): value is EnvRef {
  if (!isPlainObject(value) || typeof value.$env !== 'string') return false;
  if (value.cast !== undefined && (typeof value.cast !== 'string' || !CASTS.has(value.cast))) {
    return false;
  }
  return Object.keys(value).every((key) => REF_KEYS.has(key));
}

/**
 * A copy of `tree` with every env reference replaced by its value, read from `env` (a
 * validated value when the env schema declares the key, else the raw variable) and cast.
 * Given a list, the first lookup that has the key answers.
 * An unset or, for non-string casts, empty variable takes the reference's default. All
 * values that cannot be cast are reported at once in one `E_ENV_CAST`.
 *
 * @example
 * ```ts
 * resolveEnvRefs({ app: { port: env('PORT', 3000) } }, { PORT: '8080' }); // { app: { port: 8080 } }
 * ```
 */
export function resolveEnvRefs<T>(tree: T, env: EnvLookup | readonly EnvLookup[]): T {
  const readers = (Array.isArray(env) ? env : [env]).map(reader);
  const read = (key: string): unknown => {
    for (const readOne of readers) {
      const value = readOne(key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const failures: EnvCastFailure[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (isEnvRef(value)) return resolveRef(value, path, read, failures);
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (!FORBIDDEN_KEYS.has(key)) out[key] = walk(child, path ? `${path}.${key}` : key);
    }
    return out;
  };
  const resolved = walk(tree, '') as T;
  if (failures.length > 0) throw new E_ENV_CAST(failures);
  return resolved;
}

function reader(lookup: EnvLookup): (key: string) => unknown {
  if (lookup instanceof Env) {
    const values = lookup.all() as Readonly<Record<string, unknown>>;
    return (key) => {
      const validated = Object.hasOwn(values, key) ? values[key] : undefined;
      return validated !== undefined ? validated : lookup.variable(key);
    };
  }
  return (key) => (Object.hasOwn(lookup, key) ? lookup[key] : undefined);
}

function resolveRef(
  ref: EnvRef,
  path: string,
  read: (key: string) => unknown,
  failures: EnvCastFailure[],
): unknown {
  const cast = ref.cast ?? 'string';
  const value = read(ref.$env);
  if (value === undefined || (value === '' && cast !== 'string')) return ref.default;
  const result = castValue(value, cast);
  if ('reason' in result) {
    failures.push({ key: ref.$env, path: path || '(root)', cast, reason: result.reason });
    return undefined;
  }
  return result.value;
}

/** Cast one variable; a failure says what was expected, never what the (maybe secret) value is. */
function castValue(value: unknown, cast: EnvCast): { value: unknown } | { reason: string } {
  switch (cast) {
    case 'string':
      return { value: typeof value === 'string' ? value : JSON.stringify(value) };
    case 'number': {
      if (typeof value === 'number') return { value };
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      return Number.isFinite(number)
        ? { value: number }
        : { reason: 'expected a finite number such as 3000 or 0.5' };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      const bool = typeof value === 'string' ? parseBooleanString(value) : undefined;
      return bool === undefined
        ? { reason: 'expected true/false, 1/0, yes/no or on/off' }
        : { value: bool };
    }
    case 'json': {
      if (typeof value !== 'string') return { value };
      try {
        return {
          value: parseJson(value, null, { protoAction: 'remove', constructorAction: 'remove' }),
        };
      } catch {
        // JSON.parse's message quotes the input, which may be a secret: say only what is wrong.
        return { reason: 'expected valid JSON' };
      }
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return 'an empty string';
  return value === null ? 'null' : typeof value;
}
