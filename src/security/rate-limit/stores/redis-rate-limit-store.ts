import type { Redis } from 'ioredis';
import rlf, { type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterSpec, RateLimitStore } from '../rate-limit-store.js';

export interface RedisRateLimitStoreOptions {
  /** An ioredis client; one that fails fast while Redis is down (see `createRedisClient`). */
  client: Redis;
  /** Quit the client on `close()` (the provider's own client). */
  ownsClient?: boolean;
}

/**
 * Counters in Redis (rate-limiter-flexible's `RateLimiterRedis`): each hit is one Lua
 * script (`SET NX EX` the window, `INCRBY`, `PTTL`) run atomically by the server, so every
 * process sharing the Redis counts against one allowance.
 *
 * @example
 * ```ts
 * const store = new RedisRateLimitStore({ client: new Redis(6379) });
 * await store.limiter({ keyPrefix: 'rl:login', points: 5, duration: 60 }).consume(ip);
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly name = 'redis';
  readonly #client: Redis;
  readonly #ownsClient: boolean;

  constructor(options: RedisRateLimitStoreOptions) {
    this.#client = options.client;
    this.#ownsClient = options.ownsClient ?? false;
  }

  get client(): Redis {
    return this.#client;
  }

  limiter(spec: LimiterSpec): RateLimiterAbstract {
    return new rlf.RateLimiterRedis({
      storeClient: this.#client,
      keyPrefix: spec.keyPrefix,
      points: spec.points,
      duration: spec.duration,
      ...(spec.blockDuration !== undefined ? { blockDuration: spec.blockDuration } : {}),
    });
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    await this.#client.quit().catch(() => this.#client.disconnect());
  }
}
