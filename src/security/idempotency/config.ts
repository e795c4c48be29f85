import { z } from 'zod';
import { isKeelError, parseDuration } from '../../support/index.js';
import { REDIS_ENDPOINT_DEFAULTS, redisEndpointFields } from '../../support/redis-config.js';
import { E_IDEMPOTENCY_CONFIG_INVALID } from './errors.js';
import type { IdempotencyScope } from './idempotency-middleware.js';
import { DEFAULT_REPLAY_HEADERS } from './idempotency-middleware.js';
import { IDEMPOTENCY_TABLE } from './migrations/create-idempotency-keys-table.js';

const duration = z.union([z.number(), z.string().min(1)]);
// An HTTP field name (RFC 9110 token).
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, 'an HTTP header name');

/** The `idempotency` key of config/security.ts. */
export const idempotencyConfigSchema = z
  .object({
    /**
     * Where keys live; default IDEMPOTENCY_STORE, else `database` when the app has one and
     * configures `security.idempotency`, else `memory`.
     */
    store: z.enum(['memory', 'database', 'redis']).optional(),
    /** How long a completed key is remembered. Default 24h. */
    retention: duration.default('24h'),
    /** How long an in-flight claim holds off retries before one may take over. Default 60s. */
    lockTimeout: duration.default('60s'),
    /** Larger response bodies are not stored (a replay gets status and headers only). Default 1 MiB. */
    maxResponseBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .default(1_048_576),
    /** The request header carrying the key. */
    header: headerName.default('Idempotency-Key'),
    /** The response header marking a replay. */
    replayedHeader: headerName.default('Idempotent-Replayed'),
    /** Response headers stored and replayed. */
    replayHeaders: z.array(headerName).default([...DEFAULT_REPLAY_HEADERS]),
    /** Scope of a key when no user is authenticated: the client address, or one shared scope. */
    scope: z.enum(['ip', 'global']).default('ip'),
    /** Refuse unsafe requests without a key on every `idempotent` route. */
    required: z.boolean().default(false),
    database: z
      .object({
        /** A connection name from config/database.ts; default: the default connection. */
        connection: z.string().min(1).optional(),
        table: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a table name')
          .default(IDEMPOTENCY_TABLE),
      })
      .strict()
      .default({ table: IDEMPOTENCY_TABLE }),
    redis: z
      .object({
        ...redisEndpointFields,
        prefix: z.string().default('keel:idempotency:'),
      })
      .strict()
      .default({ ...REDIS_ENDPOINT_DEFAULTS, prefix: 'keel:idempotency:' }),
  })
  .strict();

export type IdempotencyStoreName = 'memory' | 'database' | 'redis';

/** The resolved `security.idempotency` config: durations in milliseconds, store chosen. */
export interface IdempotencyConfig {
  store: IdempotencyStoreName;
  retentionMs: number;
  lockTimeoutMs: number;
  maxResponseBytes: number;
  header: string;
  replayedHeader: string;
  replayHeaders: string[];
  scope: IdempotencyScope;
  required: boolean;
  database: { connection?: string | undefined; table: string };
  redis: {
    url?: string | undefined;
    host: string;
    port: number;
    password?: string | undefined;
    db: number;
    prefix: string;
  };
}

const STORES: readonly string[] = ['memory', 'database', 'redis'];

/**
 * Validate `security.idempotency` (undefined when the app has none) and fill its defaults.
 * `env` answers IDEMPOTENCY_STORE and REDIS_URL; `hasDatabase` says whether the app has
 * a database. The default store is `database` when the app has one and configures
 * idempotency at all (so an app that never uses it gets no table), else `memory`.
 *
 * @example
 * ```ts
 * resolveIdempotencyConfig({ store: 'redis', retention: '48h' }, () => undefined, false);
 * ```
 */
export function resolveIdempotencyConfig(
  raw: unknown,
  env: (name: string) => string | undefined,
  hasDatabase: boolean,
): IdempotencyConfig {
  const parsed = idempotencyConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_IDEMPOTENCY_CONFIG_INVALID(
      ['security', 'idempotency', ...issue.path.map(String)].join('.'),
      issue.message,
    );
  }
  const data = parsed.data;
  const fromEnv = env('IDEMPOTENCY_STORE');
  if (data.store === undefined && fromEnv !== undefined && !STORES.includes(fromEnv))
    throw new E_IDEMPOTENCY_CONFIG_INVALID(
      'IDEMPOTENCY_STORE',
      `"${fromEnv}" is not one of ${STORES.join(', ')}`,
    );
  const store =
    data.store ??
    (fromEnv as IdempotencyStoreName | undefined) ??
    (hasDatabase && raw !== undefined ? 'database' : 'memory');
  const redisUrl = data.redis.url ?? env('REDIS_URL');
  const { url: _url, ...redis } = data.redis;
  return {
    store,
    retentionMs: milliseconds('retention', data.retention),
    lockTimeoutMs: milliseconds('lockTimeout', data.lockTimeout),
    maxResponseBytes: data.maxResponseBytes,
    header: data.header,
    replayedHeader: data.replayedHeader,
    replayHeaders: data.replayHeaders.map((name) => name.toLowerCase()),
    scope: data.scope,
    required: data.required,
    database: data.database,
    redis: { ...redis, ...(redisUrl === undefined ? {} : { url: redisUrl }) },
  };
}

function milliseconds(key: string, value: number | string): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    if (!isKeelError(error)) throw error;
    throw new E_IDEMPOTENCY_CONFIG_INVALID(`security.idempotency.${key}`, error.message).withCause(
      error,
    );
  }
  if (!(ms > 0))
    throw new E_IDEMPOTENCY_CONFIG_INVALID(
      `security.idempotency.${key}`,
      'it must be longer than 0',
    );
  return Math.ceil(ms);
}
