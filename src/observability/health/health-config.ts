import { z } from 'zod';
import { parseDuration } from '../../support/index.js';
import { E_HEALTH_CONFIG_INVALID } from './errors.js';

const duration = z.union([z.number().nonnegative(), z.string().min(1)]);
/** A byte size (`512mb`, `2gb`, a number of bytes) or a share (`90%`). */
const amount = z.union([z.number().nonnegative(), z.string().min(1)]);

const rateLimit = z
  .object({
    /** Requests allowed per client address and window. */
    max: z.number().int().positive(),
    /** The window: ms or a duration (`'1m'`). */
    window: duration.default('1m'),
  })
  .strict();

const endpoint = (path: string, max: number) =>
  z
    .union([
      z.literal(false),
      z
        .object({
          path: z.string().regex(/^\/[^\s?#]*$/, 'a path starting with "/"'),
          /** `false` turns the interim limiter off for this endpoint. */
          rateLimit: z.union([z.literal(false), rateLimit]).default({ max, window: '1m' }),
        })
        .strict(),
    ])
    .default({ path, rateLimit: { max, window: '1m' } });

const readiness = (value: boolean) => z.boolean().default(value);

const thresholds = z
  .object({
    /** More jobs waiting (ready or delayed) than this. */
    waiting: z.number().int().nonnegative().optional(),
    /** The oldest ready job is older than this (ms or a duration). */
    age: duration.optional(),
  })
  .strict();

const levels = z.object({ warn: amount.optional(), fail: amount.optional() }).strict();

export const healthConfigSchema = z
  .object({
    /** The bearer key for the detailed endpoint; default `HEALTH_API_KEY`. */
    apiKey: z.string().min(16, 'use at least 16 characters').optional(),
    /**
     * How long `/ready` answers 503 while the server still takes new requests, once the
     * app starts stopping: the time a load balancer needs to notice. Default 0.
     */
    shutdownDelay: duration.default(0),
    /** Largest number of (endpoint, address) pairs the interim rate limiter remembers. */
    rateLimitClients: z.number().int().positive().default(10_000),
    endpoints: z
      .object({
        liveness: endpoint('/healthz', 60),
        readiness: endpoint('/ready', 30),
        details: endpoint('/health', 30),
      })
      .strict()
      .default({
        liveness: { path: '/healthz', rateLimit: { max: 60, window: '1m' } },
        readiness: { path: '/ready', rateLimit: { max: 30, window: '1m' } },
        details: { path: '/health', rateLimit: { max: 30, window: '1m' } },
      }),
    checks: z
      .object({
        redis: z
          .union([
            z.literal(false),
            z
              .object({
                /** Connect and PING deadline, ms. */
                timeoutMs: z.number().int().positive().default(1_000),
                readiness: readiness(true),
              })
              .strict(),
          ])
          .default({ timeoutMs: 1_000, readiness: true }),
        queue: z
          .union([
            z.literal(false),
            z
              .object({
                /** The queue connection to watch; default: the queue's default one. */
                connection: z.string().min(1).optional(),
                warn: thresholds.default({}),
                fail: thresholds.default({}),
                /** Per-queue thresholds, replacing the ones above for that queue. */
                queues: z
                  .record(
                    z.string().min(1),
                    z.object({ warn: thresholds.optional(), fail: thresholds.optional() }).strict(),
                  )
                  .default({}),
                readiness: readiness(false),
              })
              .strict(),
          ])
          .default({ warn: {}, fail: {}, queues: {}, readiness: false }),
        disk: z
          .union([
            z.literal(false),
            z
              .object({
                /** The folder whose file system is measured; default `var`. */
                path: z.string().min(1).default('var'),
                /** Free space below which the check warns / fails (`'10%'`, `'2gb'`). */
                warn: amount.default('10%'),
                fail: amount.default('5%'),
                readiness: readiness(true),
              })
              .strict(),
          ])
          .default({ path: 'var', warn: '10%', fail: '5%', readiness: true }),
        memory: z
          .union([
            z.literal(false),
            z
              .object({
                /** Resident set size: bytes, or a share of the container's (else the host's) memory. */
                rss: levels.default({}),
                /** V8 heap used: bytes, or a share of the heap limit. */
                heap: levels.default({ warn: '90%', fail: '98%' }),
                readiness: readiness(false),
              })
              .strict(),
          ])
          .default({ rss: {}, heap: { warn: '90%', fail: '98%' }, readiness: false }),
        migrations: z
          .union([z.literal(false), z.object({ readiness: readiness(true) }).strict()])
          .default({ readiness: true }),
      })
      .strict()
      .default({
        redis: { timeoutMs: 1_000, readiness: true },
        queue: { warn: {}, fail: {}, queues: {}, readiness: false },
        disk: { path: 'var', warn: '10%', fail: '5%', readiness: true },
        memory: { rss: {}, heap: { warn: '90%', fail: '98%' }, readiness: false },
        migrations: { readiness: true },
      }),
  })
  .strict();

export type HealthConfigInput = z.input<typeof healthConfigSchema>;
type Parsed = z.output<typeof healthConfigSchema>;

/** A limit as the interim limiter takes it. */
export interface HealthRateLimitSettings {
  max: number;
  windowMs: number;
}

export interface HealthEndpointSettings {
  path: string;
  rateLimit: HealthRateLimitSettings | false;
}

/** A threshold: an absolute number of bytes, or a share (0–1) of some total. */
export type HealthAmount = { bytes: number } | { ratio: number };

export interface QueueThresholds {
  waiting?: number;
  ageMs?: number;
}

/** The `health` config once validated, durations in ms and amounts parsed. */
export interface HealthConfig {
  apiKey: string | undefined;
  shutdownDelayMs: number;
  rateLimitClients: number;
  endpoints: {
    liveness: HealthEndpointSettings | false;
    readiness: HealthEndpointSettings | false;
    details: HealthEndpointSettings | false;
  };
  /** Security: addresses and CIDR ranges (`security.health_ip_allowlist`), if set. */
  allowlist: string[] | undefined;
  checks: {
    redis: { timeoutMs: number; readiness: boolean } | false;
    queue:
      | {
          connection: string | undefined;
          warn: QueueThresholds;
          fail: QueueThresholds;
          queues: Record<string, { warn?: QueueThresholds; fail?: QueueThresholds }>;
          readiness: boolean;
        }
      | false;
    disk: { path: string; warn?: HealthAmount; fail?: HealthAmount; readiness: boolean } | false;
    memory:
      | {
          rss: { warn?: HealthAmount; fail?: HealthAmount };
          heap: { warn?: HealthAmount; fail?: HealthAmount };
          readiness: boolean;
        }
      | false;
    migrations: { readiness: boolean } | false;
  };
}

/**
 * Type a `config/health.ts`.
 *
 * @example
 * ```ts
 * export default defineHealthConfig({
 *   shutdownDelay: '5s',
 *   checks: { disk: { warn: '15%', fail: '2gb' }, queue: { fail: { age: '10m' } } },
 * });
 * ```
 */
export function defineHealthConfig(config: HealthConfigInput): HealthConfigInput {
  return config;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
};

/**
 * Parse `'90%'` (a share), `'512mb'` / `'2gb'` (binary units) or a number of bytes.
 *
 * @example
 * ```ts
 * parseHealthAmount('10%'); // { ratio: 0.1 }
 * parseHealthAmount('1.5gb'); // { bytes: 1610612736 }
 * ```
 */
export function parseHealthAmount(value: number | string, key = 'amount'): HealthAmount {
  if (typeof value === 'number') return { bytes: value };
  const text = value.trim().toLowerCase();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (percent) {
    const ratio = Number(percent[1]) / 100;
    if (ratio > 1) throw new E_HEALTH_CONFIG_INVALID(key, `"${value}" is more than 100%`);
    return { ratio };
  }
  const size = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/.exec(text);
  if (!size)
    throw new E_HEALTH_CONFIG_INVALID(
      key,
      `"${value}" is neither a share ("10%") nor a size ("512mb", "2gb")`,
    );
  return { bytes: Math.round(Number(size[1]) * UNITS[size[2] ?? 'b']!) };
}

function durationAt(value: number | string, key: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new E_HEALTH_CONFIG_INVALID(key, (error as Error).message).withCause(error);
  }
}

function endpointSettings(
  value: Parsed['endpoints']['liveness'],
  key: string,
): HealthEndpointSettings | false {
  if (value === false) return false;
  return {
    path: value.path,
    rateLimit:
      value.rateLimit === false
        ? false
        : {
            max: value.rateLimit.max,
            windowMs: durationAt(value.rateLimit.window, `${key}.rateLimit.window`),
          },
  };
}

function queueThresholds(value: z.output<typeof thresholds>, key: string): QueueThresholds {
  return {
    ...(value.waiting !== undefined ? { waiting: value.waiting } : {}),
    ...(value.age !== undefined ? { ageMs: durationAt(value.age, `${key}.age`) } : {}),
  };
}

function levelsOf(
  value: { warn?: number | string | undefined; fail?: number | string | undefined },
  key: string,
): { warn?: HealthAmount; fail?: HealthAmount } {
  return {
    ...(value.warn !== undefined ? { warn: parseHealthAmount(value.warn, `${key}.warn`) } : {}),
    ...(value.fail !== undefined ? { fail: parseHealthAmount(value.fail, `${key}.fail`) } : {}),
  };
}

function allowlistOf(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string'))
    throw new E_HEALTH_CONFIG_INVALID(
      'security.health_ip_allowlist',
      'expected a list of addresses or CIDR ranges',
    );
  return list.map((entry: string) => entry.trim()).filter((entry) => entry !== '');
}

/**
 * Validate the `health` config namespace (and `security.health_ip_allowlist`), fill its
 * defaults and parse durations and sizes; `apiKey` falls back to `HEALTH_API_KEY`.
 *
 * @example
 * ```ts
 * const config = resolveHealthConfig(app.config.get('health'), allowlist, (n) => app.env.variable(n));
 * ```
 */
export function resolveHealthConfig(
  raw: unknown,
  allowlist: unknown,
  env: (name: string) => string | undefined = () => undefined,
): HealthConfig {
  const input = { ...((raw ?? {}) as Record<string, unknown>) };
  let keyFromEnv = false;
  if (input.apiKey === undefined) {
    const fromEnv = env('HEALTH_API_KEY');
    keyFromEnv = fromEnv !== undefined && fromEnv !== '';
    if (keyFromEnv) input.apiKey = fromEnv;
  }
  const parsed = healthConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || '(root)';
    throw new E_HEALTH_CONFIG_INVALID(
      key === 'apiKey' && keyFromEnv ? 'HEALTH_API_KEY' : key,
      issue.message,
    );
  }
  const config = parsed.data;
  const { redis, queue, disk, memory, migrations } = config.checks;
  return {
    apiKey: config.apiKey,
    shutdownDelayMs: durationAt(config.shutdownDelay, 'shutdownDelay'),
    rateLimitClients: config.rateLimitClients,
    endpoints: {
      liveness: endpointSettings(config.endpoints.liveness, 'endpoints.liveness'),
      readiness: endpointSettings(config.endpoints.readiness, 'endpoints.readiness'),
      details: endpointSettings(config.endpoints.details, 'endpoints.details'),
    },
    allowlist: allowlistOf(allowlist),
    checks: {
      redis,
      queue:
        queue === false
          ? false
          : {
              connection: queue.connection,
              warn: queueThresholds(queue.warn, 'checks.queue.warn'),
              fail: queueThresholds(queue.fail, 'checks.queue.fail'),
              queues: Object.fromEntries(
                Object.entries(queue.queues).map(([name, own]) => [
                  name,
                  {
                    ...(own.warn
                      ? { warn: queueThresholds(own.warn, `checks.queue.queues.${name}.warn`) }
                      : {}),
                    ...(own.fail
                      ? { fail: queueThresholds(own.fail, `checks.queue.queues.${name}.fail`) }
                      : {}),
                  },
                ]),
              ),
              readiness: queue.readiness,
            },
      disk:
        disk === false
          ? false
          : { path: disk.path, ...levelsOf(disk, 'checks.disk'), readiness: disk.readiness },
      memory:
        memory === false
          ? false
          : {
              rss: levelsOf(memory.rss, 'checks.memory.rss'),
              heap: levelsOf(memory.heap, 'checks.memory.heap'),
              readiness: memory.readiness,
            },
      migrations,
    },
  };
}
