import type { Redis } from 'ioredis';
import type { LockStore } from '../lock-store.js';

export interface RedisLockStoreOptions {
  /** An ioredis client (created by the caller, or by LockProvider from config). */
  client: Redis;
  /** Prepended to every key; default `keel:locks:`. */
  prefix?: string;
  /** Quit the client on close(); default false (whoever created it closes it). */
  ownsClient?: boolean;
}

// KEYS[1] the lock key, KEYS[2] the name's fencing counter; ARGV[1] owner token, ARGV[2] ttl ms.
// Invariant: the counter is INCR'd only by the call that just set the lock key, in the same
// script (Redis runs scripts one at a time), so each successful acquire of a name returns a
// token greater than all before it. The counter has no TTL: expiry must not reset it.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
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

/**
 * Locks in Redis: a key per held lock (`<prefix>lock:<name>`, value = owner token, PX
 * expiry) and a counter per name (`<prefix>fence:<name>`) for fencing tokens, changed only
 * by Lua scripts. One Redis server (or a primary): this is not Redlock, and Redis Cluster is
 * not supported (the two keys of a name may live on different slots).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const store = new RedisLockStore({ client: new Redis(6379), prefix: 'app:locks:' });
 * ```
 */
export class RedisLockStore implements LockStore {
  readonly driver = 'redis';
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #ownsClient: boolean;

  constructor(options: RedisLockStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'keel:locks:';
    this.#ownsClient = options.ownsClient ?? false;
  }

  #lockKey(name: string): string {
    return `${this.#prefix}lock:${name}`;
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<number | null> {
    const keys = [this.#lockKey(name), `${this.#prefix}fence:${name}`];
    const token = Number(await this.#client.eval(ACQUIRE, 2, ...keys, owner, ttlMs));
    return token > 0 ? token : null;
  }

  async release(name: string, owner: string): Promise<boolean> {
    return Number(await this.#client.eval(RELEASE, 1, this.#lockKey(name), owner)) === 1;
  }

  async extend(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return Number(await this.#client.eval(EXTEND, 1, this.#lockKey(name), owner, ttlMs)) === 1;
  }

  async owner(name: string): Promise<string | null> {
    return this.#client.get(this.#lockKey(name));
  }

  async forceRelease(name: string): Promise<boolean> {
    return (await this.#client.del(this.#lockKey(name))) === 1;
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.quit();
  }
}
