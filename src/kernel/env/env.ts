import type { StandardSchemaV1 } from '@standard-schema/spec';
import { deepFreeze } from '../../support/index.js';
import { type AppEnv, lookupAppEnv } from './app-env.js';
import { type LoadEnvFilesOptions, loadEnvFiles } from './env-file.js';
import { type BaseEnv, baseEnvSchema, type EnvOutput, validateEnv } from './env-schema.js';

/**
 * The application's validated environment. `get` is typed by the schema it was validated
 * with; the raw variables (everything from the process and the `.env` files, validated or
 * not) stay reachable through `variable()` for config `env()` references.
 *
 * @example
 * ```ts
 * const env = loadEnv({ cwd: process.cwd() });
 * env.get('PORT'); // number
 * if (env.isProduction) enableHsts();
 * ```
 */
export class Env<T extends object = BaseEnv> {
  readonly #values: Readonly<T>;
  readonly #variables: Readonly<Record<string, string>>;
  /** The canonical environment name (`APP_ENV`, default `development`). */
  readonly appEnv: AppEnv;
  /** `APP_DEBUG`: verbose errors and logs. Defaults to true in development only. */
  readonly debug: boolean;

  constructor(values: T, variables: Readonly<Record<string, string | undefined>> = {}) {
    const copy: Record<string, string> = {};
    for (const [key, value] of Object.entries(variables)) {
      if (value !== undefined && key !== '__proto__') copy[key] = value;
    }
    this.#variables = Object.freeze(copy);
    this.#values = deepFreeze({ ...values });
    const record = this.#values as Readonly<Record<string, unknown>>;
    const declared = record.APP_ENV;
    this.appEnv =
      (typeof declared === 'string' ? lookupAppEnv(declared) : undefined) ??
      lookupAppEnv(copy.APP_ENV ?? '') ??
      'development';
    const debug = record.APP_DEBUG;
    this.debug = typeof debug === 'boolean' ? debug : this.appEnv === 'development';
  }

  /**
   * Load `.env`, `.env.local` and the process environment, validate them against `schema`
   * (the base schema by default) and wrap the result.
   *
   * @example
   * ```ts
   * const env = Env.load({ cwd, schema: defineEnvSchema({ DB_URL: z.string() }) });
   * ```
   */
  static load<S extends StandardSchemaV1 = typeof baseEnvSchema>(
    options: LoadEnvOptions<S>,
  ): Env<EnvOutput<S> & object> {
    const variables = loadEnvFiles(options);
    const values = validateEnv(variables, options.schema ?? baseEnvSchema);
    return new Env(values as EnvOutput<S> & object, variables);
  }

  /** The validated value of `key`. */
  get<K extends keyof T & string>(key: K): T[K] {
    return this.#values[key];
  }

  /** True when `key` has a validated value or is set as a variable. */
  has(key: string): boolean {
    return (
      (Object.hasOwn(this.#values, key) &&
        (this.#values as Readonly<Record<string, unknown>>)[key] !== undefined) ||
      Object.hasOwn(this.#variables, key)
    );
  }

  /** Every validated value, frozen. */
  all(): Readonly<T> {
    return this.#values;
  }

  /** The raw string of any variable, whether or not the schema declares it. */
  variable(key: string): string | undefined {
    return Object.hasOwn(this.#variables, key) ? this.#variables[key] : undefined;
  }

  /** Every raw variable (process and `.env` files merged), frozen. */
  variables(): Readonly<Record<string, string>> {
    return this.#variables;
  }

  get isProduction(): boolean {
    return this.appEnv === 'production';
  }

  get isDevelopment(): boolean {
    return this.appEnv === 'development';
  }

  get isTest(): boolean {
    return this.appEnv === 'test';
  }

  /** Never print secrets by accident: a logged Env shows only where it runs. */
  toJSON(): { appEnv: AppEnv; debug: boolean } {
    return { appEnv: this.appEnv, debug: this.debug };
  }
}

/** Options of {@link loadEnv} and `Env.load`. */
export interface LoadEnvOptions<S extends StandardSchemaV1 = typeof baseEnvSchema>
  extends LoadEnvFilesOptions {
  /** The schema to validate with; {@link baseEnvSchema} by default. */
  schema?: S;
}

/**
 * Shorthand for `Env.load(options)`.
 *
 * @example
 * ```ts
 * const env = loadEnv({ cwd: process.cwd() });
 * ```
 */
export function loadEnv<S extends StandardSchemaV1 = typeof baseEnvSchema>(
  options: LoadEnvOptions<S>,
): Env<EnvOutput<S> & object> {
  return Env.load(options);
}
