import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CompiledQuery, type Dialect, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import type { Logger } from '../kernel/index.js';
import {
  type ConnectionConfig,
  type MysqlConnectionConfig,
  type PostgresConnectionConfig,
  type SqliteConnectionConfig,
  sqliteFilePath,
} from './config.js';
import { E_DB_DRIVER_MISSING } from './errors.js';

/**
 * What a connection needs from its engine: the Kysely dialect, built at once, whose
 * driver package loads on the first query (Kysely takes a pool factory).
 */
export interface DialectHandle {
  readonly dialect: Dialect;
  /**
   * The pool or database handle, for what Kysely does not cover (backups, pool stats);
   * undefined until the first query created it.
   */
  readonly native: () => unknown;
}

export interface DialectContext {
  /** The connection's name, for log lines and errors. */
  name: string;
  /** The app root SQLite paths resolve against. */
  root: string;
  logger: Logger;
}

/**
 * Load the driver package only now: an app that uses PostgreSQL never loads mysql2.
 * A missing package is a clear error naming what to install.
 */
async function load<T>(pkg: string, dialect: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
      throw new E_DB_DRIVER_MISSING(dialect, pkg).withCause(error);
    throw error;
  }
}

export function createDialect(config: ConnectionConfig, context: DialectContext): DialectHandle {
  switch (config.driver) {
    case 'sqlite':
      return sqliteDialect(config, context);
    case 'postgres':
      return postgresDialect(config, context);
    case 'mysql':
      return mysqlDialect(config, context);
  }
}

type BetterSqlite3 = typeof import('better-sqlite3');

/** An async opener that remembers what it opened, for `DialectHandle.native`. */
function remembered<T>(open: () => Promise<T>): {
  open: () => Promise<T>;
  current: () => T | undefined;
} {
  let value: T | undefined;
  return {
    open: async () => {
      value = await open();
      return value;
    },
    current: () => value,
  };
}

function sqliteDialect(config: SqliteConnectionConfig, context: DialectContext): DialectHandle {
  const database = remembered(() => openSqlite(config, context));
  return {
    dialect: new SqliteDialect({ database: async () => cachingStatements(await database.open()) }),
    native: database.current,
  };
}

/** Statements kept prepared per SQLite connection; the least recently used go first. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The database Kysely sees, with prepared statements reused: Kysely prepares every query
 * afresh, and on SQLite preparing costs more than running a small query. A statement that
 * is busy (an open iterator of a streamed query) is never handed out twice: a fresh one is
 * prepared instead. SQLite re-prepares a cached statement itself after a schema change.
 */
export function cachingStatements(database: import('better-sqlite3').Database): {
  prepare(sql: string): import('better-sqlite3').Statement;
  close(): void;
} {
  const cache = new Map<string, import('better-sqlite3').Statement>();
  return {
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached !== undefined && !cached.busy) {
        // Re-insert: Map order is the recency order.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (cached === undefined) {
        cache.set(sql, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      return statement;
    },
    close() {
      cache.clear();
      database.close();
    },
  };
}

async function openSqlite(
  config: SqliteConnectionConfig,
  context: DialectContext,
): Promise<import('better-sqlite3').Database> {
  const { default: Database } = await load<{ default: BetterSqlite3 }>('better-sqlite3', 'sqlite');
  const file = sqliteFilePath(config.filename, context.root);
  if (file !== ':memory:' && !file.startsWith('file:') && !config.readonly)
    mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file, {
    readonly: config.readonly,
    timeout: config.busyTimeoutMs,
  });
  // WAL lets readers run beside the writer; NORMAL sync is durable across app crashes
  // in WAL mode (only an OS crash can lose the last commits).
  if (config.wal && file !== ':memory:' && !config.readonly) {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
  }
  database.pragma(`foreign_keys = ${config.foreignKeys ? 'ON' : 'OFF'}`);
  return database;
}

