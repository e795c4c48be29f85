import type { Redis, RedisOptions } from 'ioredis';
import {
  closeRedisClient,
  createRedisClient,
  isRedisUnavailable,
  redisOutageReason,
} from '../../support/index.js';
import {
  E_CACHE_NOT_A_NUMBER,
  E_CACHE_STORE_UNAVAILABLE,
  E_CACHE_UNSCOPED_FLUSH,
} from '../errors.js';
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
  /** ioredis options for the client `connect()` creates; they win over its defaults. */
  options?: RedisOptions;
  /** Keys per SCAN and per DEL batch when flushing (default 500). */
  scanCount?: number;
  /** Longest wait for a reply before a command fails (default 1000 ms; created clients). */
  commandTimeoutMs?: number;
  /** Longest wait for the TCP connection to open (default 2000 ms; created clients). */
  connectTimeoutMs?: number;
  /**
   * Called with each connection error of the client (refused, reset, timed out), e.g. to
   * log or count them; runs on every failed reconnection attempt, so keep it cheap.
   */
  onError?: (error: Error) => void;
}

/**
 * Entries in Redis, expiry kept by the server: `SET key value PX ttl`, `SET … NX` for add,
 * `MGET` for many, `INCRBY` for counters (integers are stored as their decimal text, which
 * is what INCRBY reads). `flush(prefix)` walks `SCAN MATCH prefix*` and deletes in batches;
 * it never runs FLUSHDB, so a Redis shared with sessions, queues or other apps keeps theirs.
 * ioredis is loaded when this store is configured, not at boot.
 *
 * While Redis is unreachable every operation fails fast with `E_CACHE_STORE_UNAVAILABLE`
 * (the ioredis error as its `cause`) instead of hanging or queueing, and the client that
 * `connect()` creates keeps reconnecting (backoff capped at 2 s), so the same store works
 * again when Redis is back. Answers about the command itself (WRONGTYPE, a value that is
 * not an integer) keep their own errors.
 *
 * @example
 * ```ts
 * const store = await RedisStore.connect({
 *   url: 'redis://127.0.0.1:6379/0',
 *   commandTimeoutMs: 500,
 *   onError: (error) => logger.warn({ err: error }, 'cache redis'),
 * });
 * ```
 */
export class RedisStore implements CacheStore {
  readonly driver = 'redis';
  readonly #client: Redis;
  readonly #owned: boolean;
  readonly #maxBytes: number;
  readonly #scanCount: number;
  readonly #listener: ((error: Error) => void) | undefined;

  constructor(client: Redis, options: RedisStoreOptions = {}, owned = false) {
    this.#client = client;
    this.#owned = owned;
    this.#maxBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.#scanCount = options.scanCount ?? 500;
    // A caller's client: report its errors too if asked (removed again on close); the
    // clients connect() creates already send theirs to onError.
    const onError = options.onError;
    if (!owned && onError) {
      this.#listener = (error) => {
        try {
          onError(error);
        } catch {
          // A failing logger must not become an error thrown inside ioredis.
        }
      };
      client.on('error', this.#listener);
    }
  }

  /**
   * Create the store and its client (importing ioredis now), and wait for the first
   * connection attempt: when Redis is up the store is ready on return; when it is down the
   * store is returned all the same, fails fast, and recovers once Redis answers again.
   * A `client` given in the options is used as it is (its owner configures and closes it).
   */
  static async connect(options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (options.client) return new RedisStore(options.client, options);
    const client = await createRedisClient({
      connect: true,
      url: options.url,
      options: options.options,
      commandTimeoutMs: options.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      onError: options.onError,
    });
    return new RedisStore(client, options, true);
  }

  /** The ioredis client, for tiers and pub/sub built on this store. */
  get client(): Redis {
    return this.#client;
  }

  async get(key: string): Promise<unknown> {
    const text = await this.#run(() => this.#client.get(key));
    return text === null ? undefined : deserialize(text);
  }

  async getEntry(key: string): Promise<CacheEntry | undefined> {
    const [text, pttl] = (await this.#exec(this.#client.multi().get(key).pttl(key))) as [
      string | null,
      number,
    ];
    if (text === null) return undefined;
    return { value: deserialize(text), expiresAt: pttl > 0 ? Date.now() + pttl : 0 };
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const texts = await this.#run(() => this.#client.mget(...keys));
    return texts.map((text) => (text === null ? undefined : deserialize(text)));
  }

  async set(key: string, value: unknown, ttlMs: number | undefined): Promise<void> {
    const text = serializeBounded(key, value, this.#maxBytes);
    await this.#run(() =>
      ttlMs === undefined
        ? this.#client.set(key, text)
        : this.#client.set(key, text, 'PX', pxOf(ttlMs)),
    );
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
    await this.#exec(multi);
  }

  async add(key: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    const text = serializeBounded(key, value, this.#maxBytes);
    const result = await this.#run(() =>
      ttlMs === undefined
        ? this.#client.set(key, text, 'NX')
        : this.#client.set(key, text, 'PX', pxOf(ttlMs), 'NX'),
    );
    return result === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#run(() => this.#client.del(key))) > 0;
  }

  async increment(key: string, by: number): Promise<number> {
    try {
      return await this.#run(() => this.#client.incrby(key, by));
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
      const [next, keys] = await this.#run(() =>
        this.#client.scan(cursor, 'MATCH', pattern, 'COUNT', this.#scanCount),
      );
      cursor = next;
      if (keys.length > 0) await this.#run(() => this.#client.unlink(...keys));
    } while (cursor !== '0');
  }

  /**
   * Quit a client this store created (without waiting on a connection that is down), or
   * detach from a caller's client.
   */
  async close(): Promise<void> {
    if (this.#listener) this.#client.off('error', this.#listener);
    if (!this.#owned) return;
    await closeRedisClient(this.#client);
  }

  /** Run one command, turning an outage into E_CACHE_STORE_UNAVAILABLE. */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Run a MULTI and return its replies. ioredis resolves exec() with one [error, reply]
   * pair per command, so a failed command is found here, not in a rejection.
   */
  async #exec(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
    const results = await this.#run(() => multi.exec());
    if (results === null) throw translate(new Error('the transaction was aborted'));
    return results.map(([error, reply]) => {
      if (error) throw translate(error);
      return reply;
    });
  }
}

function translate(error: unknown): unknown {
  return isRedisUnavailable(error)
    ? new E_CACHE_STORE_UNAVAILABLE('redis', redisOutageReason(error)).withCause(error)
    : error;
}

/** Redis refuses PX 0; a TTL under a millisecond is one millisecond. */
function pxOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/** Escape Redis glob characters so a prefix matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^-]/g, '\\$&');
}
