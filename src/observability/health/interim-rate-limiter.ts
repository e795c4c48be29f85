import { LRUCache } from 'lru-cache';

/** What {@link InterimRateLimiter.hit} decided for one request. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the current window (0 once refused). */
  remaining: number;
  /** Whole seconds until the window resets: the `Retry-After` of a refusal (at least 1). */
  retryAfter: number;
}

/**
 * What the health endpoints need of a rate limiter: count a hit, say whether it may go on.
 * The interim limiter answers at once; the rate-limit subsystem's (shared store) answers
 * with a promise.
 */
export interface HealthRateLimiter {
  hit(
    key: string,
    client: string,
    limit: { max: number; windowMs: number },
  ): RateLimitDecision | Promise<RateLimitDecision>;
}

export interface InterimRateLimiterOptions {
  /** Most (key, address) pairs remembered; the least recently seen go first. Default 10 000. */
  maxClients?: number;
  /** The clock, in ms; injected by tests to cross a window without sleeping. */
  now?: () => number;
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * The health endpoints' **interim** rate limiter: a fixed window per (endpoint, client
 * address), kept in this process, in an LRU map bounded by `maxClients` so that a flood
 * of spoofed or distinct addresses cannot grow memory. It stands in until Keel's
 * rate-limit subsystem (security/) lands, which will take over these endpoints with its
 * shared stores; until then each process of a cluster counts on its own, so N workers
 * allow up to N × `max`.
 *
 * A fixed window lets through at most 2 × `max` around a window's edge; for probe
 * endpoints that is fine, and it costs one map lookup and no timer per request.
 *
 * @example
 * ```ts
 * const limiter = new InterimRateLimiter({ maxClients: 10_000 });
 * const decision = limiter.hit('/ready', ctx.ip, { max: 30, windowMs: 60_000 });
 * if (!decision.allowed) ctx.setHeader('retry-after', String(decision.retryAfter));
 * ```
 */
export class InterimRateLimiter implements HealthRateLimiter {
  readonly #windows: LRUCache<string, Window>;
  readonly #now: () => number;

  constructor(options: InterimRateLimiterOptions = {}) {
    this.#windows = new LRUCache<string, Window>({ max: options.maxClients ?? 10_000 });
    this.#now = options.now ?? Date.now;
  }

  /** Count one request of `client` on `key` and say whether it may go on. */
  hit(key: string, client: string, limit: { max: number; windowMs: number }): RateLimitDecision {
    const now = this.#now();
    // NUL cannot appear in a route path or an address: the pair maps to one entry only.
    const id = `${key}\u0000${client}`;
    let window = this.#windows.get(id);
    if (window === undefined || now >= window.resetAt) {
      window = { count: 0, resetAt: now + limit.windowMs };
      this.#windows.set(id, window);
    }
    window.count++;
    const retryAfter = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
    if (window.count > limit.max) return { allowed: false, remaining: 0, retryAfter };
    return { allowed: true, remaining: limit.max - window.count, retryAfter };
  }

  /** How many (key, address) pairs are remembered now. */
  get size(): number {
    return this.#windows.size;
  }

  /** Forget every window. */
  clear(): void {
    this.#windows.clear();
  }
}
