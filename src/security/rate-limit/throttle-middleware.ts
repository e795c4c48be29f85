import type { HttpContext, MiddlewareFn, Next } from '../../http/index.js';
import type { ErrorThrottle } from './error-throttle.js';
import { E_RATE_LIMIT_CONFIG_INVALID, E_RATE_LIMITED } from './errors.js';
import type { RateLimitKeyMode } from './rate-limit-config.js';
import { writeRateLimitHeaders } from './rate-limit-headers.js';
import { requestKey, type UserIdResolver } from './rate-limit-key.js';
import type { RateLimiter, RateLimitPolicy } from './rate-limiter.js';

export interface ThrottleOptions {
  limiter: RateLimiter;
  userId: UserIdResolver;
  /** The adaptive error throttle, when enabled: penalised clients pay more per request. */
  errors?: ErrorThrottle | undefined;
}

/** The limiter `throttle` without arguments uses (defined by the provider). */
export const DEFAULT_LIMITER = 'default';

const MODES: readonly string[] = ['ip', 'user', 'route'];

function count(alias: string, value: string, what: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1)
    throw new E_RATE_LIMIT_CONFIG_INVALID(
      alias,
      `${what} "${value}" is not a positive whole number`,
    );
  return Number(value);
}

/**
 * Which limiter a `throttle` alias names: `throttle` (the `default` limiter),
 * `throttle:login` (a named one), or `throttle:60,60[,ip|user|route]` (60 requests per 60
 * seconds, counted per user, the default, per address, or per user and route).
 */
export function throttlePolicy(limiter: RateLimiter, args: readonly string[]): RateLimitPolicy {
  const alias = `throttle:${args.join(',')}`;
  if (args.length === 0) return limiter.policy(DEFAULT_LIMITER);
  // A name unknown at route compilation fails the boot (E_RATE_LIMITER_NOT_FOUND).
  if (args.length === 1 && !/^\d+$/.test(args[0]!)) return limiter.policy(args[0]!);
  if (args.length < 2 || args.length > 3)
    throw new E_RATE_LIMIT_CONFIG_INVALID(
      alias,
      'expected throttle:<points>,<seconds>[,ip|user|route] or throttle:<limiter>',
    );
  const mode = args[2] ?? 'user';
  if (!MODES.includes(mode))
    throw new E_RATE_LIMIT_CONFIG_INVALID(alias, `key "${mode}" is not one of ip, user, route`);
  return limiter.adhoc(
    count(alias, args[0]!, 'points'),
    count(alias, args[1]!, 'seconds'),
    mode as RateLimitKeyMode,
  );
}

/**
 * The `throttle` / `rate_limit` middleware for one policy: counts the request against the
 * client's allowance, writes the rate-limit headers, and refuses with 429
 * `E_RATE_LIMITED` (problem+json, `Retry-After`) once it is spent.
 *
 * @example
 * ```ts
 * router.post('/login', login).middleware(['throttle:login']);
 * router.get('/api/search', search).middleware(['throttle:60,60']);
 * ```
 */
export function throttle(options: ThrottleOptions, policy: RateLimitPolicy): MiddlewareFn {
  const { limiter, userId, errors } = options;
  return async function throttle(ctx: HttpContext, next: Next): Promise<void> {
    const key = requestKey(ctx, policy.key, userId);
    const cost = errors ? await errors.cost(errors.client(ctx)) : 1;
    const result = await limiter.attempt(policy.name, key, cost);
    writeRateLimitHeaders(ctx, policy, result);
    if (!result.allowed) throw new E_RATE_LIMITED(policy.name, result.retryAfter);
    await next();
  };
}
