import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { E_DB_CONFIG_INVALID } from './errors.js';

/** The engines Keel speaks to, each through its Kysely dialect. */
export type DialectName = 'sqlite' | 'postgres' | 'mysql';

const pool = z
  .object({
    min: z.number().int().min(0).default(0),
    max: z.number().int().positive().default(10),
    /** Close a connection idle this long (ms). */
    idleTimeoutMs: z.number().int().min(0).default(30_000),
    /** Give up acquiring a connection after this long (ms). */
    acquireTimeoutMs: z.number().int().positive().default(10_000),
  })
  .strict()
  .refine((p) => p.min <= p.max, { message: 'pool.min must not exceed pool.max' });

const sqlite = z
  .object({
    driver: z.literal('sqlite'),
    /** A path (relative to the app root) or `:memory:`. */
    filename: z.string().min(1),
    /** Write-ahead logging: readers don't block the writer. Default true. */
    wal: z.boolean().default(true),
    /** How long a statement waits on a locked database (ms). */
    busyTimeoutMs: z.number().int().min(0).default(5_000),
    /** Enforce foreign keys (SQLite leaves them off unless asked). Default true. */
    foreignKeys: z.boolean().default(true),
    readonly: z.boolean().default(false),
  })
  .strict();

const server = {
  /** `postgres://user:pass@host:port/db` or `mysql://...`; the other fields override its parts. */
  url: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65_535).optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  database: z.string().optional(),
  pool: pool.default({ min: 0, max: 10, idleTimeoutMs: 30_000, acquireTimeoutMs: 10_000 }),
  /** Per-statement timeout (ms); 0 disables it. */
  statementTimeoutMs: z.number().int().min(0).default(0),
  ssl: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
};

const postgres = z
  .object({
    driver: z.literal('postgres'),
    ...server,
    /** The schema unqualified names resolve to (`search_path`). */
    schema: z.string().min(1).optional(),
  })
  .strict();

const mysql = z
  .object({
    driver: z.literal('mysql'),
    ...server,
  })
  .strict();

const connection = z.discriminatedUnion('driver', [sqlite, postgres, mysql]);

export const databaseConfigSchema = z
  .object({
    /** The connection `db()` returns. */
    default: z.string().min(1).default('default'),
    connections: z.record(z.string().min(1), connection),
    /** Queries slower than this (ms) are logged with their SQL; 0 disables. */
    slowQueryMs: z.number().min(0).default(200),
    /** How many slow queries each connection keeps for `db:stats` and the metrics issue. */
    slowQueryHistory: z.number().int().min(0).default(50),
    backups: z
      .object({
        /** Where `db:backup` writes, relative to the app root. */
        path: z.string().min(1).default('var/backups'),
        /** Keep this many backups per connection; older ones are pruned. 0 keeps all. */
        keep: z.number().int().min(0).default(10),
      })
      .strict()
      .default({ path: 'var/backups', keep: 10 }),
    nPlusOne: z
      .object({
        /** `warn` logs, `throw` fails the query (for tests), `off` does not watch. */
        mode: z.enum(['off', 'warn', 'throw']).default('warn'),
        /** The same query shape more often than this within one request or job is N+1. */
        threshold: z.number().int().min(1).default(5),
      })
      .strict()
      .default({ mode: 'warn', threshold: 5 }),
  })
  .strict();

export type DatabaseConfigInput = z.input<typeof databaseConfigSchema>;
export type DatabaseConfig = z.output<typeof databaseConfigSchema>;
export type ConnectionConfig = z.output<typeof connection>;
export type SqliteConnectionConfig = z.output<typeof sqlite>;
export type PostgresConnectionConfig = z.output<typeof postgres>;
export type MysqlConnectionConfig = z.output<typeof mysql>;

/**
 * Type the `database` config file.
 *
 * @example
 * ```ts
 * // config/database.ts
 * export default defineDatabaseConfig({
 *   connections: {
 *     default: { driver: 'sqlite', filename: 'var/data/app.sqlite' },
 *     reporting: { driver: 'postgres', url: env('REPORTING_URL') },
 *   },
 * });
 * ```
 */
export function defineDatabaseConfig(config: DatabaseConfigInput): DatabaseConfigInput {
  return config;
}

/** The connection an app gets with no `database` config: SQLite under `var/data`. */
export const DEFAULT_SQLITE_FILE = 'var/data/app.sqlite';

/**
 * The database config from the app's `database` namespace, or from `DB_*` env variables
 * when it has none: `DB_DRIVER` (sqlite, postgres, mysql; default sqlite), `DATABASE_URL`,
 * `DB_HOST`, `DB_PORT`, `DB_USER`, `DB_PASSWORD`, `DB_DATABASE`, `DB_FILENAME`.
 */
export function resolveDatabaseConfig(
  raw: unknown,
  env: (name: string) => string | undefined = () => undefined,
): DatabaseConfig {
  const input = raw ?? { connections: { default: connectionFromEnv(env) } };
  const parsed = databaseConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new E_DB_CONFIG_INVALID(issue.path.join('.') || '(root)', issue.message);
  }
  const config = parsed.data;
  if (!Object.hasOwn(config.connections, config.default)) {
    throw new E_DB_CONFIG_INVALID(
      'default',
      `names "${config.default}", which is not among the connections (${Object.keys(config.connections).join(', ') || 'none'})`,
    );
  }
  return config;
}

function connectionFromEnv(env: (name: string) => string | undefined): Record<string, unknown> {
  const driver = env('DB_DRIVER') ?? 'sqlite';
  if (driver === 'sqlite') {
    return { driver, filename: env('DB_FILENAME') ?? DEFAULT_SQLITE_FILE };
  }
  const port = env('DB_PORT');
  const entries = {
    driver,
    url: env('DATABASE_URL'),
    host: env('DB_HOST'),
    port: port === undefined ? undefined : Number(port),
    user: env('DB_USER'),
    password: env('DB_PASSWORD'),
    database: env('DB_DATABASE'),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

/** A SQLite filename resolved against the app root (`:memory:` stays as is). */
export function sqliteFilePath(filename: string, root: string): string {
  if (filename === ':memory:' || filename.startsWith('file:')) return filename;
  return isAbsolute(filename) ? filename : resolve(root, filename);
}
