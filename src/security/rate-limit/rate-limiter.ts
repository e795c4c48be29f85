import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { suggest } from '../../support/index.js';
import {
  E_RATE_LIMIT_CONFIG_INVALID,
  E_RATE_LIMIT_STORE_UNAVAILABLE,
  E_RATE_LIMITED,
  E_RATE_LIMITER_NOT_FOUND,
} from './errors.js';
import type { RateLimitKey } from './rate-limit-config.js';
import { storedKey } from './rate-limit-key.js';
import type { LimiterSpec, RateLimitStore } from './rate-limit-store.js';
import type { MemoryRateLimitStore } from './stores/memory-rate-limit-store.js';

/**
 * Whether `error` is rate-limiter-flexible's answer to a refused hit (a `RateLimiterRes`,
 * thrown) rather than a store failure. Checked by shape, so that this module, which every
 * app loads with the framework providers, does not load the library before a first hit.
 */
function isRefusal(error: unknown): error is RateLimiterRes {
  return (
    typeof error === 'object' &&
    error !== null &&
    !(error instanceof Error) &&
    typeof (error as RateLimiterRes).msBeforeNext === 'number' &&
    typeof (error as RateLimiterRes).remainingPoints === 'number'
  );
}

/** A limiter's allowance: `points` per `duration` seconds. */
export interface RateLimitPolicy {
  readonly name: string;
  readonly points: number;
  /** Whole seconds. */
  readonly duration: number;
  readonly blockDuration?: number;
  /** Who the `throttle` middleware counts (the programmatic API takes the key as given). */
  readonly key: RateLimitKey;
}

/** What one attempt decided. */
export interface RateLimitResult {
  readonly limiter: string;
  readonly allowed: boolean;
  /** The policy's points per window. */
  readonly limit: number;
  /** Requests of this cost still allowed in the window (0 once refused). */
  readonly remaining: number;
  /** Milliseconds until the window (or the block) ends. */
  readonly resetMs: number;
  /** Whole seconds until the window ends: the `Retry-After` of a refusal (at least 1). */
  readonly retryAfter: number;
  /** Points this attempt cost (more than 1 while the client is penalised). */
  readonly cost: number;
  /** The store failed and the per-process fallback answered (`onStoreError: 'open'`). */
  readonly degraded: boolean;
}

export interface RateLimiterOptions {
  /**
   * Where counters live: a store, or a loader run on the first hit (the provider's: it
   * imports the store's module and creates its client only then).
   */
  store: RateLimitStore | { name: RateLimitStore['name']; load: () => Promise<RateLimitStore> };
  /** Prepended to every limiter's keys (`keel:rl`). */
  prefix: string;
  /** Named limiters (`security.rate_limit.limiters`). */
  limiters?: Record<
    string,
    { points: number; duration: number; blockDuration?: number; key?: RateLimitKey }
  >;
  /** `open` falls back to a per-process memory limiter while the store fails; `closed` refuses. */
  onStoreError?: 'open' | 'closed';
  /** Told of every store failure (the provider logs it, once per outage). */
  onStoreFailure?: (error: unknown, limiter: string) => void;
  /** Told when the store answers again after a failure. */
  onStoreRecovered?: () => void;
}

interface Entry {
  readonly policy: RateLimitPolicy;
  readonly spec: LimiterSpec;
  limiter: RateLimiterAbstract | undefined;
  insurance: RateLimiterAbstract | undefined;
}

type RateLimiterResult = RateLimiterRes;

/** Told of what the limiter does (the provider feeds metrics from it). */
export interface RateLimitObserver {
  /** Each decision of `attempt`/`consume`. */
  decision?(result: RateLimitResult): void;
  /** Each store failure (the fallback or the refusal follows). */
  failure?(limiter: string, error: unknown): void;
}

/**
 * Keel's rate limiter, bound as `rate.limiter`: named limiters (config or `define`)
 * counting in the configured store, for the `throttle` middleware and for code that
 * guards something itself — a login form against brute force, a costly export, an OTP.
 *
 * Keys are whatever identifies the client to you (`ip:…`, `user:…`, an e-mail); any
 * string is safe (long or odd ones are hashed before they reach the store).
 *
 * @example
 * ```ts
 * const limiter = app.make('rate.limiter');
 * const result = await limiter.attempt('login', `${email}|${ctx.ip}`);
 * if (!result.allowed) throw new E_RATE_LIMITED('login', result.retryAfter);
 * // ... after a successful login:
 * await limiter.clear('login', `${email}|${ctx.ip}`);
 * ```
 */
