import type { CacheEntry, CacheStore } from '../store.js';
import type { MemoryStore } from './memory-store.js';
import type { Invalidation, InvalidationBus } from './redis-invalidation-bus.js';

export interface TieredStoreOptions {
  /** The per-process tier. */
  l1: MemoryStore;
  /** The shared tier (Redis or database store). */
  l2: CacheStore;
  /**
   * Tells the other processes which keys to drop from their L1 (and hears theirs). Without
   * one, another process's write is only seen here once this L1's entry ends: use a bus,
   * or keep `l1TtlMs` short.
   */
  bus?: InvalidationBus | Promise<InvalidationBus>;
  /** The longest an entry stays in L1, whatever its TTL in L2 (default: its TTL). */
  l1TtlMs?: number;
  /** How long L1 remembers that L2 holds no such key (default 60 s, capped by l1TtlMs). */
  negativeTtlMs?: number;
  /** Bus failures while subscribing; the store goes on as L1 + L2 without it. */
  onError?: (error: unknown) => void;
}

/** What L1 holds for a key L2 was asked for and did not have. */
const ABSENT = Symbol('keel.cache.absent');

/**
 * A memory L1 in front of a shared L2 (Redis or the database), kept coherent across
 * processes by an {@link InvalidationBus}: a hit in L1 answers synchronously, like the
 * memory store; a miss reads L2 and keeps the entry in L1 until its L2 expiry (or
 * `l1TtlMs`). Every write goes to L2 first, then to this L1, then to the bus, and each
 * other process drops the key from its L1, so its next read goes to L2.
 *
 * Keys L2 does not hold are remembered in L1 too (briefly, `negativeTtlMs`), so the tag
 * counters that are never invalidated do not cost a round trip per tagged read; any write
 * anywhere clears them through the same bus. When L2 fails, L1 still answers what it holds
 * and the error reaches the Cache, which fails open.
 *
 * @example
 * ```ts
 * const store = new TieredStore({
 *   l1: new MemoryStore({ maxEntries: 50_000 }),
 *   l2: await RedisStore.connect({ url }),
 *   bus: RedisInvalidationBus.connect({ url }),
 * });
 * ```
 */
export class TieredStore implements CacheStore {
  readonly driver = 'tiered';
  readonly #l1: MemoryStore;
  readonly #l2: CacheStore;
  readonly #bus: Promise<InvalidationBus | undefined>;
  readonly #l1TtlMs: number | undefined;
  readonly #negativeTtlMs: number;
  #unsubscribe: (() => void) | undefined;
  /**
   * Bumped by every write here and every invalidation heard: an L2 read that saw it change
   * while in flight may have read the old value, so it does not fill L1.
   */
  #epoch = 0;

