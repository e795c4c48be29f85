import type { Redis } from 'ioredis';
import { isSessionHandle, isSessionId, sessionHandle } from '../session-id.js';
import { expiresAt, isExpired, type SessionRecord, toRecord } from '../session-record.js';
import type { ServerSessionStore, SessionStoreOptions, StoredSession } from '../store.js';

export interface RedisSessionStoreOptions extends SessionStoreOptions {
  /** An ioredis client (the provider makes one with `createRedisClient`). */
  client: Redis;
  /** Prepended to every key (default `keel:session:`). */
  prefix?: string;
}

/**
 * Inputs: KEYS[1] the user's index set, KEYS[2] the active index; ARGV[1] the session key
 * prefix, ARGV[2] the user id, ARGV[3..] handles to keep. Invariant: only sessions whose
 * stored record still belongs to the user are deleted — a handle left in the set after the
 * session changed user (setUser) is dropped from the set, the session is left alone.
 */
const DESTROY_USER = `
local members = redis.call('SMEMBERS', KEYS[1])
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
local removed = 0
for _, handle in ipairs(members) do
  if not keep[handle] then
    local raw = redis.call('GET', ARGV[1] .. handle)
    local owned = false
    if raw then
      local ok, record = pcall(cjson.decode, raw)
      owned = ok and type(record) == 'table' and record.userId == ARGV[2]
    end
    if owned then
      redis.call('DEL', ARGV[1] .. handle)
      redis.call('ZREM', KEYS[2], handle)
      removed = removed + 1
    end
    redis.call('SREM', KEYS[1], handle)
  end
end
return removed
`;

/**
 * Sessions in Redis: `<prefix>s:<handle>` holds the record as JSON with a TTL equal to the
 * time left before it expires (idle or absolute, whichever comes first), so Redis drops
 * expired sessions by itself. `<prefix>u:<userId>` is the set of a user's handles, and
 * `<prefix>active` a sorted set of handles by expiry time that counts active sessions.
 * Keys are built from the prefix inside scripts: use one Redis (not Cluster) per store.
 *
 * @example
 * ```ts
 * const store = new RedisSessionStore({ client: await createRedisClient({ url }), lifetime });
 * ```
 */
export class RedisSessionStore implements ServerSessionStore {
  readonly driver = 'redis';
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #options: SessionStoreOptions;

  constructor(options: RedisSessionStoreOptions) {
    this.#redis = options.client;
    this.#prefix = options.prefix ?? 'keel:session:';
    this.#options = options;
  }

  async read(cookieValue: string): Promise<{ id: string; record: SessionRecord } | undefined> {
    if (!isSessionId(cookieValue)) return undefined;
    const record = parse(await this.#redis.get(this.#key(sessionHandle(cookieValue))));
    return record ? { id: cookieValue, record } : undefined;
  }

  cookieValue(id: string): string {
    return id;
  }

  async write(id: string, record: SessionRecord): Promise<void> {
    const handle = sessionHandle(id);
    const deadline = expiresAt(record, this.#options.lifetime);
    const ttl = deadline - record.lastActivity;
    if (ttl <= 0) {
      await this.destroyHandle(handle);
      return;
    }
    const multi = this.#redis
      .multi()
      .set(this.#key(handle), JSON.stringify(record), 'PX', ttl)
      .zadd(this.#activeKey(), deadline, handle);
    if (record.userId !== null) {
      multi.sadd(this.#userKey(record.userId), handle);
      // The set outlives none of its sessions by more than one absolute lifetime.
      multi.pexpire(this.#userKey(record.userId), this.#options.lifetime.absoluteMs);
    }
    await multi.exec();
  }

  async destroy(id: string): Promise<void> {
    await this.destroyHandle(sessionHandle(id));
  }

  async forUser(userId: string, now: number): Promise<StoredSession[]> {
    const handles = (await this.#redis.smembers(this.#userKey(userId))).filter(isSessionHandle);
    if (handles.length === 0) return [];
    const values = await this.#redis.mget(handles.map((h) => this.#key(h)));
    const out: StoredSession[] = [];
    const stale: string[] = [];
    for (const [i, handle] of handles.entries()) {
      const record = parse(values[i] ?? null);
      if (!record || record.userId !== userId) stale.push(handle);
      else if (!isExpired(record, this.#options.lifetime, now)) out.push({ handle, record });
    }
    if (stale.length > 0) await this.#redis.srem(this.#userKey(userId), ...stale);
    return out.sort((a, b) => b.record.lastActivity - a.record.lastActivity);
  }

  async destroyHandle(handle: string): Promise<boolean> {
    if (!isSessionHandle(handle)) return false;
    const record = parse(await this.#redis.get(this.#key(handle)));
    const multi = this.#redis.multi().del(this.#key(handle)).zrem(this.#activeKey(), handle);
    if (record?.userId != null) multi.srem(this.#userKey(record.userId), handle);
    const results = await multi.exec();
    return Number(results?.[0]?.[1] ?? 0) > 0;
  }

  async destroyUser(userId: string, keep: readonly string[] = []): Promise<number> {
    const removed = await this.#redis.eval(
      DESTROY_USER,
      2,
      this.#userKey(userId),
      this.#activeKey(),
      this.#key(''),
      userId,
      ...keep,
    );
    return Number(removed);
  }

  async countActive(now: number): Promise<number> {
    return this.#redis.zcount(this.#activeKey(), `(${now}`, '+inf');
  }

  /** Redis expires the sessions itself; this trims their entries from the active index. */
  async gc(now: number): Promise<number> {
    return this.#redis.zremrangebyscore(this.#activeKey(), '-inf', now);
  }

  #key(handle: string): string {
    return `${this.#prefix}s:${handle}`;
  }

  #userKey(userId: string): string {
    return `${this.#prefix}u:${userId}`;
  }

  #activeKey(): string {
    return `${this.#prefix}active`;
  }
}

function parse(text: string | null): SessionRecord | undefined {
  if (text === null) return undefined;
  try {
    return toRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}