export class RateLimiter {
  readonly #storeName: RateLimitStore['name'];
  readonly #load: () => Promise<RateLimitStore>;
  #store: RateLimitStore | undefined;
  #loading: Promise<RateLimitStore> | undefined;
  readonly #prefix: string;
  readonly #closed: boolean;
  readonly #entries = new Map<string, Entry>();
  readonly #onFailure: ((error: unknown, limiter: string) => void) | undefined;
  readonly #onRecovered: (() => void) | undefined;
  /** The insurance limiters' store, made at the first store failure. */
  #fallback: MemoryRateLimitStore | undefined;
  #observers: RateLimitObserver[] = [];
  #failing = false;

  constructor(options: RateLimiterOptions) {
    const store = options.store;
    this.#storeName = store.name;
    if ('load' in store) this.#load = store.load;
    else {
      this.#store = store;
      this.#load = async () => store;
    }
    this.#prefix = options.prefix;
    this.#closed = options.onStoreError === 'closed';
    this.#onFailure = options.onStoreFailure;
    this.#onRecovered = options.onStoreRecovered;
    for (const [name, limiter] of Object.entries(options.limiters ?? {}))
      this.define(name, limiter);
  }

  /** The store limiters count in (`memory`, `redis`, `database`). */
  get storeName(): RateLimitStore['name'] {
    return this.#storeName;
  }

