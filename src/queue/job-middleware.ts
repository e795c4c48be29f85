import { createHash, randomInt } from 'node:crypto';
// The leaf module, not db/index.js: that would load Kysely in every app with a queue.
import { isDeadlock } from '../db/deadlock.js';
import type { Lock, LockManager } from '../locks/index.js';
import { durationMs } from './backoff.js';
import { E_QUEUE_INVALID_MIDDLEWARE, E_QUEUE_MIDDLEWARE_NEEDS_LOCKS } from './errors.js';
import type { Duration, Job, JobContext } from './job.js';

/**
 * Job middleware: functions a job class lists in `static middleware`, run by the worker
 * around `handle`, the first listed outermost. A middleware runs the rest of the pipeline
 * (and at its end the handler) by awaiting `next()`, or gives the job back to its queue for
 * later with `ctx.release(delay)` and returns without calling it.
 */

/** What a job middleware receives. */
export interface JobMiddlewareContext {
  /** The job instance: its class and typed payload. */
  readonly job: Job;
  /** What the handler receives: id, name, queue, attempt, signal, logger. */
  readonly context: JobContext;
  /** The payload as stored (JSON text): a stable basis for keys. */
  readonly payload: string;
  /** The app's locks (`app.make('locks')`), when the worker has them. */
  readonly locks: LockManager | undefined;
  /** The worker's clock (epoch ms). */
  now(): number;
  /**
   * Give the job back to its queue, to be claimed again after `delay`; this attempt does
   * not count against its tries. Call it instead of `next()`, then return.
   */
  release(delay: Duration): void;
}

/**
 * A job middleware. Await `next()` to run the job, or `ctx.release(delay)` to put it back.
 *
 * @example
 * ```ts
 * const onlyOnWeekdays: JobMiddleware = async (ctx, next) => {
 *   const day = new Date(ctx.now()).getUTCDay();
 *   if (day === 0 || day === 6) return ctx.release('12h');
 *   await next();
 * };
 * class Payroll extends Job<{ month: string }> {
 *   static override middleware = [onlyOnWeekdays];
 *   async handle() {}
 * }
 * ```
 */
export type JobMiddleware = (ctx: JobMiddlewareContext, next: () => Promise<void>) => Promise<void>;

/** A key: a string, or computed from the job instance. */
export type JobMiddlewareKey = string | ((job: Job) => string);

export interface RateLimitedOptions {
  /** The limit's name, shared by every job that uses it (default: the job name). */
  key?: JobMiddlewareKey;
  /** Runs allowed per window: a whole number from 1 to 1000. */
  max: number;
  /** The window: no `per`-long stretch of time sees more than `max` runs. */
  per: Duration;
  /** How long a job over the limit waits before it is tried again (default `per / max`). */
  releaseAfter?: Duration;
}

export interface WithoutOverlappingOptions {
  /** The lock's name (default: the job name and a hash of its payload). */
  key?: JobMiddlewareKey;
  /**
   * The lock's lease, extended every third of it while the job runs (default `1m`): it only
   * bounds how long a crashed worker's lock outlives it.
   */
  ttl?: Duration;
  /** How long a job that finds the lock held waits before it is tried again (default `5s`). */
  releaseAfter?: Duration;
}

/** Longest rate limit: each check may try up to `max` lock names. */
const MAX_RATE = 1000;

/**
 * At most `max` runs of the jobs sharing `key` in any `per`-long stretch of time, across
 * every worker and process that share the lock store (the database or redis lock driver;
 * the memory driver limits one process). A job over the limit is released back to its
 * queue with a delay, its attempt not counted.
 *
 * Each run takes one of `max` slot locks (`queue:rate:<key>:<n>`) with a lease of `per`
 * and never releases it: a slot frees `per` after it was taken, so no window holds more
 * than `max` starts, and the store's atomic acquire makes that true across processes. A
 * check costs one lock-store round trip per busy slot it meets (at most `max`).
 *
 * @example
 * ```ts
 * class SyncCustomer extends Job<{ id: number }> {
 *   static override middleware = [rateLimited({ key: 'crm-api', max: 10, per: '1s' })];
 *   async handle() {}
 * }
 * ```
 */
export function rateLimited(options: RateLimitedOptions): JobMiddleware {
  const label = 'rateLimited';
  const { max } = options;
  if (!Number.isInteger(max) || max < 1 || max > MAX_RATE)
    throw new E_QUEUE_INVALID_MIDDLEWARE(label, `max must be a whole number from 1 to ${MAX_RATE}`);
  const perMs = positiveDuration(label, 'per', options.per);
  const releaseMs =
    options.releaseAfter === undefined
      ? Math.max(1, Math.ceil(perMs / max))
      : positiveDuration(label, 'releaseAfter', options.releaseAfter);
  checkKey(label, options.key);
  return async (ctx, next) => {
    const locks = needLocks(label, ctx);
    const base = `queue:rate:${keyOf(label, options.key, ctx, ctx.context.name)}`;
    // Start at a random slot: concurrent checks then rarely contend for the same name.
    const start = randomInt(max);
    for (let i = 0; i < max; i++) {
      const slot = (start + i) % max;
      if ((await acquire(locks.lock(`${base}:${slot}`, perMs))) !== null) return next();
    }
    ctx.release(releaseMs);
  };
}

