import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import type { DialectName } from './config.js';
import {
  E_DB_CONNECTION_FAILED,
  E_DB_CONNECTION_LOST,
  E_DB_DISK_FULL,
  E_DB_FOREIGN_KEY_VIOLATION,
  E_DB_UNIQUE_VIOLATION,
} from './errors.js';

/** What kind of statement ran, for metrics labels (bounded: never the SQL itself). */
export type QueryOperation =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'ddl'
  | 'transaction'
  | 'other';

/** One statement, as the query listeners see it. */
export interface QueryEvent {
  connection: string;
  dialect: DialectName;
  operation: QueryOperation;
  sql: string;
  /** Bound values. Listeners that log must redact them (see `redactParameters`). */
  parameters: readonly unknown[];
  durationMs: number;
  /** The error the statement failed with (already translated to a Keel code when known). */
  error?: unknown;
}

export type QueryListener = (event: QueryEvent) => void;

const NODE_OPERATIONS: Record<string, QueryOperation> = {
  SelectQueryNode: 'select',
  InsertQueryNode: 'insert',
  UpdateQueryNode: 'update',
  DeleteQueryNode: 'delete',
  MergeQueryNode: 'update',
};

const SQL_OPERATIONS: Record<string, QueryOperation> = {
  select: 'select',
  with: 'select',
  insert: 'insert',
  replace: 'insert',
  update: 'update',
  delete: 'delete',
  create: 'ddl',
  alter: 'ddl',
  drop: 'ddl',
  truncate: 'ddl',
  begin: 'transaction',
  start: 'transaction',
  commit: 'transaction',
  rollback: 'transaction',
  savepoint: 'transaction',
  release: 'transaction',
};

/** The operation of a compiled query: from Kysely's tree, else from the SQL's first word. */
export function operationOf(query: CompiledQuery): QueryOperation {
  const kind = (query.query as { kind?: string } | undefined)?.kind;
  if (kind !== undefined) {
    const known = NODE_OPERATIONS[kind];
    if (known) return known;
    if (kind !== 'RawNode') return kind.endsWith('QueryNode') ? 'other' : 'ddl';
  }
  const word = /^\s*([a-zA-Z]+)/.exec(query.sql)?.[1]?.toLowerCase() ?? '';
  return SQL_OPERATIONS[word] ?? 'other';
}

const LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  '57P01', // admin_shutdown: pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
]);

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', '28P01', '3D000']);

/**
 * A driver error as a Keel error where the fault has a name: a lost connection (503),
 * a unique or foreign-key violation (409). Anything else is returned as it is.
 */
export function translateError(error: unknown, connection: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  const errno = (error as { errno?: unknown }).errno;
  const message = error.message;
  if (
    LOST_CODES.has(code) ||
    errno === 1927 ||
    // pg answers "Client has encountered a connection error and is not queryable" to the
    // statements after the first on a client whose backend died (inside a transaction).
    /Connection terminated|connection is closed|not queryable|Can't add new command when connection is in closed state/i.test(
      message,
    )
  )
    return new E_DB_CONNECTION_LOST(connection, firstLine(message)).withCause(error);
  if (REFUSED_CODES.has(code) || errno === 1045 || errno === 1049)
    return new E_DB_CONNECTION_FAILED(connection, firstLine(message)).withCause(error);
  if (
    code === '23505' ||
    errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  )
    return new E_DB_UNIQUE_VIOLATION(connection, constraintOf(error)).withCause(error);
  if (
    code === '23503' ||
    errno === 1451 ||
    errno === 1452 ||
    code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
  )
    return new E_DB_FOREIGN_KEY_VIOLATION(connection, constraintOf(error)).withCause(error);
  // No space for the write: SQLite's disk or max_page_count, PostgreSQL disk_full, MySQL's
  // ER_RECORD_FILE_FULL (table full) and ER_DISK_FULL. Named, so a queue dispatch or any
  // write says why it failed instead of surfacing a bare driver code.
  if (code === 'SQLITE_FULL' || code === '53100' || errno === 1114 || errno === 1021)
    return new E_DB_DISK_FULL(connection, firstLine(message)).withCause(error);
  return error;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function constraintOf(error: Error): string {
  const constraint = (error as { constraint?: unknown }).constraint;
  if (typeof constraint === 'string') return constraint;
  // MySQL: "Duplicate entry 'x' for key 'users.users_email_unique'"; SQLite: "UNIQUE
  // constraint failed: users.email". The key or column names, never the value.
  const key = /for key '([^']+)'/.exec(error.message)?.[1];
  if (key) return key;
  const columns = /constraint failed: (.+)$/.exec(error.message)?.[1];
  return columns ?? 'constraint';
}

