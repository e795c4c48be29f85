import { z } from 'zod';
import type { ExecutionScope } from '../execution-context.js';
import { E_LOGGING_CONFIG_INVALID, E_LOGGING_UNKNOWN_CHANNEL } from './errors.js';

/**
 * Adds fields to every log line: called with the fields the line was logged with and the
 * current execution scope (undefined outside a request, job or command); what it returns
 * joins the line (the line's own fields win). The same fields reach every channel.
 */
export type LogProcessor = (
  fields: Readonly<Record<string, unknown>>,
  scope: Readonly<ExecutionScope> | undefined,
  level: number,
) => Record<string, unknown> | undefined;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevelName = (typeof LEVELS)[number];

const level = z.enum(LEVELS);
/** rotating-file-stream's size syntax: `300B`, `10K`, `10M`, `1G`. */
const size = z.string().regex(/^[1-9]\d*[BKMG]$/, 'expected a size such as "10M" (B, K, M or G)');

const stdout = z
  .object({
    driver: z.enum(['stdout', 'stderr']),
    level: level.optional(),
    /** Colours and one readable line per entry; default: a TTY outside production. */
    pretty: z.boolean().optional(),
  })
  .strict();

const file = z
  .object({
    driver: z.literal('file'),
    /** Relative to the app root; default `var/log/<channel>.log`. */
    path: z.string().min(1).optional(),
    level: level.optional(),
    /** `daily`, `hourly`, a size (`10M`) or false (never rotate). Default false. */
    rotate: z.union([z.enum(['daily', 'hourly']), size, z.literal(false)]).default(false),
    /** With `daily`/`hourly`: rotate earlier when the file reaches this size. */
    size: size.optional(),
    /** Rotated files to keep: a count (`14`) or an age (`'14d'`). Default: all. */
    keep: z
      .union([
        z.number().int().positive().max(10_000),
        z.string().regex(/^[1-9]\d*d$/, 'expected a number of files or days such as "14d"'),
      ])
      .optional(),
    /** Gzip rotated files (`.gz`). Default false. */
    compress: z.boolean().default(false),
  })
  .strict();

const stack = z
  .object({
    driver: z.literal('stack'),
    channels: z.array(z.string().min(1)).min(1),
    level: level.optional(),
  })
  .strict();

const channel = z.discriminatedUnion('driver', [stdout, file, stack]);

const processor = z.custom<LogProcessor>((value) => typeof value === 'function', {
  message: 'expected a function (fields, scope, level) => fields',
});

export const loggingConfigSchema = z
  .object({
    /** The lowest level written (env `LOG_LEVEL`); channels may raise theirs. */
    level: level.optional(),
    /** The channel lines go to (env `LOG_CHANNEL`). Default `stdout`. */
    default: z.string().min(1).default('stdout'),
    channels: z.record(z.string().regex(/^[A-Za-z][\w-]*$/), channel).default({}),
    /** Extra paths (pino syntax: `body.iban`, `*.ssn`) whose values become `[redacted]`. */
    redact: z.array(z.string().min(1)).default([]),
    /** Mask Luhn-valid card numbers inside logged strings. Default true. */
    maskCardNumbers: z.boolean().default(true),
    /** The process's resident memory (MB, sampled once a second) on every line. Default true. */
    memory: z.boolean().default(true),
    /** One line per HTTP request (the LoggingProvider's request instrument). */
    requests: z
      .object({
        enabled: z.boolean().default(true),
        /** Paths not logged: exact (`/healthz`) or a prefix ending in `*` (`/assets/*`). */
        skip: z.array(z.string().startsWith('/')).default(['/healthz', '/_metrics']),
      })
      .strict()
      .default({ enabled: true, skip: ['/healthz', '/_metrics'] }),
    /** One line per job attempt that completed, was delayed or lost. */
    jobs: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    processors: z.array(processor).default([]),
  })
  .strict();

export type LoggingConfigInput = z.input<typeof loggingConfigSchema>;
export type LoggingConfig = z.output<typeof loggingConfigSchema> & { level: LogLevelName };
export type LogChannelConfig = z.output<typeof channel>;
export type FileChannelConfig = z.output<typeof file>;

/**
 * Type a `config/logging.ts`.
 *
 * @example
 * ```ts
 * export default defineLoggingConfig({
 *   default: 'stack',
 *   channels: {
 *     app: { driver: 'file', path: 'var/log/app.log', rotate: 'daily', keep: 14, compress: true },
 *     errors: { driver: 'file', path: 'var/log/errors.log', level: 'error' },
 *     stack: { driver: 'stack', channels: ['stdout', 'app', 'errors'] },
 *   },
 * });
 * ```
 */
export function defineLoggingConfig(config: LoggingConfigInput): LoggingConfigInput {
  return config;
}

/**
 * Validate the `logging` namespace: fill in the `stdout` channel and the level (`LOG_LEVEL`,
 * else `info` in production and `debug` elsewhere), check that every channel a stack or
 * `default` names exists and that stacks hold no stacks.
 */
export function resolveLoggingConfig(
  raw: unknown,
  options: { env?: (name: string) => string | undefined; production?: boolean } = {},
): LoggingConfig {
  const env = options.env ?? (() => undefined);
  const input = (raw ?? {}) as Record<string, unknown>;
  const parsed = loggingConfigSchema.safeParse({
    ...input,
    level: input.level ?? (env('LOG_LEVEL') || undefined),
    default: input.default ?? (env('LOG_CHANNEL') || undefined),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_LOGGING_CONFIG_INVALID(issue.path.join('.') || '(root)', issue.message);
  }
  const config = parsed.data as LoggingConfig;
  config.level ??= options.production ? 'info' : 'debug';
  config.channels = { stdout: { driver: 'stdout' }, ...config.channels };
  const known = Object.keys(config.channels);
  if (!config.channels[config.default])
    throw new E_LOGGING_UNKNOWN_CHANNEL(config.default, 'logging.default', known);
  for (const [name, definition] of Object.entries(config.channels)) {
    if (definition.driver !== 'stack') continue;
    definition.channels.forEach((member, index) => {
      const target = config.channels[member];
      if (!target)
        throw new E_LOGGING_UNKNOWN_CHANNEL(member, `logging.channels.${name}.channels`, known);
      if (target.driver === 'stack')
        throw new E_LOGGING_CONFIG_INVALID(
          `channels.${name}.channels.${index}`,
          `"${member}" is a stack; a stack lists stdout, stderr and file channels`,
        );
    });
  }
  return config;
}

const LEVEL_VALUES: Record<LogLevelName, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** pino's number for a level name. */
export function levelValue(name: LogLevelName): number {
  return LEVEL_VALUES[name];
}
