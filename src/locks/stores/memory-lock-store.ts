import type { LockStore } from '../lock-store.js';

interface Held {
  owner: string;
  expiresAt: number;
}

/**
 * Locks in this process's memory: for tests, single-process apps and the CLI. Each method
 * runs in one synchronous turn of the event loop, which makes it atomic here; it excludes
 * nothing across processes (use the database or Redis store for that).
 *
 * @example
 * ```ts
 * const locks = new LockManager({ store: new MemoryLockStore() });
 * ```
 */
export class MemoryLockStore implements LockStore {
  readonly driver = 'memory';
  readonly #held = new Map<string, Held>();
  /** Kept after release and expiry: fencing tokens never go back. */
  readonly #fencing = new Map<string, number>();
  readonly #now: () => number;

  /** `now` is the clock (ms), replaceable in tests. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  #current(name: string): Held | undefined {
    const held = this.#held.get(name);
    if (held && held.expiresAt <= this.#now()) {
      this.#held.delete(name);
      return undefined;
    }
    return held;
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<number | null> {
    if (this.#current(name)) return null;
    const token = (this.#fencing.get(name) ?? 0) + 1;
    this.#fencing.set(name, token);
    this.#held.set(name, { owner, expiresAt: this.#now() + ttlMs });
    return token;
  }

  async release(name: string, owner: string): Promise<boolean> {
    if (this.#current(name)?.owner !== owner) return false;
    this.#held.delete(name);
    return true;
  }

  async extend(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.#current(name);
    if (held?.owner !== owner) return false;
    held.expiresAt = this.#now() + ttlMs;
    return true;
  }

  async owner(name: string): Promise<string | null> {
    return this.#current(name)?.owner ?? null;
  }

  async forceRelease(name: string): Promise<boolean> {
    const held = this.#current(name) !== undefined;
    this.#held.delete(name);
    return held;
  }

  async close(): Promise<void> {
    this.#held.clear();
  }
}
