import { z } from 'zod';
import { REDIS_ENDPOINT_DEFAULTS, redisEndpointFields } from '../support/redis-config.js';
import { E_LOCK_CONFIG_INVALID } from './errors.js';
import { lockTtl } from './lock-store.js';

const duration = z.union([z.number(), z.string().min(1)]);

/** The `locks` config namespace (config/locks.ts). */
export const locksConfigSchema = z
  .object({
    /** Where locks live; default: LOCK_DRIVER, else `memory`. */
    driver: z.enum(['memory', 'database', 'redis']).optional(),
    /** Lease of `locks.lock(name)` when no ttl is given. Default 30s. */
    ttl: duration.default('30s'),
    /** Longest pause between two attempts while waiting (ms). Default 250. */
    maxPollMs: z.number().int().positive().default(250),
    database: z
      .object({
        /** A connection name from config/database.ts; default: the default connection. */
        connection: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    redis: z
      .object({
        ...redisEndpointFields,
        prefix: z.string().default('keel:locks:'),
      })
      .strict()
      .default({ ...REDIS_ENDPOINT_DEFAULTS, prefix: 'keel:locks:' }),
  })
  .strict();

export type LockDriverName = 'memory' | 'database' | 'redis';

export type LocksConfig = Omit<z.output<typeof locksConfigSchema>, 'driver' | 'ttl'> & {
  driver: LockDriverName;
  /** In milliseconds. */
  ttl: number;
};

const DRIVERS: readonly string[] = ['memory', 'database', 'redis'];

/**
 * Validate the `locks` config (undefined when the app has none) and fill its defaults;
 * `env` answers LOCK_DRIVER (an explicit `driver` in the config wins).
 *
 * @example
 * ```ts
 * resolveLocksConfig({ driver: 'redis', redis: { prefix: 'erp:locks:' } }, () => undefined);
 * ```
 */
export function resolveLocksConfig(
  raw: unknown,
  env: (name: string) => string | undefined,
): LocksConfig {
  const parsed = locksConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_LOCK_CONFIG_INVALID(issue.path.join('.') || '(root)', issue.message);
  }
  const fromEnv = env('LOCK_DRIVER');
  if (parsed.data.driver === undefined && fromEnv !== undefined && !DRIVERS.includes(fromEnv))
    throw new E_LOCK_CONFIG_INVALID(
      'LOCK_DRIVER',
      `"${fromEnv}" is not one of ${DRIVERS.join(', ')}`,
    );
  let ttl: number;
  try {
    ttl = lockTtl(parsed.data.ttl);
  } catch (error) {
    throw new E_LOCK_CONFIG_INVALID('ttl', (error as Error).message).withCause(error);
  }
  return {
    ...parsed.data,
    driver: parsed.data.driver ?? (fromEnv as LockDriverName | undefined) ?? 'memory',
    ttl,
  };
}
