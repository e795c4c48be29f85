import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/** What one limiter counts: `points` per `duration` seconds under `keyPrefix`. */
export interface LimiterSpec {
  /** Every key of this limiter is stored under it (`keel:rl:login`). */
  keyPrefix: string;
  points: number;
  /** Whole seconds. */
  duration: number;
  /** Once over, refuse for this many seconds (default: until the window ends). */
  blockDuration?: number;
}

/**
 * Where limiters keep their counters: memory (this process), Redis or a database table
 * (shared by every process). A store hands out rate-limiter-flexible limiters; the
 * conformance suite (`rate-limit-store.contract.ts`) holds each store to the same
 * behaviour.
 */
export interface RateLimitStore {
  readonly name: 'memory' | 'redis' | 'database';
  /** A limiter counting in this store. */
  limiter(spec: LimiterSpec): RateLimiterAbstract;
  /** Release the store's client, when it owns one. */
  close(): Promise<void>;
}