/** Observes every statement of a connection: timing, operation, translated errors. */
export interface QueryObserver {
  readonly name: string;
  readonly dialect: DialectName;
  record(event: QueryEvent): void;
}

class InstrumentedConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  readonly #observer: QueryObserver;

  constructor(inner: DatabaseConnection, observer: QueryObserver) {
    this.#inner = inner;
    this.#observer = observer;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const started = performance.now();
    let result: QueryResult<R>;
    try {
      result = await this.#inner.executeQuery<R>(query);
    } catch (error) {
      const translated = translateError(error, this.#observer.name);
      this.#report(query, started, translated);
      throw translated;
    }
    // Outside the try: a listener may fail the query on purpose (N+1 detection in tests).
    this.#report(query, started);
    return result;
  }

  async *streamQuery<R>(
    query: CompiledQuery,
    chunkSize?: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    const started = performance.now();
    try {
      yield* this.#inner.streamQuery<R>(query, chunkSize);
    } catch (error) {
      const translated = translateError(error, this.#observer.name);
      this.#report(query, started, translated);
      throw translated;
    }
    this.#report(query, started);
  }

  #report(query: CompiledQuery, started: number, error?: unknown): void {
    this.#observer.record({
      connection: this.#observer.name,
      dialect: this.#observer.dialect,
      operation: operationOf(query),
      sql: query.sql,
      parameters: query.parameters,
      durationMs: performance.now() - started,
      ...(error === undefined ? {} : { error }),
    });
  }

  /** The driver's own connection, for Kysely internals that compare connections. */
  get inner(): DatabaseConnection {
    return this.#inner;
  }
}

/**
 * Wraps a driver so every statement is timed and counted and driver errors become Keel
 * errors, without a Kysely plugin (plugins see the query tree, not the outcome).
 */
class InstrumentedDriver implements Driver {
  readonly #inner: Driver;
  readonly #observer: QueryObserver;
  readonly #wrapped = new WeakMap<DatabaseConnection, InstrumentedConnection>();

  constructor(inner: Driver, observer: QueryObserver) {
    this.#inner = inner;
    this.#observer = observer;
  }

  async init(): Promise<void> {
    try {
      await this.#inner.init();
    } catch (error) {
      throw translateError(error, this.#observer.name);
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let connection: DatabaseConnection;
    try {
      connection = await this.#inner.acquireConnection();
    } catch (error) {
      const translated = translateError(error, this.#observer.name);
      throw translated instanceof Error && translated !== error
        ? translated
        : new E_DB_CONNECTION_FAILED(
            this.#observer.name,
            error instanceof Error ? error.message : String(error),
          ).withCause(error);
    }
    let wrapped = this.#wrapped.get(connection);
    if (!wrapped) {
      wrapped = new InstrumentedConnection(connection, this.#observer);
      this.#wrapped.set(connection, wrapped);
    }
    return wrapped;
  }

  // Transaction control and savepoints run through the connection Kysely got from
  // acquireConnection (the instrumented one), so BEGIN/COMMIT/SAVEPOINT are timed too.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['savepoint']>>[2],
  ): Promise<void> {
    return this.#inner.savepoint!(connection, name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2],
  ): Promise<void> {
    return this.#inner.rollbackToSavepoint!(connection, name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2],
  ): Promise<void> {
    return this.#inner.releaseSavepoint!(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof InstrumentedConnection ? connection.inner : connection;
}

/** The dialect with its driver instrumented; compiler, adapter and introspector unchanged. */
export function instrumentDialect(dialect: Dialect, observer: QueryObserver): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new InstrumentedDriver(dialect.createDriver(), observer),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
