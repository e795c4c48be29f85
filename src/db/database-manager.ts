import type { Logger } from '../kernel/index.js';
import { suggest } from '../support/index.js';
import type { DatabaseConfig } from './config.js';
import { type AnyDatabase, Connection } from './connection.js';
import { E_DB_CLOSED, E_DB_CONNECTION_NOT_FOUND, E_DB_NOT_CONFIGURED } from './errors.js';
import type { QueryListener } from './instrumented-dialect.js';
import type { QueryStatsSnapshot } from './query-stats.js';

export interface DatabaseManagerOptions {
  config: DatabaseConfig;
  /** The app root; SQLite files resolve against it. */
  root: string;
  logger: Logger;
}

/**
 * The application's named connections, opened on first use (a connection's driver package
 * loads on its first query). `app.make('db')` and `db()` reach it.
 *
 * @example
 * ```ts
 * const manager = app.make('db');
 * const reporting = manager.connection('reporting');
 * ```
 */
export class DatabaseManager {
  readonly config: DatabaseConfig;
  readonly #root: string;
  readonly #logger: Logger;
  readonly #connections = new Map<string, Connection>();
  readonly #listeners = new Set<QueryListener>();
  #closed = false;

  constructor(options: DatabaseManagerOptions) {
    this.config = options.config;
    this.#root = options.root;
    this.#logger = options.logger;
  }

  /** The name `connection()` uses without an argument. */
  get defaultName(): string {
    return this.config.default;
  }

  /** Every configured connection name. */
  names(): string[] {
    return Object.keys(this.config.connections);
  }

  /** The connections opened so far. */
  opened(): Connection[] {
    return [...this.#connections.values()];
  }

  connection<DB = AnyDatabase>(name: string = this.config.default): Connection<DB> {
    let connection = this.#connections.get(name);
    if (!connection) {
      if (this.#closed) throw new E_DB_CLOSED(name);
      const config = this.config.connections[name];
      if (!config) {
        const known = this.names();
        throw new E_DB_CONNECTION_NOT_FOUND(name, known, suggest(name, known));
      }
      connection = new Connection({
        name,
        config,
        root: this.#root,
        logger: this.#logger,
        slowQueryMs: this.config.slowQueryMs,
        slowQueryHistory: this.config.slowQueryHistory,
      });
      for (const listener of this.#listeners) connection.onQuery(listener);
      this.#connections.set(name, connection);
    }
    return connection as Connection<DB>;
  }

  /** Listen to the statements of every connection, opened now or later. */
  onQuery(listener: QueryListener): () => void {
    this.#listeners.add(listener);
    const offs = this.opened().map((connection) => connection.onQuery(listener));
    return () => {
      this.#listeners.delete(listener);
      for (const off of offs) off();
      // Connections opened after subscribing got the listener from the set.
      for (const connection of this.opened()) connection.offQuery(listener);
    };
  }

  stats(): QueryStatsSnapshot[] {
    return this.opened().map((connection) => connection.stats());
  }

  /** Close every opened connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = this.opened();
    this.#connections.clear();
    await Promise.all(connections.map((connection) => connection.close()));
  }
}

// On globalThis under a registered symbol, not in a module variable: when two copies of
// Keel are loaded (the CLI from dist/ and an app importing keel/db from sources, or two
// installed versions), `db()` in either answers from the manager the provider set.
const CURRENT = Symbol.for('keel.db.currentManager');
type Holder = { [CURRENT]?: DatabaseManager | undefined };

/**
 * A connection of the running application: the default one, or one by name. Queries built
 * from it join the transaction the caller runs in.
 *
 * @example
 * ```ts
 * const product = await db().selectFrom('products').selectAll().where('sku', '=', sku).executeTakeFirst();
 * const rows = await db('reporting').selectFrom('daily_sales').selectAll().execute();
 * ```
 */
export function db<DB = AnyDatabase>(name?: string): Connection<DB> {
  const current = (globalThis as Holder)[CURRENT];
  if (!current) throw new E_DB_NOT_CONFIGURED();
  return current.connection<DB>(name);
}

/** Make `manager` the one `db()` answers from (the DatabaseProvider does this at boot). */
export function setDatabaseManager(manager: DatabaseManager | undefined): void {
  (globalThis as Holder)[CURRENT] = manager;
}

/** The manager `db()` uses, if any. */
export function currentDatabaseManager(): DatabaseManager | undefined {
  return (globalThis as Holder)[CURRENT];
}