/** The connection fields a server config sets (both drivers take the same names). */
function serverFields(config: PostgresConnectionConfig | MysqlConnectionConfig): {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: never;
} {
  const { host, port, user, password, database, ssl } = config;
  return {
    ...(host ? { host } : {}),
    ...(port ? { port } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(database !== undefined ? { database } : {}),
    ...(ssl !== undefined ? { ssl: ssl as never } : {}),
  };
}

type PgModule = typeof import('pg');

/** int8 (COUNT(*), bigserial ids) as a number when it fits, so every dialect agrees. */
function parseInt8(value: string): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

function postgresDialect(config: PostgresConnectionConfig, context: DialectContext): DialectHandle {
  const pool = remembered(() => openPostgres(config, context));
  return {
    dialect: new PostgresDialect({ pool: async () => releasingBrokenClients(await pool.open()) }),
    native: pool.current,
  };
}

const kBroken = Symbol('keel.brokenClient');
const kWatched = Symbol('keel.watchedClient');
type WatchedClient = import('pg').PoolClient & { [kBroken]?: boolean; [kWatched]?: boolean };

/** A query error after which the client's connection cannot be used again. */
function isFatal(error: unknown): boolean {
  const code = String((error as { code?: unknown }).code ?? '');
  return (
    code.startsWith('57P') ||
    code.startsWith('08') ||
    /Connection terminated|not queryable|ECONNRESET|EPIPE/i.test(String((error as Error).message))
  );
}

/**
 * The pool Kysely sees: each client's fatal query error is remembered, and releasing such a
 * client destroys it instead of returning it to the pool. Without this, a backend killed
 * mid-query (`pg_terminate_backend`, a failover) goes back to the pool before its socket
 * closes, and the next query fails on it too.
 */
function releasingBrokenClients(pool: import('pg').Pool): {
  connect(): Promise<import('pg').PoolClient>;
  end(): Promise<void>;
} {
  return {
    async connect() {
      const client = (await pool.connect()) as WatchedClient;
      if (!client[kWatched]) {
        client[kWatched] = true;
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        client.query = ((...args: unknown[]) => {
          const result = query(...args);
          if (result instanceof Promise)
            result.catch((error: unknown) => {
              if (isFatal(error)) client[kBroken] = true;
            });
          return result;
        }) as never;
      }
      // pg-pool sets a new release function at every checkout.
      const release = client.release.bind(client);
      // Kysely releases with `false` unless it discarded the connection itself.
      client.release = ((error?: Error | boolean) =>
        release(error || (client[kBroken] ? true : undefined))) as never;
      return client;
    },
    end: () => pool.end(),
  };
}

async function openPostgres(
  config: PostgresConnectionConfig,
  context: DialectContext,
): Promise<import('pg').Pool> {
  const pg = await load<{ default: PgModule }>('pg', 'postgres');
  const { Pool, types } = pg.default;
  const options = [
    config.schema ? `-c search_path=${config.schema}` : '',
    config.statementTimeoutMs > 0 ? `-c statement_timeout=${config.statementTimeoutMs}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const pool = new Pool({
    ...(config.url ? { connectionString: config.url } : {}),
    ...serverFields(config),
    ...(options ? { options } : {}),
    min: config.pool.min,
    max: config.pool.max,
    idleTimeoutMillis: config.pool.idleTimeoutMs,
    connectionTimeoutMillis: config.pool.acquireTimeoutMs,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? parseInt8 : types.getTypeParser(oid, format as never)) as never,
    },
  });
  // A client whose backend dies emits 'error': on the pool while idle, on the client while
  // checked out. Unhandled, either would crash the process; the query in flight (if any)
  // fails with E_DB_CONNECTION_LOST and the pool replaces the client.
  pool.on('error', (error) =>
    context.logger.warn(
      { connection: context.name, err: error },
      'database connection lost while idle; the pool replaces it',
    ),
  );
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      (client as WatchedClient)[kBroken] = true;
      context.logger.warn(
        { connection: context.name, err: error },
        'database connection lost; the pool replaces it',
      );
    });
  });
  return pool;
}

type MysqlModule = typeof import('mysql2');

function mysqlDialect(config: MysqlConnectionConfig, context: DialectContext): DialectHandle {
  const pool = remembered(() => openMysql(config, context));
  const timeout = config.statementTimeoutMs;
  return {
    dialect: new MysqlDialect({
      pool: pool.open,
      ...(timeout > 0
        ? {
            // MariaDB names it max_statement_time (seconds), MySQL max_execution_time (ms).
            onCreateConnection: async (connection) => {
              try {
                await connection.executeQuery(
                  CompiledQuery.raw(`SET SESSION max_statement_time = ${timeout / 1000}`),
                );
              } catch {
                await connection.executeQuery(
                  CompiledQuery.raw(`SET SESSION max_execution_time = ${timeout}`),
                );
              }
            },
          }
        : {}),
    }),
    native: pool.current,
  };
}

async function openMysql(
  config: MysqlConnectionConfig,
  context: DialectContext,
): Promise<import('mysql2').Pool> {
  const mysql = await load<{ default: MysqlModule }>('mysql2', 'mysql');
  const pool = mysql.default.createPool({
    ...(config.url ? { uri: config.url } : {}),
    ...serverFields(config),
    connectionLimit: config.pool.max,
    maxIdle: Math.max(config.pool.min, 1),
    idleTimeout: config.pool.idleTimeoutMs,
    connectTimeout: config.pool.acquireTimeoutMs,
    waitForConnections: true,
    // Big integers beyond 2^53 come back as strings instead of losing digits; DECIMAL
    // stays a string (exact), as on PostgreSQL. Dates are stored and read in UTC.
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    timezone: 'Z',
    charset: 'utf8mb4',
  });
  pool.on('connection', (connection) => {
    connection.on('error', (error: Error) =>
      context.logger.warn(
        { connection: context.name, err: error },
        'database connection lost; the pool replaces it',
      ),
    );
  });
  return pool;
}
