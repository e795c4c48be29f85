import type { CacheEntry, CacheStore } from '../store.js';

/**
 * A store whose real implementation is created on first use: the Redis and database
 * stores import ioredis or Kysely, which an application that configures but never
 * touches them should not load at boot. Once created, calls go straight through.
 */
export class LazyStore implements CacheStore {
  readonly driver: string;
  readonly #create: () => Promise<CacheStore>;
  #ready: Promise<CacheStore> | undefined;
  #store: CacheStore | undefined;

  constructor(driver: string, create: () => Promise<CacheStore>) {
    this.driver = driver;
    this.#create = create;
  }

  /** The real store, created now if it was not yet. */
  resolve(): Promise<CacheStore> {
    this.#ready ??= this.#create().then(
      (store) => {
        this.#store = store;
        return store;
      },
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  get(key: string): Promise<unknown> {
    return this.#with((s) => s.get(key));
  }
  getEntry(key: string): Promise<CacheEntry | undefined> {
    return this.#with((s) => s.getEntry(key));
  }
  getMany(keys: readonly string[]): Promise<unknown[]> {
    return this.#with((s) => s.getMany(keys));
  }
  set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    return this.#with((s) => s.set(key, value, ttlMs));
  }
  setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttlMs: number | undefined,
  ): Promise<void> {
    return this.#with((s) => s.setMany(entries, ttlMs));
  }
  add(key: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    return this.#with((s) => s.add(key, value, ttlMs));
  }
  delete(key: string): Promise<boolean> {
    return this.#with((s) => s.delete(key));
  }
  increment(key: string, by: number): Promise<number> {
    return this.#with((s) => s.increment(key, by));
  }
  flush(prefix: string): Promise<void> {
    return this.#with((s) => s.flush(prefix));
  }
  gc(): Promise<number> {
    return this.#with((s) => (s.gc ? s.gc() : 0));
  }
  async close(): Promise<void> {
    // Never created: nothing to close, and nothing to import just to close it.
    if (this.#ready === undefined) return;
    const store = await this.#ready.catch(() => undefined);
    await store?.close?.();
  }

  async #with<T>(fn: (store: CacheStore) => T | PromiseLike<T>): Promise<T> {
    return fn(this.#store ?? (await this.resolve()));
  }
}
