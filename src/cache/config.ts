import { z } from 'zod';
import { E_CACHE_CONFIG_INVALID } from './errors.js';

const ttl = z.union([z.number().positive(), z.string().min(1)]);
const maxValueBytes = z.number().int().positive().optional();

const memory = z
  .object({
    driver: z.literal('memory'),
    /** At most this many entries per pool (least recently used go first). */
    maxEntries: z.number().int().positive().default(10_000),
    /** At most this many bytes per pool, by estimate. */
    maxBytes: z.number().int().positive().optional(),
    /** The largest single value, by estimate (default: maxBytes). */
    maxEntryBytes: z.number().int().positive().optional(),
  })
  .strict();

const file = z
  .object({
    driver: z.literal('file'),
    /** The folder of entry files, relative to the app root. */
    path: z.string().min(1).default('var/cache/data'),
    maxValueBytes,
  })
  .strict();

const database = z
  .object({
    driver: z.literal('database'),
    /** The database connection name; default: the default connection. */
    connection: z.string().min(1).optional(),
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('keel_cache'),
    maxValueBytes,
  })
  .strict();

const redis = z
  .object({
    driver: z.literal('redis'),
    /** `redis://[:password@]host:port/db`; default `REDIS_URL`, else 127.0.0.1:6379. */
    url: z.string().min(1).optional(),
    maxValueBytes,
    /** Reply deadline per command, ms (default 1000): past it the command fails fast. */
    commandTimeoutMs: z.number().int().positive().optional(),
    /** TCP connect deadline, ms (default 2000). */
    connectTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();

const tiered = z
  .object({
    driver: z.literal('tiered'),
    /** The shared store behind the memory tier: a `redis` or `database` store's name. */
    l2: z.string().min(1).default('redis'),
    /** The per-process memory tier. */
    l1: z
      .object({
        maxEntries: z.number().int().positive().default(10_000),
        maxBytes: z.number().int().positive().optional(),
        maxEntryBytes: z.number().int().positive().optional(),
        /** The longest an entry stays in L1, whatever its TTL (default: its TTL). */
        ttl: ttl.optional(),
      })
      .strict()
      .default({ maxEntries: 10_000 }),
    /**
     * Redis pub/sub that tells the other processes to drop what this one wrote from their
     * L1 (default: the `redis` store's URL, channel `<prefix>:cache:invalidate`); `false`
     * for none (then keep `l1.ttl` short).
     */
    bus: z
      .union([
        z.literal(false),
        z
          .object({ url: z.string().min(1).optional(), channel: z.string().min(1).optional() })
          .strict(),
      ])
      .default({}),
  })
  .strict();

const store = z.discriminatedUnion('driver', [memory, file, database, redis, tiered]);

const pool = z
  .object({
    /** The store name; default: the `default` store. */
    store: z.string().min(1).optional(),
    /** The key prefix after the app prefix; default: the pool's name. */
    prefix: z
      .string()
      .regex(/^[^\0]{1,100}$/)
      .optional(),
    /** The TTL of writes that give none (default: no expiry). */
    ttl: ttl.optional(),
    /**
     * When the store is unreachable: true (default) serves without it (reads miss, writes
     * are skipped, both logged and counted); false throws E_CACHE_STORE_UNAVAILABLE.
     */
    failOpen: z.boolean().optional(),
  })
  .strict();

const stats = z
  .object({
    /**
     * Seconds between two writes of a process's counters to `var/state/cache-stats` (read
     * by `keel cache:stats`); `false` or 0: never written. Default 5.
     */
    flushInterval: z.union([z.number().nonnegative().max(86_400), z.literal(false)]).optional(),
  })
  .strict();

export const cacheConfigSchema = z
  .object({
    /** The store pools use unless they name one (env `CACHE_DRIVER`). */
    default: z.string().min(1).default('memory'),
    /** Every key starts with `<prefix>:<pool>:` (env `CACHE_PREFIX`). */
    prefix: z
      .string()
      .regex(/^[^\0]{1,100}$/)
      .default('keel'),
    stores: z.record(z.string().min(1), store).default({}),
    pools: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), pool).default({}),
    /** Cross-process statistics (`keel cache:stats`). */
    stats: stats.optional(),
    /**
     * Stampede protection across processes, for pools on redis, database and tiered
     * stores: a lock around each missing key's factory (docs/cache.md).
     */
    stampede: z
      .object({
        /** Default true; false: single flight within each process only. */
        enabled: z.boolean().default(true),
        /** The lock's lease, extended every third of it while the factory runs. Default 30s. */
        ttl: ttl.default('30s'),
        /** The longest a process waits for another's factory before computing. Default 10s. */
        wait: z.union([z.literal(0), ttl]).default('10s'),
      })
      .strict()
      .optional(),
  })
  .strict();

