import { z } from 'zod';

/**
 * The fields of a Redis-backed store's `redis` config section (locks, rate limits,
 * idempotency keys): `url` (`redis://[:password@]host:port/db`, whose parts the other
 * fields override), `host`, `port`, `password`, `db`. A store adds its own fields (a key
 * prefix, a timeout) next to them.
 *
 * @example
 * ```ts
 * redis: z.object({ ...redisEndpointFields, prefix: z.string().default('keel:locks:') })
 *   .strict()
 *   .default({ ...REDIS_ENDPOINT_DEFAULTS, prefix: 'keel:locks:' }),
 * ```
 */
export const redisEndpointFields = {
  url: z.string().min(1).optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65_535).default(6379),
  password: z.string().optional(),
  db: z.number().int().min(0).default(0),
};

/** What the fields default to when the section is left out. */
export const REDIS_ENDPOINT_DEFAULTS = { host: '127.0.0.1', port: 6379, db: 0 } as const;
