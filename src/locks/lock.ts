import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { E_LOCK_NOT_ACQUIRED, E_LOCK_NOT_OWNED, E_LOCK_TIMEOUT } from './errors.js';
import { assertLockName, type LockStore, lockTtl } from './lock-store.js';

/** A duration: milliseconds, or a string such as `'500ms'`, `'10s'`, `'1m'`. */
export type LockDuration = number | string;

/** What {@link Lock.run}'s callback receives while it holds the lock. */
export interface LockContext {
  /** This acquisition's fencing token: store it with your writes, refuse older ones. */
  readonly fencingToken: number;
  /** Aborted (reason: E_LOCK_NOT_OWNED) as soon as the lease is known to be lost. */
  readonly signal: AbortSignal;
  readonly lock: Lock;
}

export interface LockRunOptions {
  /** Wait up to this long for the lock (like {@link Lock.block}); default: fail at once. */
  wait?: LockDuration;
  /** Extend the lease every ttl/3 while the callback runs (a heartbeat); default false. */
  autoExtend?: boolean;
}

export interface LockOptions {
  store: LockStore;
  name: string;
  ttl: LockDuration;
  /** Reuse this owner token (see LockManager.restore); default: a fresh one per acquisition. */
  owner?: string;
  /** Longest pause between two attempts while blocking (ms); default 250. */
  maxPollMs?: number;
}

/**
 * One holder of a named lock. Each successful acquisition gets a random owner token (only
 * that owner can release or extend it) and a fencing token greater than every earlier one
 * for the name. Get one from `app.make('locks').lock(name, ttl)`.
 *
 * @example
 * ```ts
 * const lock = locks.lock(`invoice:${id}`, '10s');
 * await lock.run(async ({ fencingToken, signal }) => {
 *   await invoices.update(id, { total, fencing: fencingToken }, { signal });
 * });
 * ```
 */
export class Lock {
  readonly name: string;
  readonly ttlMs: number;
  readonly #store: LockStore;
  readonly #fixedOwner: string | undefined;
  readonly #maxPollMs: number;
  #owner: string;
  #fencingToken: number | null = null;
  /** Set by run(): told the new local lease deadline after each successful extend. */
  #onExtended: ((until: number) => void) | undefined;

  constructor(options: LockOptions) {
    this.name = assertLockName(options.name);
    this.ttlMs = lockTtl(options.ttl);
    this.#store = options.store;
    this.#fixedOwner = options.owner;
    this.#owner = options.owner ?? randomUUID();
    this.#maxPollMs = options.maxPollMs ?? 250;
  }

  /** The owner token of the current (or last) acquisition. */
  get owner(): string {
    return this.#owner;
  }

  /** The fencing token of the current acquisition, or null when this holder has none. */
  get fencingToken(): number | null {
    return this.#fencingToken;
  }

  /**
   * Try once to take the lock. Returns the fencing token, or null when another owner holds
   * it (a holder is not re-entrant: acquiring again while holding also returns null).
   *
   * @example
   * ```ts
   * const token = await lock.acquire();
   * if (token === null) return; // busy
   * try { await work(token); } finally { await lock.release(); }
   * ```
   */
  async acquire(): Promise<number | null> {
    const owner = this.#fixedOwner ?? randomUUID();
    const token = await this.#store.acquire(this.name, owner, this.ttlMs);
    if (token !== null) {
      this.#owner = owner;
      this.#fencingToken = token;
    }
    return token;
  }

  /**
   * Wait up to `timeout` for the lock, polling with a jittered exponential backoff. Without
   * `fn`, returns the fencing token (release it yourself); with `fn`, runs it like
   * {@link run}. Throws E_LOCK_TIMEOUT when the wait ends without the lock.
   *
   * @example
   * ```ts
   * await locks.lock('nightly-report', '5m').block('30s', async ({ fencingToken }) => build(fencingToken));
   * ```
   */
  async block(timeout: LockDuration): Promise<number>;
  async block<T>(
    timeout: LockDuration,
    fn: (context: LockContext) => Promise<T> | T,
    options?: Omit<LockRunOptions, 'wait'>,
  ): Promise<T>;
  async block<T>(
    timeout: LockDuration,
    fn?: (context: LockContext) => Promise<T> | T,
    options: Omit<LockRunOptions, 'wait'> = {},
  ): Promise<number | T> {
    const token = await this.#wait(timeout);
    return fn ? this.#runHeld(fn, token, options.autoExtend ?? false) : token;
  }

  /**
   * Release the lock if this holder still owns it. Returns false, changing nothing, when it
   * does not (never acquired, already released, or the lease expired).
   */
  async release(): Promise<boolean> {
    const released = await this.#store.release(this.name, this.#owner);
    this.#fencingToken = null;
    return released;
  }

