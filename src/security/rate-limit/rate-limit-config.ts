import { z } from 'zod';
import type { HttpContext } from '../../http/index.js';
import { REDIS_ENDPOINT_DEFAULTS, redisEndpointFields } from '../../support/redis-config.js';
import { E_RATE_LIMIT_CONFIG_INVALID } from './errors.js';

/** Who a limiter counts: the client address, the signed-in user (else the address), or either per route. */
export type RateLimitKeyMode = 'ip' | 'user' | 'route';

/** A key mode, or a function of the request returning the key (any string; it is hashed when long). */
export type RateLimitKey = RateLimitKeyMode | ((ctx: HttpContext) => string);

export type RateLimitStoreName = 'memory' | 'redis' | 'database';

const seconds = z.number().int().positive();
const keyMode = z.union([
  z.enum(['ip', 'user', 'route']),
  z.custom<(ctx: HttpContext) => string>((value) => typeof value === 'function', {
    message: 'expected "ip", "user", "route" or a function (ctx) => string',
  }),
]);

const limiterSchema = z
  .object({
    /** Requests (points) allowed per `duration`. */
    points: z.number().int().positive(),
    /** The window, in whole seconds. */
    duration: seconds,
    /** Who is counted; default `user` (the user id when signed in, else the address). */
    key: keyMode.default('user'),
    /** Once over, refuse the key for this many seconds (default: until the window ends). */
    blockDuration: seconds.optional(),
  })
  .strict();

/** The `security.rate_limit` config (config/security.ts). */
export const rateLimitConfigSchema = z
  .object({
    /** Default: RATE_LIMIT_STORE, else `memory`. */
    store: z.enum(['memory', 'redis', 'database']).optional(),
    /** `throttle` without arguments: RATE_LIMIT_ATTEMPTS, else 60. */
    attempts: z.number().int().positive().optional(),
    /** `throttle` without arguments, seconds: RATE_LIMIT_WINDOW, else 60. */
    window: seconds.optional(),
    /** Prepended to every stored key, so apps sharing a Redis or a table do not mix. */
    prefix: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\w.:-]+$/, 'letters, digits, "_", ".", ":" and "-" only')
      .default('keel:rl'),
    /**
     * A store that fails (Redis down, database unreachable): `open` answers from a
     * per-process memory limiter with the same limits until the store is back; `closed`
     * refuses the request with 503 E_RATE_LIMIT_STORE_UNAVAILABLE.
     */
    onStoreError: z.enum(['open', 'closed']).default('open'),
    redis: z
      .object({
        ...redisEndpointFields,
        /** Longest wait for a reply before the store counts as failed (ms). */
        commandTimeoutMs: z.number().int().positive().default(500),
      })
      .strict()
      .default({ ...REDIS_ENDPOINT_DEFAULTS, commandTimeoutMs: 500 }),
    database: z
      .object({
        /** A connection name from config/database.ts; default: the default connection. */
        connection: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Named limiters for `throttle:<name>` and `rate.limiter` (`limiter.attempt('login', key)`). */
    limiters: z
      .record(
        z.string().regex(/^[a-z][\w.-]{0,63}$/i, 'a name of letters, digits, _ . -'),
        limiterSchema,
      )
      .default({}),
    /**
     * The user id of a request for the `user` and `route` key modes; default
     * `ctx.state.user.id`, else `ctx.state.authId`.
     */
    user: z
      .custom<(ctx: HttpContext) => string | number | undefined>((v) => typeof v === 'function', {
        message: 'expected a function (ctx) => string | number | undefined',
      })
      .optional(),
    /** Adaptive throttling of clients that keep getting error responses (see docs). */
    errors: z
      .object({
        enabled: z.boolean().default(true),
        /** Error responses (4xx except 429, and 5xx) a client may get per `window` ... */
        threshold: z.number().int().positive().default(100),
        window: seconds.default(60),
        /** ... before its allowance on throttled routes shrinks for `penalty` seconds ... */
        penalty: seconds.default(300),
        /** ... by this factor: each request then costs `factor` points (2..100). */
        factor: z.number().int().min(2).max(100).default(4),
      })
      .strict()
      .default({ enabled: true, threshold: 100, window: 60, penalty: 300, factor: 4 }),
  })
  .strict();

export type RateLimitLimiterConfig = z.output<typeof limiterSchema>;
export type ErrorThrottleConfig = z.output<typeof rateLimitConfigSchema>['errors'];

export type RateLimitConfig = Omit<
  z.output<typeof rateLimitConfigSchema>,
  'store' | 'attempts' | 'window'
> & {
  store: RateLimitStoreName;
  attempts: number;
  window: number;
};

const STORES: readonly string[] = ['memory', 'redis', 'database'];

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new E_RATE_LIMIT_CONFIG_INVALID(name, `"${value}" is not a positive whole number`);
  return Number(value);
}

/**
 * Validate `security.rate_limit` (undefined when the app has none) and fill its defaults;
 * `env` answers RATE_LIMIT_STORE, RATE_LIMIT_ATTEMPTS and RATE_LIMIT_WINDOW (explicit keys
 * in the config win).
 *
 * @example
 * ```ts
 * resolveRateLimitConfig({ limiters: { login: { points: 5, duration: 60, key: 'ip' } } }, () => undefined);
 * ```
 */
export function resolveRateLimitConfig(
  raw: unknown,
  env: (name: string) => string | undefined,
): RateLimitConfig {
  const parsed = rateLimitConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = ['security.rate_limit', ...issue.path.map(String)].join('.');
    throw new E_RATE_LIMIT_CONFIG_INVALID(key, issue.message);
  }
  const storeEnv = env('RATE_LIMIT_STORE') || undefined;
  if (parsed.data.store === undefined && storeEnv !== undefined && !STORES.includes(storeEnv))
    throw new E_RATE_LIMIT_CONFIG_INVALID(
      'RATE_LIMIT_STORE',
      `"${storeEnv}" is not one of ${STORES.join(', ')}`,
    );
  for (const [name, limiter] of Object.entries(parsed.data.limiters))
    if (limiter.blockDuration !== undefined && limiter.blockDuration < limiter.duration)
      throw new E_RATE_LIMIT_CONFIG_INVALID(
        `security.rate_limit.limiters.${name}.blockDuration`,
        'must be at least the duration (a shorter block would end before the window does)',
      );
  return {
    ...parsed.data,
    store: parsed.data.store ?? (storeEnv as RateLimitStoreName | undefined) ?? 'memory',
    attempts:
      parsed.data.attempts ?? positiveInt('RATE_LIMIT_ATTEMPTS', env('RATE_LIMIT_ATTEMPTS')) ?? 60,
    window: parsed.data.window ?? positiveInt('RATE_LIMIT_WINDOW', env('RATE_LIMIT_WINDOW')) ?? 60,
  };
}