  /**
   * Add (or replace) a named limiter: `points` per `duration` seconds, optionally refusing
   * for `blockDuration` seconds once over.
   */
  define(
    name: string,
    options: { points: number; duration: number; blockDuration?: number; key?: RateLimitKey },
  ): RateLimitPolicy {
    const { points, duration, blockDuration } = options;
    if (!Number.isInteger(points) || points < 1)
      throw new E_RATE_LIMIT_CONFIG_INVALID(
        `limiter ${name}: points`,
        `${points} is not a positive whole number`,
      );
    if (!Number.isInteger(duration) || duration < 1)
      throw new E_RATE_LIMIT_CONFIG_INVALID(
        `limiter ${name}: duration`,
        `${duration} is not a positive whole number of seconds`,
      );
    const policy: RateLimitPolicy = {
      name,
      points,
      duration,
      key: options.key ?? 'user',
      ...(blockDuration !== undefined ? { blockDuration } : {}),
    };
    const spec: LimiterSpec = {
      keyPrefix: `${this.#prefix}:${name}`,
      points,
      duration,
      ...(blockDuration !== undefined ? { blockDuration } : {}),
    };
    this.#entries.set(name, {
      policy,
      spec,
      limiter: this.#store?.limiter(spec),
      insurance: undefined,
    });
    return policy;
  }

  /**
   * Observe decisions and store failures; returns the function that stops it. Observers
   * must be cheap and must not throw (a throw is swallowed).
   */
  observe(observer: RateLimitObserver): () => void {
    this.#observers = [...this.#observers, observer];
    return () => {
      this.#observers = this.#observers.filter((o) => o !== observer);
    };
  }

  /** Whether a limiter of that name exists. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** A named limiter's policy. */
  policy(name: string): RateLimitPolicy {
    return this.#entry(name).policy;
  }

  /**
   * The limiter for `throttle:<points>,<seconds>`: one per (points, duration), so routes
   * with the same arguments share the client's allowance.
   */
  adhoc(points: number, duration: number, key: RateLimitKey = 'user'): RateLimitPolicy {
    const name = `throttle-${points}-${duration}${typeof key === 'string' && key !== 'user' ? `-${key}` : ''}`;
    return this.#entries.get(name)?.policy ?? this.define(name, { points, duration, key });
  }

  /**
   * Count one attempt (of `cost` points) of `key` against limiter `name` and say whether
   * it may go on. Never throws for a refusal: see `consume` for that.
   */
  async attempt(name: string, key: string, cost = 1): Promise<RateLimitResult> {
    const entry = this.#entry(name);
    const points = Math.min(Math.max(1, Math.ceil(cost)), entry.policy.points);
    const stored = storedKey(key);
    let res: RateLimiterResult;
    let allowed = true;
    let degraded = false;
    try {
      res = await this.#run(
        entry,
        (limiter) => limiter.consume(stored, points),
        (fallback) => {
          degraded = true;
          return fallback.consume(stored, points);
        },
      );
    } catch (error) {
      if (!isRefusal(error)) throw error;
      res = error;
      allowed = false;
    }
    const result = this.#result(entry.policy, res, allowed, points, degraded);
    for (const observer of this.#observers) {
      try {
        observer.decision?.(result);
      } catch {
        // Metrics must not change a decision.
      }
    }
    return result;
  }

  /**
   * Like `attempt`, but a refusal throws `E_RATE_LIMITED` (429 with `Retry-After`).
   *
   * @example
   * ```ts
   * await app.make('rate.limiter').consume('exports', `user:${user.id}`);
   * ```
   */
  async consume(name: string, key: string, cost = 1): Promise<RateLimitResult> {
    const result = await this.attempt(name, key, cost);
    if (!result.allowed) throw new E_RATE_LIMITED(name, result.retryAfter);
    return result;
  }

  /** Points `key` has left in the current window of limiter `name`. */
  async remaining(name: string, key: string): Promise<number> {
    return Math.max(0, this.#entry(name).policy.points - (await this.consumed(name, key)));
  }

  /** Points `key` has used in the current window of limiter `name` (above its points once over). */
  async consumed(name: string, key: string): Promise<number> {
    const entry = this.#entry(name);
    const stored = storedKey(key);
    const res = await this.#run(
      entry,
      (limiter) => limiter.get(stored),
      (fallback) => fallback.get(stored),
    );
    return res === null ? 0 : res.consumedPoints;
  }

  /** Forget `key`'s count (and block) on limiter `name`: after a successful login, say. */
  async clear(name: string, key: string): Promise<void> {
    const entry = this.#entry(name);
    const stored = storedKey(key);
    await entry.insurance?.delete(stored);
    await this.#run(
      entry,
      (limiter) => limiter.delete(stored),
      async () => false,
    );
  }

  /**
   * Refuse `key` on limiter `name` for `seconds` (default: the policy's block or window),
   * whatever its count: the error throttle's penalty, or an app's own ban.
   */
  async block(name: string, key: string, seconds?: number): Promise<void> {
    const entry = this.#entry(name);
    const stored = storedKey(key);
    const duration = seconds ?? entry.policy.blockDuration ?? entry.policy.duration;
    await this.#run(
      entry,
      (limiter) => limiter.block(stored, duration),
      (fallback) => fallback.block(stored, duration),
    );
  }

  /** Release the store's client. */
  async close(): Promise<void> {
    const store = this.#store ?? (await this.#loading?.catch(() => undefined));
    await store?.close();
  }

  async #limiter(entry: Entry): Promise<RateLimiterAbstract> {
    if (entry.limiter) return entry.limiter;
    if (!this.#store) {
      this.#loading ??= this.#load().then(
        (store) => {
          this.#store = store;
          return store;
        },
        (error: unknown) => {
          // A failed load (Redis client, driver) is retried on the next hit.
          this.#loading = undefined;
          throw error;
        },
      );
      await this.#loading;
    }
    entry.limiter = this.#store!.limiter(entry.spec);
    return entry.limiter;
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw new E_RATE_LIMITER_NOT_FOUND(name, suggest(name, this.#entries.keys()));
    return entry;
  }

  /**
   * Run `operation` on the store's limiter. A refusal (a `RateLimiterRes`) passes through;
   * any other failure is the store's: reported, then answered by the memory fallback
   * (open) or turned into E_RATE_LIMIT_STORE_UNAVAILABLE (closed).
   */
  async #run<T>(
    entry: Entry,
    operation: (limiter: RateLimiterAbstract) => Promise<T>,
    fallback: (limiter: RateLimiterAbstract) => Promise<T>,
  ): Promise<T> {
    let value: T;
    try {
      value = await operation(await this.#limiter(entry));
    } catch (error) {
      if (isRefusal(error)) {
        this.#recovered();
        throw error;
      }
      this.#failing = true;
      try {
        this.#onFailure?.(error, entry.policy.name);
        for (const observer of this.#observers) observer.failure?.(entry.policy.name, error);
      } catch {
        // A failing logger must not change the decision.
      }
      if (this.#closed)
        throw new E_RATE_LIMIT_STORE_UNAVAILABLE(entry.policy.name, this.#storeName).withCause(
          error,
        );
      if (entry.insurance === undefined) {
        if (this.#fallback === undefined) {
          const { MemoryRateLimitStore } = await import('./stores/memory-rate-limit-store.js');
          this.#fallback ??= new MemoryRateLimitStore();
        }
        entry.insurance = this.#fallback.limiter(entry.spec);
      }
      return fallback(entry.insurance);
    }
    this.#recovered();
    return value;
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    try {
      this.#onRecovered?.();
    } catch {
      // As above.
    }
  }

  #result(
    policy: RateLimitPolicy,
    res: RateLimiterResult,
    allowed: boolean,
    cost: number,
    degraded: boolean,
  ): RateLimitResult {
    const resetMs = res.msBeforeNext >= 0 ? res.msBeforeNext : policy.duration * 1000;
    return {
      limiter: policy.name,
      allowed,
      limit: policy.points,
      remaining: allowed ? Math.floor(res.remainingPoints / cost) : 0,
      resetMs,
      retryAfter: Math.max(allowed ? 0 : 1, Math.ceil(resetMs / 1000)),
      cost,
      degraded,
    };
  }
}