/**
 * Never two runs of the jobs sharing `key` at once, across every worker and process that
 * share the lock store: a job that finds the lock held is released back to its queue with
 * a delay, its attempt not counted. The lock is held while the job runs, extended as it
 * goes, and released when it ends (success or failure).
 *
 * @example
 * ```ts
 * class RebuildReport extends Job<{ accountId: number }> {
 *   static override middleware = [withoutOverlapping({ key: (job) => `report:${(job as RebuildReport).payload.accountId}` })];
 *   async handle() {}
 * }
 * ```
 */
export function withoutOverlapping(options: WithoutOverlappingOptions = {}): JobMiddleware {
  const label = 'withoutOverlapping';
  const ttlMs = positiveDuration(label, 'ttl', options.ttl ?? '1m');
  const releaseMs = positiveDuration(label, 'releaseAfter', options.releaseAfter ?? '5s');
  checkKey(label, options.key);
  return async (ctx, next) => {
    const locks = needLocks(label, ctx);
    const name = `queue:overlap:${keyOf(label, options.key, ctx, defaultOverlapKey(ctx))}`;
    const lock = locks.lock(name, ttlMs);
    if ((await acquire(lock)) === null) return ctx.release(releaseMs);
    const logger = ctx.context.logger;
    // A heartbeat, not a fixed lease: a job may run far longer than ttl, and the lock must
    // cover all of it. A lost lock is only logged: the handler is already running.
    const beat = setInterval(
      () => {
        lock.extend().then(
          (held) => {
            if (!held) logger.warn({ lock: name }, 'queue: withoutOverlapping lost its lock');
          },
          (error: unknown) => logger.warn({ err: error, lock: name }, 'queue: lock extend failed'),
        );
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    beat.unref();
    try {
      await next();
    } finally {
      clearInterval(beat);
      // The job's own outcome matters more; an unreleased lock expires after ttl.
      await lock
        .release()
        .catch((error: unknown) =>
          logger.warn({ err: error, lock: name }, 'queue: lock release failed'),
        );
    }
  };
}

/**
 * One try at a lock, run again when the database chose it as a deadlock victim: MySQL and
 * MariaDB can deadlock two concurrent first acquisitions of lock names (the upsert's gap
 * locks), and a victim's statement was rolled back whole, so trying again is safe.
 */
async function acquire(lock: Lock): Promise<number | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lock.acquire();
    } catch (error) {
      if (attempt >= 5 || !isDeadlock(error)) throw error;
    }
  }
}

/**
 * The job name and a hash of its payload: two dispatches of the same job with the same
 * payload never overlap; other payloads run side by side. Bounded to fit a lock name.
 */
function defaultOverlapKey(ctx: JobMiddlewareContext): string {
  const name = ctx.context.name;
  const hash = createHash('sha256').update(name).update('\0').update(ctx.payload).digest('hex');
  return `${name.slice(0, 160)}:${hash.slice(0, 40)}`;
}

function needLocks(label: string, ctx: JobMiddlewareContext): LockManager {
  if (ctx.locks === undefined) throw new E_QUEUE_MIDDLEWARE_NEEDS_LOCKS(label, ctx.context.name);
  return ctx.locks;
}

function keyOf(
  label: string,
  key: JobMiddlewareKey | undefined,
  ctx: JobMiddlewareContext,
  fallback: string,
): string {
  if (key === undefined) return fallback;
  const value = typeof key === 'function' ? key(ctx.job) : key;
  if (typeof value !== 'string' || value.length === 0)
    throw new E_QUEUE_INVALID_MIDDLEWARE(label, 'the key function must return a non-empty string');
  return value;
}

function checkKey(label: string, key: unknown): void {
  if (key === undefined || typeof key === 'function') return;
  if (typeof key !== 'string' || key.length === 0)
    throw new E_QUEUE_INVALID_MIDDLEWARE(label, 'key must be a non-empty string or a function');
}

function positiveDuration(label: string, option: string, value: Duration): number {
  let ms: number;
  try {
    ms = durationMs(value);
  } catch {
    throw new E_QUEUE_INVALID_MIDDLEWARE(label, `${option} is not a duration: ${String(value)}`);
  }
  if (!Number.isFinite(ms) || ms <= 0)
    throw new E_QUEUE_INVALID_MIDDLEWARE(label, `${option} must be a positive duration`);
  return Math.ceil(ms);
}

/**
 * Run `middleware` around `handler`, the first listed outermost (koa-compose's rule: each
 * `next` may be called once).
 */
export function composeJobMiddleware(
  middleware: readonly JobMiddleware[],
  ctx: JobMiddlewareContext,
  handler: () => Promise<void>,
): Promise<void> {
  let last = -1;
  const run = async (i: number): Promise<void> => {
    if (i <= last) throw new Error('job middleware: next() called more than once');
    last = i;
    const fn = middleware[i];
    if (fn === undefined) return handler();
    await fn(ctx, () => run(i + 1));
  };
  return run(0);
}