  /**
   * Reset the lease to `ttl` (default: the lock's ttl) from now, if this holder still owns
   * it. Returns false, changing nothing, when it does not.
   */
  async extend(ttl?: LockDuration): Promise<boolean> {
    const ms = ttl === undefined ? this.ttlMs : lockTtl(ttl);
    const started = performance.now();
    const extended = await this.#store.extend(this.name, this.#owner, ms);
    if (extended) this.#onExtended?.(started + ms);
    return extended;
  }

  /** Whether any owner holds the lock now. */
  async isLocked(): Promise<boolean> {
    return (await this.#store.owner(this.name)) !== null;
  }

  /** Whether this holder owns the lock now (its lease has not expired). */
  async isOwned(): Promise<boolean> {
    return (await this.#store.owner(this.name)) === this.#owner;
  }

  /**
   * Take the lock, run `fn`, release it in `finally`. Throws E_LOCK_NOT_ACQUIRED when the
   * lock is busy (or E_LOCK_TIMEOUT after `wait`), and E_LOCK_NOT_OWNED when `fn` finished
   * but the lease had been lost meanwhile (its work may have overlapped another holder's).
   *
   * @example
   * ```ts
   * const total = await locks.lock('stock:sku-1', '5s').run(
   *   async ({ fencingToken, signal }) => reserve('sku-1', fencingToken, signal),
   *   { wait: '2s', autoExtend: true },
   * );
   * ```
   */
  async run<T>(
    fn: (context: LockContext) => Promise<T> | T,
    options: LockRunOptions = {},
  ): Promise<T> {
    let token: number | null;
    if (options.wait === undefined) {
      token = await this.acquire();
      if (token === null) throw new E_LOCK_NOT_ACQUIRED(this.name);
    } else token = await this.#wait(options.wait);
    return this.#runHeld(fn, token, options.autoExtend ?? false);
  }

  async #wait(timeout: LockDuration): Promise<number> {
    const limit = timeout === 0 ? 0 : lockTtl(timeout);
    const started = performance.now();
    const deadline = started + limit;
    for (let attempt = 0; ; attempt++) {
      const token = await this.acquire();
      if (token !== null) return token;
      const left = deadline - performance.now();
      if (left <= 0) throw new E_LOCK_TIMEOUT(this.name, Math.round(performance.now() - started));
      // Full jitter keeps a crowd of waiters from polling in step after each release.
      const ceiling = Math.min(this.#maxPollMs, 5 * 2 ** attempt);
      await sleep(Math.min(left, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }

  async #runHeld<T>(
    fn: (context: LockContext) => Promise<T> | T,
    fencingToken: number,
    autoExtend: boolean,
  ): Promise<T> {
    const controller = new AbortController();
    let lost: InstanceType<typeof E_LOCK_NOT_OWNED> | undefined;
    const lose = (reason: string): void => {
      if (lost) return;
      lost = new E_LOCK_NOT_OWNED(this.name, reason);
      controller.abort(lost);
    };
    // The watchdog fires when the lease runs out by the local clock (measured from before
    // the store call, so it never fires later than the store's expiry); each successful
    // extend pushes it back.
    let watchdog: NodeJS.Timeout | undefined;
    const watch = (until: number): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(
        () => lose(`its ${this.ttlMs} ms lease expired`),
        Math.max(0, until - performance.now()),
      );
      watchdog.unref?.();
    };
    watch(performance.now() + this.ttlMs);
    this.#onExtended = watch;
    let heartbeat: NodeJS.Timeout | undefined;
    let stopped = false;
    if (autoExtend) {
      const beat = async (): Promise<void> => {
        if (stopped) return;
        try {
          if (!(await this.extend())) lose('the heartbeat found another owner (or none)');
        } catch {
          // A store hiccup: the watchdog decides whether the lease is lost; try again.
        }
        if (!stopped && !lost) heartbeat = setTimeout(beat, Math.max(1, this.ttlMs / 3));
      };
      heartbeat = setTimeout(beat, Math.max(1, this.ttlMs / 3));
    }
    let result: T;
    try {
      result = await fn({ fencingToken, signal: controller.signal, lock: this });
    } catch (error) {
      stopped = true;
      clearTimeout(heartbeat);
      clearTimeout(watchdog);
      this.#onExtended = undefined;
      // The callback's error matters more than a failed release (which expiry cleans up).
      await this.release().catch(() => false);
      throw error;
    }
    stopped = true;
    clearTimeout(heartbeat);
    clearTimeout(watchdog);
    this.#onExtended = undefined;
    const released = await this.release();
    if (!released)
      throw lost ?? new E_LOCK_NOT_OWNED(this.name, 'its lease was lost before run() finished');
    return result;
  }
}