  constructor(options: TieredStoreOptions) {
    this.#l1 = options.l1;
    this.#l2 = options.l2;
    this.#l1TtlMs = options.l1TtlMs;
    this.#negativeTtlMs = Math.min(options.negativeTtlMs ?? 60_000, options.l1TtlMs ?? Infinity);
    this.#bus = Promise.resolve(options.bus).then(
      (bus) => {
        this.#unsubscribe = bus?.subscribe((message) => this.#invalidated(message));
        return bus;
      },
      (error: unknown) => {
        options.onError?.(error);
        return undefined;
      },
    );
  }

  /** The per-process tier. */
  get l1(): MemoryStore {
    return this.#l1;
  }

  /** The shared tier. */
  get l2(): CacheStore {
    return this.#l2;
  }

  get evictions(): number {
    return this.#l1.evictions;
  }

  /** Resolves once the bus is subscribed (or known to be missing). */
  async ready(): Promise<void> {
    await this.#bus;
  }

  get(key: string): unknown {
    const held = this.#l1.get(key);
    if (held === ABSENT) return undefined;
    if (held !== undefined) return held;
    return this.#fromL2(key).then((entry) => entry?.value);
  }

  getEntry(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    const held = this.#l1.getEntry(key);
    if (held?.value === ABSENT) return undefined;
    if (held !== undefined) return held;
    return this.#fromL2(key);
  }

  getMany(keys: readonly string[]): unknown[] | Promise<unknown[]> {
    const values = this.#l1.getMany(keys);
    const missing: number[] = [];
    for (const [i, value] of values.entries()) {
      if (value === ABSENT) values[i] = undefined;
      else if (value === undefined) missing.push(i);
    }
    if (missing.length === 0) return values;
    return Promise.all(missing.map((i) => this.#fromL2(keys[i] as string))).then((entries) => {
      for (const [n, i] of missing.entries()) values[i] = entries[n]?.value;
      return values;
    });
  }

  async set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    this.#epoch++;
    try {
      await this.#l2.set(key, value, ttlMs);
    } catch (error) {
      // L2 may or may not hold the new value: this L1 must not keep serving the old one.
      this.#l1.delete(key);
      throw error;
    }
    this.#keep(key, value, ttlMs);
    await this.#publish({ keys: [key] });
  }

  async setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttlMs: number | undefined,
  ): Promise<void> {
    this.#epoch++;
    try {
      await this.#l2.setMany(entries, ttlMs);
    } catch (error) {
      for (const [key] of entries) this.#l1.delete(key);
      throw error;
    }
    for (const [key, value] of entries) this.#keep(key, value, ttlMs);
    await this.#publish({ keys: entries.map(([key]) => key) });
  }

  async add(key: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    this.#epoch++;
    // A remembered absence must not hide the key from the add that creates it elsewhere.
    if (this.#l1.get(key) === ABSENT) this.#l1.delete(key);
    const added = await this.#l2.add(key, value, ttlMs);
    if (added) {
      this.#keep(key, value, ttlMs);
      await this.#publish({ keys: [key] });
    }
    return added;
  }

  async delete(key: string): Promise<boolean> {
    this.#epoch++;
    this.#l1.delete(key);
    const deleted = await this.#l2.delete(key);
    await this.#publish({ keys: [key] });
    return deleted;
  }

  async increment(key: string, by: number): Promise<number> {
    this.#epoch++;
    this.#l1.delete(key);
    const value = await this.#l2.increment(key, by);
    await this.#publish({ keys: [key] });
    return value;
  }

  async flush(prefix: string): Promise<void> {
    this.#epoch++;
    await this.#l2.flush(prefix);
    this.#l1.flush(prefix);
    await this.#publish({ prefix });
  }

  async gc(): Promise<number> {
    const removed = (await this.#l1.gc()) + ((await this.#l2.gc?.()) ?? 0);
    return removed;
  }

  /** Stop listening and close the bus; L2 belongs to whoever made it (the manager). */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    const bus = await this.#bus;
    await bus?.close();
  }

  async #fromL2(key: string): Promise<CacheEntry | undefined> {
    const epoch = this.#epoch;
    const entry = await this.#l2.getEntry(key);
    if (epoch !== this.#epoch) return entry;
    if (entry === undefined) {
      this.#l1.set(key, ABSENT, this.#negativeTtlMs);
      return undefined;
    }
    const ttl = entry.expiresAt === 0 ? undefined : entry.expiresAt - Date.now();
    if (ttl === undefined || ttl > 0) this.#keep(key, entry.value, ttl);
    return entry;
  }

  /** Put an entry in L1 for its TTL capped by l1TtlMs; too large for L1 only means no L1 copy. */
  #keep(key: string, value: unknown, ttlMs: number | undefined): void {
    const cap = this.#l1TtlMs;
    const ttl = cap === undefined ? ttlMs : ttlMs === undefined ? cap : Math.min(ttlMs, cap);
    try {
      this.#l1.set(key, value, ttl);
    } catch {
      this.#l1.delete(key);
    }
  }

  async #publish(message: { keys: readonly string[] } | { prefix: string }): Promise<void> {
    const bus = await this.#bus;
    await bus?.publish(message);
  }

  #invalidated(message: Invalidation): void {
    this.#epoch++;
    if ('keys' in message) for (const key of message.keys) this.#l1.delete(key);
    else if ('prefix' in message) this.#l1.flush(message.prefix);
    else this.#l1.flush('');
  }
}
