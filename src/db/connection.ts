import {
  type CompiledQuery,
  type ControlledTransaction,
  type IsolationLevel,
  Kysely,
  type RawBuilder,
  sql,
} from 'kysely';
import type { Logger } from '../kernel/index.js';
import { AsyncSlot } from '../support/async-slot.js';
import type { ConnectionConfig, DialectName } from './config.js';
import { createDialect, type DialectHandle } from './dialects.js';
import { E_DB_CLOSED, E_DB_CONCURRENT_TRANSACTION } from './errors.js';
import {
  instrumentDialect,
  type QueryEvent,
  type QueryListener,
  type QueryObserver,
} from './instrumented-dialect.js';
import { QueryStats, type QueryStatsSnapshot } from './query-stats.js';

// biome-ignore lint/suspicious/noExplicitAny: an untyped database is `any` tables, as in Kysely.
export type AnyDatabase = any;

export interface TransactionOptions {
  isolationLevel?: IsolationLevel;
}

/** One level of an open transaction: the outer one, or a savepoint inside it. */
interface TransactionState {
  readonly trx: ControlledTransaction<AnyDatabase>;
  readonly depth: number;
  /** `afterCommit` callbacks of this level; a released savepoint hands them to its parent. */
  readonly callbacks: Array<() => unknown>;
  /** A nested transaction is running on this level (siblings must wait their turn). */
  nested: boolean;
}

export interface ConnectionOptions {
  name: string;
  config: ConnectionConfig;
  /** The app root, which SQLite paths resolve against. */
  root: string;
  logger: Logger;
  /** Log statements slower than this (ms) with their SQL; 0 disables. */
  slowQueryMs?: number;
  /** Slow statements kept for `stats()`. */
  slowQueryHistory?: number;
}

/**
 * One named database connection (a pool, or SQLite's single handle) with Kysely on top.
 * Queries built from it join the transaction the current async call runs in, so a model
 * or a helper called inside `transaction()` needs no `trx` argument.
 *
 * @example
 * ```ts
 * const orders = await db().selectFrom('orders').selectAll().where('id', '=', id).execute();
 * await db().transaction(async () => {
 *   await db().insertInto('orders').values(order).execute();
 *   await db().afterCommit(() => mailer.send(confirmation));
 * });
 * ```
 */
export class Connection<DB = AnyDatabase> {
  readonly name: string;
  readonly dialect: DialectName;
  readonly config: ConnectionConfig;
  /** The root Kysely instance: it never joins an ambient transaction. */
  readonly kysely: Kysely<DB>;
  readonly #handle: DialectHandle;
  readonly #logger: Logger;
  readonly #slowQueryMs: number;
  readonly #stats: QueryStats;
  readonly #listeners = new Set<QueryListener>();
  readonly #transactions = new AsyncSlot<TransactionState>();
  #closed = false;

