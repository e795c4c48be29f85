import rlf, { type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterSpec, RateLimitStore } from '../rate-limit-store.js';

/**
 * Counters in this process's memory (rate-limiter-flexible's `RateLimiterMemory`): no
 * round trip, but each process of a cluster counts on its own, so N processes allow up to
 * N × `points`. Also the insurance limiter of the shared stores while they are down.
 *
 * @example
 * ```ts
 * const limiter = new MemoryRateLimitStore().limiter({ keyPrefix: 'rl:api', points: 60, duration: 60 });
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly name = 'memory';

  limiter(spec: LimiterSpec): RateLimiterAbstract {
    return new rlf.RateLimiterMemory({
      keyPrefix: spec.keyPrefix,
      points: spec.points,
      duration: spec.duration,
      ...(spec.blockDuration !== undefined ? { blockDuration: spec.blockDuration } : {}),
    });
  }

  async close(): Promise<void> {}
}
