import type { Redis } from 'ioredis';
import type { CacheConfig } from '../../../cache/index.js';
import type { HealthCheckOutcome } from '../../../kernel/index.js';
import type { LocksConfig } from '../../../locks/index.js';
import type { QueueConfig } from '../../../queue/index.js';
import { closeRedisClient, createRedisClient, redisOutageReason } from '../../../support/index.js';

/** One Redis server some subsystem talks to, and who does. */
export interface RedisTarget {
  url?: string;
  /** Parts that override the URL's (or replace it): host, port, password, db. */
  options?: { host?: string; port?: number; password?: string; db?: number };
  /** `cache`, `queue`, `locks`: the subsystems using it. */
  usedBy: string[];
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** What the Redis targets are read from: each subsystem's resolved config, when it has one. */
export interface RedisSources {
  cache?: CacheConfig | undefined;
  queue?: { config: QueueConfig; connection?: string | undefined } | undefined;
  locks?: LocksConfig | undefined;
}

/**
 * The Redis servers in use, one entry per distinct server: the cache stores some pool
 * uses (a `redis` store, a tiered store's `l2` and invalidation bus), the queue's Redis
 * connection, the Redis lock store. Configured but unused stores are left out.
 *
 * @example
 * ```ts
 * redisTargets({ locks: { driver: 'redis', redis: { url: 'redis://r:6379' } } });
 * // [{ url: 'redis://r:6379', options: { db: 0 }, usedBy: ['locks'] }]
 * ```
 */
export function redisTargets(sources: RedisSources): RedisTarget[] {
  const found = new Map<string, RedisTarget>();
  const add = (user: string, url: string | undefined, options?: RedisTarget['options']) => {
    const target = { ...(url ? { url } : {}), ...(options ? { options } : {}) };
    // One server, however it is spelled: `redis://h:6379` and `redis://h:6379/0` + db 0.
    const id = `${describeTarget({ ...target, usedBy: [] })}\u0000${passwordOf(target)}`;
    const known = found.get(id);
    if (known) {
      if (!known.usedBy.includes(user)) known.usedBy.push(user);
    } else found.set(id, { ...target, usedBy: [user] });
  };
  const { cache, queue, locks } = sources;
  if (cache) {
    const used = new Set(Object.values(cache.pools).map((pool) => pool.store ?? cache.default));
    used.add(cache.default);
    for (const name of used) {
      const store = cache.stores[name];
      if (store?.driver === 'redis') add('cache', store.url ?? DEFAULT_URL);
      if (store?.driver !== 'tiered') continue;
      const l2 = cache.stores[store.l2];
      if (l2?.driver === 'redis') add('cache', l2.url ?? DEFAULT_URL);
      if (store.bus !== false) {
        const fallback = cache.stores.redis;
        add(
          'cache',
          store.bus.url ?? (fallback?.driver === 'redis' ? fallback.url : undefined) ?? DEFAULT_URL,
        );
      }
    }
  }
  if (queue) {
    const connection = queue.config.connections[queue.connection ?? queue.config.default];
    if (connection?.driver === 'redis') add('queue', connection.url ?? DEFAULT_URL);
  }
  if (locks?.driver === 'redis') {
    const { url, host, port, password, db } = locks.redis;
    const auth = { ...(password === undefined ? {} : { password }), db };
    add('locks', url, url ? auth : { host, port, ...auth });
  }
  return [...found.values()];
}

function passwordOf(target: Omit<RedisTarget, 'usedBy'>): string {
  if (target.options?.password !== undefined) return target.options.password;
  try {
    return target.url ? decodeURIComponent(new URL(target.url).password) : '';
  } catch {
    return '';
  }
}

/** `host:port/db` of a target, without its password. */
export function describeTarget(target: RedisTarget): string {
  let host = target.options?.host ?? '127.0.0.1';
  let port = target.options?.port ?? 6379;
  let db = target.options?.db ?? 0;
  if (target.url) {
    try {
      const parsed = new URL(target.url);
      host = parsed.hostname || host;
      port = parsed.port ? Number(parsed.port) : port;
      const path = parsed.pathname.replace(/^\//, '');
      if (target.options?.db === undefined && /^\d+$/.test(path)) db = Number(path);
    } catch {
      return 'an unparsable URL';
    }
  }
  return `${host}:${port}/${db}`;
}

/**
 * PING one Redis server on a client of the check's own (not the subsystems' clients: a
 * saturated cache client must not look like a dead server, nor a probe queue behind it),
 * created on the first run, failing fast within `timeoutMs` while Redis is down and
 * reconnecting by itself. `close()` ends it at shutdown.
 *
 * @example
 * ```ts
 * const redis = new RedisPingCheck(target, 1000);
 * app.health.register('redis', () => redis.run());
 * app.onShutdown(() => redis.close());
 * ```
 */
export class RedisPingCheck {
  readonly target: RedisTarget;
  readonly #timeoutMs: number;
  #client: Promise<Redis> | undefined;
  /** The client's last connection error: why a command found no connection. */
  #lastError: Error | undefined;

  constructor(target: RedisTarget, timeoutMs: number) {
    this.target = target;
    this.#timeoutMs = timeoutMs;
  }

  async run(): Promise<HealthCheckOutcome> {
    const where = describeTarget(this.target);
    const details = { server: where, usedBy: this.target.usedBy };
    this.#client ??= this.#connect();
    const client = await this.#client;
    const started = performance.now();
    try {
      const reply = await client.ping();
      const ms = Math.round((performance.now() - started) * 100) / 100;
      return reply === 'PONG'
        ? { status: 'ok', message: `${where} answered PONG in ${ms} ms`, details }
        : { status: 'fail', message: `${where} answered ${JSON.stringify(reply)}`, details };
    } catch (error) {
      const reason = redisOutageReason(error as Error);
      const cause = this.#lastError?.message;
      return {
        status: 'fail',
        message: `${where}: ${cause && cause !== reason ? `${reason} (${cause})` : reason}`,
        details,
      };
    }
  }

  async #connect(): Promise<Redis> {
    const client = await createRedisClient({
      ...(this.target.url ? { url: this.target.url } : {}),
      ...(this.target.options ? { options: this.target.options } : {}),
      commandTimeoutMs: this.#timeoutMs,
      connectTimeoutMs: this.#timeoutMs,
      // The outcome reports the failure (not a log line per reconnection attempt).
      onError: (error) => {
        this.#lastError = error;
      },
    });
    client.on('ready', () => {
      this.#lastError = undefined;
    });
    return client;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await closeRedisClient(await client);
  }
}
