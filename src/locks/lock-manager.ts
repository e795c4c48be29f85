import { E_LOCK_NOT_OWNED } from './errors.js';
import { Lock, type LockDuration } from './lock.js';
import { assertLockName, type LockStore, lockTtl } from './lock-store.js';

export interface LockManagerOptions {
  store: LockStore;
  /** Lease of `lock(name)` without a ttl; default 30s. */
  defaultTtl?: LockDuration;
  /** Longest pause between two attempts while blocking (ms); default 250. */
  maxPollMs?: number;
}

/**
 * Makes locks on one store: `app.make('locks')`.
 *
 * @example
 * ```ts
 * const locks = app.make('locks');
 * await locks.lock('import:customers', '5m').run(async ({ fencingToken }) => runImport(fencingToken));
 * ```
 */
export class LockManager {
  readonly store: LockStore;
  readonly defaultTtlMs: number;
  readonly #maxPollMs: number | undefined;

  constructor(options: LockManagerOptions) {
    this.store = options.store;
    this.defaultTtlMs = lockTtl(options.defaultTtl ?? '30s');
    this.#maxPollMs = options.maxPollMs;
  }

  /** A new holder for `name` (nothing is taken until acquire/block/run). */
  lock(name: string, ttl: LockDuration = this.defaultTtlMs): Lock {
    return new Lock({ store: this.store, name, ttl, maxPollMs: this.#maxPollMs });
  }

  /**
   * The holder whose owner token is `owner`, to release or extend from elsewhere (another
   * process, a queued job): pass it `lock.owner` of the acquisition.
   *
   * @example
   * ```ts
   * const owner = lock.owner; // stored with the job
   * await locks.restore('import:customers', owner).release();
   * ```
   */
  restore(name: string, owner: string, ttl: LockDuration = this.defaultTtlMs): Lock {
    if (typeof owner !== 'string' || owner.length === 0 || owner.length > 64)
      throw new E_LOCK_NOT_OWNED(
        assertLockName(name),
        'the owner token must be 1 to 64 characters',
      );
    return new Lock({ store: this.store, name, ttl, owner, maxPollMs: this.#maxPollMs });
  }

  /** Release `name` whoever holds it (an operator's tool); true when it was held. */
  forceRelease(name: string): Promise<boolean> {
    return this.store.forceRelease(assertLockName(name));
  }

  /** Close the store (its connections, when it owns them). */
  async close(): Promise<void> {
    await this.store.close?.();
  }
}
