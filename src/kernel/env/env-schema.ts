import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import {
  type AppEnv,
  BOOLEAN_SPELLINGS,
  lookupAppEnv,
  parseBooleanString,
  suggestAppEnv,
} from './app-env.js';
import { parseAppKey } from './app-key.js';
import { E_ENV_INVALID, E_ENV_SCHEMA_ASYNC, type EnvIssue } from './errors.js';

/** Pino's levels, which Keel's logger uses. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Ctx = z.core.$RefinementCtx<unknown>;

function fail(ctx: Ctx, input: unknown, message: string): never {
  ctx.issues.push({ code: 'custom', message, input });
  return z.NEVER;
}

/**
 * The variables every Keel application reads. Values arrive as strings (from the process or
 * `.env`); each entry turns them into what the framework uses.
 */
export const baseEnvShape = {
  APP_ENV: z
    .string()
    .default('development')
    .transform((value, ctx): AppEnv => {
      const appEnv = lookupAppEnv(value);
      if (appEnv) return appEnv;
      const suggestion = suggestAppEnv(value);
      return fail(
        ctx,
        value,
        `unknown environment "${value}"; use production, staging, development or test` +
          (suggestion ? ` (did you mean "${suggestion}"?)` : ''),
      );
    }),
  /** Unset means "true in development, false elsewhere"; see {@link defineEnvSchema}. */
  APP_DEBUG: z
    .string()
    .optional()
    .transform((value, ctx): boolean | undefined => {
      if (value === undefined) return undefined;
      return parseBooleanString(value) ?? fail(ctx, value, `expected ${BOOLEAN_SPELLINGS}`);
    }),
  APP_KEY: z
    .string()
    .optional()
    .transform((value, ctx): string | undefined => {
      if (value === undefined) return undefined;
      try {
        parseAppKey(value);
        return value.trim();
      } catch (error) {
        return fail(ctx, '[redacted]', (error as Error).message.replace(/^Invalid APP_KEY: /, ''));
      }
    }),
  APP_NAME: z.string().default('Keel'),
  APP_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  PORT: z
    .string()
    .default('3000')
    .transform((value, ctx): number => {
      const port = Number(value.trim());
      if (/^\d+$/.test(value.trim()) && port <= 65535) return port;
      return fail(ctx, value, 'expected a port number from 0 to 65535');
    }),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z
    .string()
    .default('info')
    .transform((value, ctx): LogLevel => {
      const level = value.trim().toLowerCase();
      return (LOG_LEVELS as readonly string[]).includes(level)
        ? (level as LogLevel)
        : fail(ctx, value, `expected one of ${LOG_LEVELS.join(', ')}`);
    }),
};

/** Environments where running without an `APP_KEY` would silently weaken sessions and signing. */
const KEY_REQUIRED_IN: readonly string[] = ['production', 'staging'];

type Shape = z.core.$ZodLooseShape;

/** The declared (non-index-signature) keys of a shape. */
type DeclaredKeys<S> = keyof { [K in keyof S as string extends K ? never : K]: S[K] };

/**
 * The base shape with an app's on top. Only declared keys replace base ones, so a loosely
 * typed shape (`Record<string, ZodType>`) keeps the base keys typed.
 */
type MergedShape<S extends Shape> = Omit<typeof baseEnvShape, DeclaredKeys<S>> & S;

function buildEnvSchema<S extends Shape>(shape: S) {
  return z
    .object({ ...baseEnvShape, ...shape } as MergedShape<S>)
    .superRefine(
      (value, ctx) => {
        const record = value as Record<string, unknown>;
        const appEnv = record.APP_ENV;
        if (typeof appEnv === 'string' && KEY_REQUIRED_IN.includes(appEnv) && !record.APP_KEY) {
          ctx.addIssue({
            code: 'custom',
            path: ['APP_KEY'],
            message: `required when APP_ENV is ${appEnv}`,
          });
        }
      },
      // Run even if other keys failed, so a missing APP_KEY is reported with them.
      { when: () => true },
    )
    .transform((value) => ({ ...value, APP_DEBUG: resolveDebug(value) }));
}

function resolveDebug(value: object): boolean {
  const { APP_DEBUG, APP_ENV } = value as { APP_DEBUG?: boolean; APP_ENV?: string };
  return APP_DEBUG ?? APP_ENV === 'development';
}

/** A Zod schema of the base variables plus an application's, extendable again. */
export type EnvSchema<S extends Shape = {}> = ReturnType<typeof buildEnvSchema<S>> & {
  /** A new schema with more (or replaced) variables; the base rules still apply. */
  extend<E extends Shape>(shape: E): EnvSchema<Omit<S, keyof E> & E>;
};

/**
 * The base schema extended with an application's own variables. Later keys win, so an
 * app may also replace a base entry (a different default `PORT`, say).
 *
 * Cross-field rules run even when single fields fail, so one run reports every problem:
 * `APP_KEY` is required in production and staging, and `APP_DEBUG` defaults to true only in
 * development.
 *
 * @example
 * ```ts
 * export const envSchema = defineEnvSchema({
 *   DB_URL: z.url(),
 *   MAIL_FROM: z.email().default('noreply@example.com'),
 * });
 * const withRedis = envSchema.extend({ REDIS_URL: z.url().optional() });
 * ```
 */
export function defineEnvSchema<S extends Shape = {}>(shape: S = {} as S): EnvSchema<S> {
  const schema = buildEnvSchema(shape);
  return Object.assign(schema, {
    extend: <E extends Shape>(more: E) =>
      defineEnvSchema({ ...shape, ...more } as Omit<S, keyof E> & E),
  });
}

/** The schema of the base variables alone. */
export const baseEnvSchema = defineEnvSchema();

/** The validated variables of the base schema. */
export type BaseEnv = z.output<typeof baseEnvSchema>;

/** The validated output type of an env schema. */
export type EnvOutput<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>;

/**
 * Validate raw variables against a schema (any Standard Schema; usually one made by
 * {@link defineEnvSchema}). Every missing or invalid key is reported at once in one
 * `E_ENV_INVALID`, one `KEY: problem` per line. Empty values (`PORT=`) count as unset, so a
 * copied `.env.example` with blanks falls back to defaults.
 *
 * @example
 * ```ts
 * const values = validateEnv(loadEnvFiles({ cwd }), defineEnvSchema({ DB_URL: z.string() }));
 * values.PORT; // number
 * ```
 */
export function validateEnv<S extends StandardSchemaV1>(
  raw: Readonly<Record<string, string | undefined>>,
  schema: S,
): EnvOutput<S> {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined && value !== '' && key !== '__proto__') input[key] = value;
  }
  const result = schema['~standard'].validate(input);
  if (result instanceof Promise) {
    // Nobody will await it; keep a rejection from surfacing as an unhandled one.
    result.catch(() => {});
    throw new E_ENV_SCHEMA_ASYNC();
  }
  if (!result.issues) return result.value as EnvOutput<S>;

  const issues: EnvIssue[] = result.issues.map((issue) => {
    const segments = (issue.path ?? []).map((s) =>
      String(typeof s === 'object' && s !== null ? s.key : s),
    );
    const key = segments.join('.') || '(root)';
    const top = segments[0];
    const missing =
      top !== undefined &&
      input[top] === undefined &&
      (issue as { code?: string }).code === 'invalid_type';
    return { key, message: missing ? 'is required but not set' : issue.message };
  });
  throw new E_ENV_INVALID(issues);
}
