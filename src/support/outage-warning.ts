/** Where a Redis-backed store connects: a URL, or host and port; auth and db either way. */
export interface RedisEndpoint {
  url?: string | undefined;
  host: string;
  port: number;
  password?: string | undefined;
  db: number;
}

/**
 * The `url` and ioredis `options` a store's `connect()` takes from a config's `redis`
 * section: with a URL, only auth and db are added to it; otherwise host and port too.
 *
 * @example
 * ```ts
 * const { url, options } = redisConnectArgs(config.redis);
 * await RedisLockStore.connect({ url, options, prefix });
 * ```
 */
export function redisConnectArgs(redis: RedisEndpoint): {
  url: string | undefined;
  options: Record<string, unknown>;
} {
  const auth = {
    ...(redis.password === undefined ? {} : { password: redis.password }),
    db: redis.db,
  };
  return redis.url
    ? { url: redis.url, options: auth }
    : { url: undefined, options: { host: redis.host, port: redis.port, ...auth } };
}

/**
 * One warning per outage of a reconnecting client, not one per reconnection attempt:
 * `onError` reports the first error, and the client's next `ready` re-arms it.
 *
 * @example
 * ```ts
 * const outage = outageWarning((err) => logger.warn({ err }, 'locks: Redis lost'));
 * const store = await RedisLockStore.connect({ ..., onError: outage.onError });
 * outage.watch(store.client);
 * ```
 */
export function outageWarning(warn: (error: unknown) => void): {
  onError: (error: unknown) => void;
  watch(client: { on(event: 'ready', listener: () => void): unknown }): void;
} {
  let reported = false;
  return {
    onError(error) {
      if (reported) return;
      reported = true;
      warn(error);
    },
    watch(client) {
      client.on('ready', () => {
        reported = false;
      });
    },
  };
}
