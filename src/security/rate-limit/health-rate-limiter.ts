import {
  type HealthRateLimiter,
  InterimRateLimiter,
  type RateLimitDecision,
} from '../../observability/health/index.js';
import { storedKey } from './rate-limit-key.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * The health endpoints' limiter once the rate-limit subsystem is on (`health.limiter`):
 * the same per-address limits, counted in the configured store, so a cluster allows
 * `max` per window in total instead of `max` per process.
 *
 * A probe must never fail because the limiter's store did: while it fails, whatever
 * `onStoreError` says, this answers from the interim in-process limiter (fail open), so
 * liveness and readiness keep reporting the application's own state.
 *
 * @example
 * ```ts
 * app.container.singleton('health.limiter', () => new RateLimitHealthLimiter(app.make('rate.limiter')));
 * ```
 */
export class RateLimitHealthLimiter implements HealthRateLimiter {
  readonly #limiter: RateLimiter;
  readonly #fallback: InterimRateLimiter;

  constructor(limiter: RateLimiter, options: { maxClients?: number } = {}) {
    this.#limiter = limiter;
    this.#fallback = new InterimRateLimiter({ maxClients: options.maxClients ?? 10_000 });
  }

  async hit(
    key: string,
    client: string,
    limit: { max: number; windowMs: number },
  ): Promise<RateLimitDecision> {
    const duration = Math.max(1, Math.ceil(limit.windowMs / 1000));
    // Bounded, so that the stored key fits the table whatever the configured path.
    const path = key.length <= 40 ? key : storedKey(key).slice(0, 17);
    const name = `health${path}:${limit.max}:${duration}`;
    if (!this.#limiter.has(name))
      this.#limiter.define(name, { points: limit.max, duration, key: 'ip' });
    try {
      const result = await this.#limiter.attempt(name, `ip:${client}`);
      return {
        allowed: result.allowed,
        remaining: result.remaining,
        retryAfter: Math.max(1, result.retryAfter),
      };
    } catch {
      return this.#fallback.hit(key, client, limit);
    }
  }
}
