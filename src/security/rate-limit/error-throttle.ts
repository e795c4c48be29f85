import type { HttpContext, RequestInstrument } from '../../http/index.js';
import type { ErrorThrottleConfig } from './rate-limit-config.js';
import { requestKey, type UserIdResolver } from './rate-limit-key.js';
import type { RateLimiter } from './rate-limiter.js';

/** The limiter counting error responses, in the same store as the others. */
export const ERROR_LIMITER = 'keel.errors';

/**
 * Whether a response status counts against its client: every 4xx (scans, 401s of a
 * password guesser, validation spam) and 5xx the client can provoke, but not 429 (already
 * refused: counting it would penalise a client for being throttled) nor 503 (overload or an
 * outage is the server's state, not the client's fault).
 */
export function countsAsError(status: number): boolean {
  return status >= 400 && status <= 599 && status !== 429 && status !== 503;
}

export interface ErrorThrottleOptions {
  limiter: RateLimiter;
  config: Pick<ErrorThrottleConfig, 'threshold' | 'window' | 'penalty' | 'factor'>;
  userId: UserIdResolver;
  /** Told when counting an error failed (the store is down and fails closed). */
  onError?: (error: unknown) => void;
}

/**
 * Adaptive throttling: counts each client's error responses (a request instrument, so
 * unmatched routes count too) in a limiter of the shared store; a client over `threshold`
 * errors in `window` seconds is blocked on that limiter for `penalty` seconds, and while it
 * is, each of its requests on a throttled route costs `factor` points — its allowance
 * shrinks to 1/`factor`. Every process sees the same count and the same penalty, because
 * they live in the store (memory excepted).
 *
 * @example
 * ```ts
 * const errors = new ErrorThrottle({ limiter, config: { threshold: 100, window: 60, penalty: 300, factor: 4 }, userId });
 * app.make('http').instrument(errors.instrument());
 * ```
 */
export class ErrorThrottle {
  readonly #limiter: RateLimiter;
  readonly #userId: UserIdResolver;
  readonly #factor: number;
  readonly #threshold: number;
  readonly #onError: ((error: unknown) => void) | undefined;

  constructor(options: ErrorThrottleOptions) {
    const { threshold, window, penalty, factor } = options.config;
    this.#limiter = options.limiter;
    this.#userId = options.userId;
    this.#factor = factor;
    this.#threshold = threshold;
    this.#onError = options.onError;
    // rate-limiter-flexible blocks a key the moment it goes over: that block is the penalty.
    options.limiter.define(ERROR_LIMITER, {
      points: threshold,
      duration: window,
      blockDuration: Math.max(penalty, window),
      key: 'user',
    });
  }

  /** Who an error counts against: the signed-in user, else the address. */
  client(ctx: HttpContext): string {
    return requestKey(ctx, 'user', this.#userId);
  }

  /** Count one error response of `client`. */
  async record(client: string): Promise<void> {
    await this.#limiter.attempt(ERROR_LIMITER, client);
  }

  /** Whether `client` is serving a penalty now. */
  async penalized(client: string): Promise<boolean> {
    return (await this.#limiter.consumed(ERROR_LIMITER, client)) > this.#threshold;
  }

  /** What one request of `client` costs on a throttled route: `factor` while penalised, else 1. */
  async cost(client: string): Promise<number> {
    return (await this.penalized(client)) ? this.#factor : 1;
  }

  /** The request instrument counting error responses (matched routes or not). */
  instrument(): RequestInstrument<undefined> {
    return {
      name: 'rate-limit:errors',
      scope: false,
      end: (ctx, _state, outcome) => {
        if (!countsAsError(outcome.status)) return;
        this.record(this.client(ctx)).catch((error: unknown) => this.#onError?.(error));
      },
    };
  }
}