export type CacheConfigInput = z.input<typeof cacheConfigSchema>;
export type CacheConfig = z.output<typeof cacheConfigSchema>;
export type CacheStoreConfig = z.output<typeof store>;
export type CachePoolConfig = z.output<typeof pool>;

/** The framework's pools: each application has them, with its own additions. */
export const FRAMEWORK_POOLS = ['config', 'runtime', 'views', 'data'] as const;

/**
 * Type a `config/cache.ts`.
 *
 * @example
 * ```ts
 * export default defineCacheConfig({
 *   default: 'redis',
 *   pools: { views: { store: 'file' }, sessions: { ttl: '2h' } },
 * });
 * ```
 */
export function defineCacheConfig(config: CacheConfigInput): CacheConfigInput {
  return config;
}

/**
 * Validate the `cache` config namespace, fill in the default stores (memory, file,
 * database, redis) and the framework pools, and apply `CACHE_DRIVER` / `CACHE_PREFIX`
 * (the file's values win over the env, as for the database config).
 */
export function resolveCacheConfig(
  raw: unknown,
  env: (name: string) => string | undefined = () => undefined,
): CacheConfig {
  const input = (raw ?? {}) as Record<string, unknown>;
  const withEnv = {
    ...input,
    default: input.default ?? env('CACHE_DRIVER'),
    prefix: input.prefix ?? env('CACHE_PREFIX'),
  };
  const parsed = cacheConfigSchema.safeParse(withEnv);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_CACHE_CONFIG_INVALID(issue.path.join('.') || '(root)', issue.message);
  }
  const config = parsed.data;
  const redisUrl = env('REDIS_URL');
  config.stores = {
    memory: { driver: 'memory', maxEntries: 10_000 },
    file: { driver: 'file', path: 'var/cache/data' },
    database: { driver: 'database', table: 'keel_cache' },
    redis: { driver: 'redis', ...(redisUrl ? { url: redisUrl } : {}) },
    tiered: { driver: 'tiered', l2: 'redis', l1: { maxEntries: 10_000 }, bus: {} },
    ...config.stores,
  };
  for (const [name, s] of Object.entries(config.stores)) {
    if (s.driver !== 'tiered') continue;
    const l2 = Object.hasOwn(config.stores, s.l2) ? config.stores[s.l2] : undefined;
    if (l2 === undefined || (l2.driver !== 'redis' && l2.driver !== 'database'))
      throw new E_CACHE_CONFIG_INVALID(
        `stores.${name}.l2`,
        `names "${s.l2}", which is not a redis or database store`,
      );
  }
  config.pools = {
    ...Object.fromEntries(FRAMEWORK_POOLS.map((name) => [name, {}])),
    ...config.pools,
  };
  if (!Object.hasOwn(config.stores, config.default))
    throw new E_CACHE_CONFIG_INVALID(
      'default',
      `names "${config.default}", which is not among the stores (${Object.keys(config.stores).join(', ')})`,
    );
  for (const [name, p] of Object.entries(config.pools)) {
    if (p.store !== undefined && !Object.hasOwn(config.stores, p.store))
      throw new E_CACHE_CONFIG_INVALID(
        `pools.${name}.store`,
        `names "${p.store}", which is not a store`,
      );
  }
  return config;
}
