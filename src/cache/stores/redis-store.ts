import type { Redis, RedisOptions } from 'ioredis';
import { E_CACHE_NOT_A_NUMBER, E_CACHE_UNSCOPED_FLUSH } from '../errors.js';
import { deserialize, serializeBounded } from '../serializer.js';
import {
  type CacheEntry,
  type CacheStore,
  DEFAULT_MAX_VALUE_BYTES,
  type SerializingStoreOptions,
} from '../store.js';

export interface RedisStoreOptions extends Omit<SerializingStoreOptions, 'now'> {
  /** A client to use (and not close), or options/URL to create one. */
  client?: Redis;
  url?: string;
  options?: RedisOptions;
  /** Keys per SCAN and per DEL batch when flushing (default 500). */
  scanCount?: number;
}

/**
 * Entries in Redis, expiry kept by the server: `SET key value PX ttl`, `SET … NX` for add,
 * `MGET` for many, `INCRBY` for counters (integers are stored as their decimal text, which
 * is what INCRBY reads). `flush(prefix)` walks `SCAN MATCH prefix*` and deletes in batches;
 * it never runs FLUSHDB, so a Redis shared with sessions, queues or other apps keeps theirs.
 * ioredis is loaded when this store is configured, not at boot.
 *
 * @example
 * ```ts
 * const store = await RedisStore.connect({ url: 'redis://127.0.0.1:6379/0' });
 * ```
 */
export class RedisStore implements CacheStore {
  readonly driver = 'redis';
  readonly #client: Redis;
  readonly #owned: boolean;
  readonly #maxBytes: number;
  readonly #scanCount: number;

  constructor(client: Redis, options: RedisStoreOptions = {}, owned = false) {
    this.#client = client;
    this.#owned = owned;
    this.#maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#scanCount = options.scanCount ?? 500;
  }

  /** Create the store, importing ioredis now (its client connects lazily). */
  static async connect(options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (options.client) return new RedisStore(options.client, options);
    const { Redis } = await import('ioredis');
    const redisOptions: RedisOptions = {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      ...options.options,
    };
    const client = options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions);
    return new RedisStore(client, options, true);
  }

  /** The ioredis client, for tiers and pub/sub built on this store. */
  get client(): Redis {
    return this.#client;
  }

  async get(key: string): Promise<unknown> {
    const text = await this.#client.get(key);
    return text === null ? undefined : deserialize(text);
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    const [[, text], [, pttl]] = (await this.#client.multi().get(key).pttl(key).exec()) as [
      [unknown, string | null],
      [unknown, number],
    ];
    if (text === null) return undefined;
    return { value: deserialize(text), expiresAt: pttl > 0 ? Date.now() + pttl : 0 };
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const texts = await this.#client.mget(...keys);
    return texts.map((text) => (text === null ? undefined : deserialize(text)));
  }

  async set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    const text = serializeBounded(key, value, this.#maxBytes);
    if (ttlMs === undefined) await this.#client.set(key, text);
    else await this.#client.set(key, text, 'PX', pxOf(ttlMs));
  }

  async setMany(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttlMs: number | undefined,
  ): Promise<void> {
    if (entries.length === 0) return;
    const texts = entries.map(([key, value]) => serializeBounded(key, value, this.#maxBytes));
    // MULTI: all or nothing, one round trip.
    const multi = this.#client.multi();
    entries.forEach(([key], i) => {
      if (ttlMs === undefined) multi.set(key, texts[i]!);
      else multi.set(key, texts[i]!, 'PX', pxOf(ttlMs));
    });
    await multi.exec();
  }

  async add(key: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    const text = serializeBounded(key, value, this.#maxBytes);
    const result =
      ttlMs === undefined
        ? await this.#client.set(key, text, 'NX')
        : await this.#client.set(key, text, 'PX', pxOf(ttlMs), 'NX');
    return result === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#client.del(key)) > 0;
  }

  async increment(key: string, by: number): Promise<number> {
    try {
      return await this.#client.incrby(key, by);
    } catch (error) {
      if (/not an integer|out of range/i.test((error as Error).message))
        throw new E_CACHE_NOT_A_NUMBER(key);
      throw error;
    }
  }

  async flush(prefix: string): Promise<void> {
    if (prefix === '') throw new E_CACHE_UNSCOPED_FLUSH('redis');
    const pattern = `${escapeGlob(prefix)}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.#client.scan(
        cursor,
        'MATCH',
        pattern,
        'COUNT',
        this.#scanCount,
      );
      cursor = next;
      if (keys.length > 0) await this.#client.unlink(...keys);
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#client.quit().catch(() => this.#client.disconnect());
  }
}

/** Redis refuses PX 0; a TTL under a millisecond is one millisecond. */
function pxOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/** Escape Redis glob characters so a prefix matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^-]/g, '\\$&');
}