  constructor(options: ConnectionOptions) {
    this.name = options.name;
    this.config = options.config;
    this.dialect = options.config.driver;
    this.#logger = options.logger;
    this.#slowQueryMs = options.slowQueryMs ?? 200;
    this.#stats = new QueryStats(options.name, { slowHistory: options.slowQueryHistory ?? 50 });
    this.#handle = createDialect(options.config, {
      name: options.name,
      root: options.root,
      logger: options.logger,
    });
    const observer: QueryObserver = {
      name: this.name,
      dialect: this.dialect,
      record: (event) => this.#record(event),
    };
    this.kysely = new Kysely<DB>({ dialect: instrumentDialect(this.#handle.dialect, observer) });
  }

  /** The executor for the current call: the open transaction if there is one, else the root. */
  get db(): Kysely<DB> {
    if (this.#closed) throw new E_DB_CLOSED(this.name);
    return (this.#transactions.get()?.trx as Kysely<DB> | undefined) ?? this.kysely;
  }

  get selectFrom(): Kysely<DB>['selectFrom'] {
    const db = this.db;
    return db.selectFrom.bind(db);
  }

  get insertInto(): Kysely<DB>['insertInto'] {
    const db = this.db;
    return db.insertInto.bind(db);
  }

  get updateTable(): Kysely<DB>['updateTable'] {
    const db = this.db;
    return db.updateTable.bind(db);
  }

  get deleteFrom(): Kysely<DB>['deleteFrom'] {
    const db = this.db;
    return db.deleteFrom.bind(db);
  }

  get with(): Kysely<DB>['with'] {
    const db = this.db;
    return db.with.bind(db);
  }

  /** The schema builder (DDL), inside the open transaction when there is one. */
  get schema(): Kysely<DB>['schema'] {
    return this.db.schema;
  }

  /** Run raw SQL (built with the `sql` tag, so values stay bound) and return its rows. */
  async execute<R = Record<string, unknown>>(
    query: RawBuilder<R> | CompiledQuery<R>,
  ): Promise<R[]> {
    const db = this.db;
    const result =
      'execute' in query
        ? await query.execute(db)
        : await db.executeQuery(query as CompiledQuery<R>);
    return result.rows as R[];
  }

  /** True inside `transaction()` on this connection. */
  get inTransaction(): boolean {
    return this.#transactions.get() !== undefined;
  }

  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when it throws.
   * Called inside another transaction it runs in a savepoint, so an inner failure rolls
   * back only the inner work (and the outer `fn` may catch it and go on).
   *
   * @example
   * ```ts
   * const order = await db().transaction(async (trx) => {
   *   const row = await trx.insertInto('orders').values(input).returningAll().executeTakeFirstOrThrow();
   *   await trx.updateTable('stock').set(...).execute();
   *   return row;
   * });
   * ```
   */
  async transaction<T>(
    fn: (trx: Kysely<DB>) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const parent = this.#transactions.get();
    return parent ? this.#nested(parent, fn) : this.#outer(fn, options);
  }

  async #outer<T>(fn: (trx: Kysely<DB>) => Promise<T>, options: TransactionOptions): Promise<T> {
    if (this.#closed) throw new E_DB_CLOSED(this.name);
    let builder = this.kysely.startTransaction();
    if (options.isolationLevel) builder = builder.setIsolationLevel(options.isolationLevel);
    const trx = (await builder.execute()) as unknown as ControlledTransaction<AnyDatabase>;
    const state: TransactionState = { trx, depth: 0, callbacks: [], nested: false };
    let result: T;
    try {
      result = await this.#transactions.run(state, () => fn(trx as unknown as Kysely<DB>));
    } catch (error) {
      await this.#rollback(() => trx.rollback().execute(), error);
      throw error;
    }
    try {
      await trx.commit().execute();
    } catch (error) {
      // A COMMIT that failed (its connection lost mid-way, a serialization failure) leaves
      // Kysely's controlled transaction holding its connection until rollback() runs, and
      // that pool connection would never come back: the pool could not even close. The
      // rollback releases it whatever it answers (a dead connection is then discarded).
      await this.#rollback(() => trx.rollback().execute(), error);
      throw error;
    }
    await this.#runAfterCommit(state.callbacks);
    return result;
  }

  async #nested<T>(parent: TransactionState, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
    // Savepoints live on the one connection of the outer transaction: two nested
    // transactions running side by side would release or roll back each other's work.
    if (parent.nested) throw new E_DB_CONCURRENT_TRANSACTION(this.name);
    parent.nested = true;
    const savepoint = `keel_sp_${parent.depth + 1}`;
    const trx = parent.trx;
    try {
      await trx.savepoint(savepoint).execute();
      const state: TransactionState = {
        trx,
        depth: parent.depth + 1,
        callbacks: [],
        nested: false,
      };
      let result: T;
      try {
        result = await this.#transactions.run(state, () => fn(trx as unknown as Kysely<DB>));
      } catch (error) {
        // The inner work and its afterCommit callbacks are dropped; the outer goes on.
        await this.#rollback(
          () => (trx as AnyDatabase).rollbackToSavepoint(savepoint).execute(),
          error,
        );
        throw error;
      }
      await (trx as AnyDatabase).releaseSavepoint(savepoint).execute();
      parent.callbacks.push(...state.callbacks);
      return result;
    } finally {
      parent.nested = false;
    }
  }

  /** Roll back, keeping the error that caused it as the one the caller sees. */
  async #rollback(rollback: () => Promise<unknown>, cause: unknown): Promise<void> {
    try {
      await rollback();
    } catch (error) {
      this.#logger.error(
        { connection: this.name, err: error, cause },
        'rollback failed (the connection is discarded by the pool)',
      );
    }
  }

  /**
   * Run `callback` once the current transaction commits: at once outside a transaction,
   * never if it rolls back. Use it to dispatch jobs, send mail or publish events only
   * for data that exists. A callback that throws after commit is logged: the data stays.
   */
  async afterCommit(callback: () => unknown): Promise<void> {
    const state = this.#transactions.get();
    if (state) {
      state.callbacks.push(callback);
      return;
    }
    await callback();
  }

  async #runAfterCommit(callbacks: ReadonlyArray<() => unknown>): Promise<void> {
    for (const callback of callbacks) {
      try {
        await callback();
      } catch (error) {
        this.#logger.error(
          { connection: this.name, err: error },
          'afterCommit callback failed after the transaction committed',
        );
      }
    }
  }

  /** Round-trip `SELECT 1`; resolves with the latency in ms. */
  async ping(): Promise<number> {
    const started = performance.now();
    await sql`select 1`.execute(this.kysely);
    return Math.round((performance.now() - started) * 100) / 100;
  }

  /** Listen to every statement on this connection; returns the unsubscribe function. */
  onQuery(listener: QueryListener): () => void {
    this.#listeners.add(listener);
    return () => this.offQuery(listener);
  }

  offQuery(listener: QueryListener): void {
    this.#listeners.delete(listener);
  }

  /** Counts and timings by operation, and the recent slow statements. */
  stats(): QueryStatsSnapshot {
    return this.#stats.snapshot();
  }

  /** The driver's pool or SQLite handle, once the first query opened it. */
  native<T = unknown>(): T | undefined {
    return this.#handle.native() as T | undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Close the pool (or the SQLite file). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.kysely.destroy();
  }

  #record(event: QueryEvent): void {
    this.#stats.record(event);
    if (this.#slowQueryMs > 0 && event.durationMs >= this.#slowQueryMs) {
      const slow = this.#stats.recordSlow(event);
      this.#logger.warn({ connection: this.name, ...slow }, 'slow query');
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener that throws on purpose (N+1 detection in tests) fails the query's
        // caller through the detector itself; others must not break queries.
        if ((error as { rethrow?: boolean }).rethrow) throw error;
        this.#logger.error({ err: error }, 'query listener failed');
      }
    }
  }
}
