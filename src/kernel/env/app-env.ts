import { suggest } from '../../support/index.js';
import { E_APP_ENV_INVALID } from './errors.js';

/** The environments an application runs in. */
export type AppEnv = 'production' | 'staging' | 'development' | 'test';

/** The canonical names, in the order error messages list them. */
export const APP_ENVS: readonly AppEnv[] = ['production', 'staging', 'development', 'test'];

/** Every accepted spelling (lower case) and its canonical name. */
export const APP_ENV_ALIASES: Readonly<Record<string, AppEnv>> = {
  production: 'production',
  prod: 'production',
  staging: 'staging',
  stage: 'staging',
  development: 'development',
  dev: 'development',
  test: 'test',
};

/**
 * The canonical name of an `APP_ENV` value, accepting `prod`, `stage` and `dev` in any case.
 * Throws `E_APP_ENV_INVALID`, with a suggestion, for anything else.
 *
 * @example
 * ```ts
 * normalizeAppEnv('PROD'); // 'production'
 * ```
 */
export function normalizeAppEnv(value: string): AppEnv {
  const canonical = lookupAppEnv(value);
  if (canonical) return canonical;
  throw new E_APP_ENV_INVALID(value, suggestAppEnv(value));
}

/** The canonical name of an `APP_ENV` value, or `undefined` when it is not one. */
export function lookupAppEnv(value: string): AppEnv | undefined {
  const key = value.trim().toLowerCase();
  return Object.hasOwn(APP_ENV_ALIASES, key) ? APP_ENV_ALIASES[key] : undefined;
}

/** The accepted spelling nearest to a mistyped `APP_ENV`, if one is close. */
export function suggestAppEnv(value: string): string | undefined {
  return suggest(value.trim().toLowerCase(), Object.keys(APP_ENV_ALIASES));
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * Read a boolean the way environment variables spell them: `true/false`, `1/0`, `yes/no`,
 * `on/off`, in any case. `undefined` for anything else, so the caller can say what is wrong.
 *
 * @example
 * ```ts
 * parseBooleanString('On'); // true
 * parseBooleanString('maybe'); // undefined
 * ```
 */
export function parseBooleanString(value: string): boolean | undefined {
  const key = value.trim().toLowerCase();
  if (TRUE.has(key)) return true;
  if (FALSE.has(key)) return false;
  return undefined;
}

/** The accepted boolean spellings, for error messages. */
export const BOOLEAN_SPELLINGS = 'true/false, 1/0, yes/no or on/off';
