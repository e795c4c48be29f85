import type { Redis, RedisOptions } from 'ioredis';
import {
  closeRedisClient,
  createRedisClient,
  isRedisUnavailable,
  redisOutageReason,
} from '../../support/index.js';
import { E_LOCK_STORE_UNAVAILABLE } from '../errors.js';
import type { LockStore } from '../lock-store.js';

export interface RedisLockStoreOptions {
  /** An ioredis client (created by the caller, or by LockProvider from config). */
  client: Redis;
  /** Prepended to every key; default `keel:locks:`. */
  prefix?: string;
  /** Quit the client on close(); default false (whoever created it closes it). */
  ownsClient?: boolean;
  /**
   * Let a name's fencing counter expire this long (ms) after its last acquisition. Only
   * for locks whose fencing tokens nobody checks (the cache's stampede guard takes one
   * lock per missed key, and counters that never expire would pile up): after the expiry,
   * the name's tokens start again at 1. Default: counters never expire.
   */
  fenceTtlMs?: number;
}

// KEYS[1] the lock key, KEYS[2] the name's fencing counter; ARGV[1] owner token, ARGV[2] ttl ms,
// ARGV[3] the counter's ttl ms (0: none).
// Invariant: the counter is INCR'd only by the call that just set the lock key, in the same
// script (Redis runs scripts one at a time), so each successful acquire of a name returns a
// token greater than all before it. The counter has no TTL unless the store was made with
// fenceTtlMs (tokens nobody checks): expiry must not reset a counter someone relies on.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
  return token
end
return 0`;

// KEYS[1] the lock key; ARGV[1] owner token. Deletes only the caller's own lease.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

// KEYS[1] the lock key; ARGV[1] owner token, ARGV[2] ttl ms. Extends only the caller's own
// unexpired lease (an expired key is gone, so GET answers nil).
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

/** How {@link RedisLockStore.connect} creates its client. */
export interface RedisLockStoreConnectOptions {
  /** `redis://[:password@]host:port/db`; `options` override its parts. */
  url?: string;
  /** ioredis options (host, port, password, db, ...); they win over the defaults. */
  options?: RedisOptions;
  /** Prepended to every key; default `keel:locks:`. */
  prefix?: string;
  /** Longest wait for a reply before a call fails (default 1000 ms). */
  commandTimeoutMs?: number;
  /** Longest wait for the TCP connection to open (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Called with each connection error of the client (refused, reset, ...); keep it cheap. */
  onError?: (error: Error) => void;
}

/**
 * Locks in Redis: a key per held lock (`<prefix>lock:<name>`, value = owner token, PX
 * expiry) and a counter per name (`<prefix>fence:<name>`) for fencing tokens, changed only
 * by Lua scripts. One Redis server (or a primary): this is not Redlock, and Redis Cluster is
 * not supported (the two keys of a name may live on different slots).
 *
 * While Redis is unreachable every call fails with `E_LOCK_STORE_UNAVAILABLE` (the ioredis
 * error as its `cause`); with the client `connect()` creates it fails fast, without
 * queueing, and the client keeps reconnecting so the store works again once Redis is back.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const store = new RedisLockStore({ client: new Redis(6379), prefix: 'app:locks:' });
 * // or with a fail-fast client of its own, which close() quits:
 * const owned = await RedisLockStore.connect({ url: 'redis://127.0.0.1:6379/0' });
 * ```
 */
export class RedisLockStore implements LockStore {
  readonly driver = 'redis';
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #ownsClient: boolean;
  readonly #fenceTtlMs: number;

  constructor(options: RedisLockStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'keel:locks:';
    this.#ownsClient = options.ownsClient ?? false;
    this.#fenceTtlMs = Math.max(0, Math.ceil(options.fenceTtlMs ?? 0));
  }

  /**
   * A store with a client of its own (quit on close) that fails fast while Redis is down
   * and reconnects by itself. Nothing connects now: the first call opens the connection
   * (and waits for it), so an app that never takes a lock never talks to Redis.
   */
  static async connect(options: RedisLockStoreConnectOptions = {}): Promise<RedisLockStore> {
    const client = await createRedisClient({
      url: options.url,
      options: options.options,
      commandTimeoutMs: options.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      onError: options.onError,
    });
    return new RedisLockStore({ client, prefix: options.prefix, ownsClient: true });
  }

  /** The ioredis client. */
  get client(): Redis {
    return this.#client;
  }

  #lockKey(name: string): string {
    return `${this.#prefix}lock:${name}`;
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<number | null> {
    const keys = [this.#lockKey(name), `${this.#prefix}fence:${name}`];
    const token = Number(
      await this.#run(() => this.#client.eval(ACQUIRE, 2, ...keys, owner, ttlMs, this.#fenceTtlMs)),
    );
    return token > 0 ? token : null;
  }

  async release(name: string, owner: string): Promise<boolean> {
    const key = this.#lockKey(name);
    return Number(await this.#run(() => this.#client.eval(RELEASE, 1, key, owner))) === 1;
  }

  async extend(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = this.#lockKey(name);
    return Number(await this.#run(() => this.#client.eval(EXTEND, 1, key, owner, ttlMs))) === 1;
  }

  async owner(name: string): Promise<string | null> {
    return this.#run(() => this.#client.get(this.#lockKey(name)));
  }

  async forceRelease(name: string): Promise<boolean> {
    return (await this.#run(() => this.#client.del(this.#lockKey(name)))) === 1;
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    await closeRedisClient(this.#client);
  }

  /** Run one command, turning an outage into E_LOCK_STORE_UNAVAILABLE. */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error;
      throw new E_LOCK_STORE_UNAVAILABLE('redis', redisOutageReason(error)).withCause(error);
    }
  }
}
