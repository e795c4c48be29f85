import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { DialectName } from '../config.js';
import type { AnyDatabase } from '../connection.js';

/** A driver that executes nothing: every statement is compiled, kept, and returns no rows. */
class RecordingDriver implements Driver {
  readonly #queries: CompiledQuery[];

  constructor(queries: CompiledQuery[]) {
    this.#queries = queries;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const queries = this.#queries;
    return {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        queries.push(query);
        return { rows: [] };
      },
      // biome-ignore lint/correctness/useYield: a recording yields no rows.
      async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
        queries.push(query);
      },
    };
  }

  async beginTransaction(): Promise<void> {}
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

function recordingDialect(dialect: DialectName, queries: CompiledQuery[]): Dialect {
  const driver = (): Driver => new RecordingDriver(queries);
  switch (dialect) {
    case 'postgres':
      return {
        createAdapter: () => new PostgresAdapter(),
        createDriver: driver,
        createQueryCompiler: () => new PostgresQueryCompiler(),
        createIntrospector: (db) => new PostgresIntrospector(db),
      };
    case 'mysql':
      return {
        createAdapter: () => new MysqlAdapter(),
        createDriver: driver,
        createQueryCompiler: () => new MysqlQueryCompiler(),
        createIntrospector: (db) => new MysqlIntrospector(db),
      };
    case 'sqlite':
      return {
        createAdapter: () => new SqliteAdapter(),
        createDriver: driver,
        createQueryCompiler: () => new SqliteQueryCompiler(),
        createIntrospector: (db) => new SqliteIntrospector(db),
      };
  }
}

/**
 * The SQL `fn` would send, compiled for `dialect` and executed nowhere: what
 * `migrate --dry-run` prints. Reads return no rows, so a migration that branches on data
 * shows the statements of its empty-database path.
 *
 * @example
 * ```ts
 * const statements = await recordSql('postgres', (db) => migration.up(db));
 * ```
 */
export async function recordSql(
  dialect: DialectName,
  fn: (db: Kysely<AnyDatabase>) => unknown,
): Promise<string[]> {
  const queries: CompiledQuery[] = [];
  const db = new Kysely<AnyDatabase>({ dialect: recordingDialect(dialect, queries) });
  try {
    await fn(db);
  } finally {
    await db.destroy();
  }
  return queries.map((q) =>
    q.parameters.length > 0 ? `${q.sql} -- ${JSON.stringify(q.parameters)}` : q.sql,
  );
}
