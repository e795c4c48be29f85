import { type Kysely, type RawBuilder, sql } from 'kysely';
import { isDeadlock } from '../../db/deadlock.js';
import type { Connection } from '../../db/index.js';
import { E_LOCK_CONFIG_INVALID } from '../errors.js';
import type { LockDuration } from '../lock.js';
import { type LockStore, lockTtl } from '../lock-store.js';
import { LOCKS_TABLE } from '../migrations/create-keel-locks-table.js';

/** What {@link DatabaseLockStore.prune} deletes, and in what steps. */
export interface LockPruneOptions {
  /** Only rows whose lease ended at least this long ago (ms or `'1h'`); default: every free row. */
  olderThan?: LockDuration;
  /** Rows deleted per transaction (each holds off new acquisitions briefly), 1–10000; default 500. */
  batchSize?: number;
}

/**
 * The name of the fence-floor row: the highest fencing token prune() ever deleted. The
 * empty string is never a lock name (assertLockName refuses it), and the row's lease never
 * ends, so no acquire can take it and no prune deletes it.
 */
const FLOOR = '';
const FOREVER = Number.MAX_SAFE_INTEGER;

export interface DatabaseLockStoreOptions {
  connection: Connection;
  /** Default `keel_locks` (created by the `keel:locks` framework migration). */
  table?: string;
}

/**
 * Locks in the `keel_locks` table, on SQLite, PostgreSQL or MySQL/MariaDB. Every
 * operation is one statement (acquire on MySQL adds a read of the row it just wrote).
 * On PostgreSQL and MySQL each runs on the connection's root Kysely: a lock taken inside
 * a transaction neither waits for its commit nor vanishes with its rollback. SQLite has a
 * single connection, so there a lock taken inside a transaction is part of it (take the
 * lock outside the transaction).
 *
 * Time is the database server's clock (`now()`), so the hosts' clocks do not matter; the
 * row of a name is kept after release because it carries the name's fencing counter, until
 * {@link DatabaseLockStore.prune} deletes it (raising the fence floor first).
 *
 * @example
 * ```ts
 * const store = new DatabaseLockStore({ connection: app.make('db').connection() });
 * ```
 */
export class DatabaseLockStore implements LockStore {
  readonly driver = 'database';
  readonly #connection: Connection;
  readonly #table: RawBuilder<unknown>;
  readonly #now: RawBuilder<number>;

  constructor(options: DatabaseLockStoreOptions) {
    this.#connection = options.connection;
    this.#table = sql.table(options.table ?? LOCKS_TABLE);
    this.#now = nowMs(options.connection.dialect);
  }

  get #db(): Kysely<unknown> {
    // SQLite has one connection, held by an open transaction until it ends: a statement
    // on the root would wait for it forever, so there the store joins the transaction.
    if (this.#connection.dialect === 'sqlite') return this.#connection.db as Kysely<unknown>;
    return this.#connection.kysely as Kysely<unknown>;
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<number | null> {
    const t = this.#table;
    const now = this.#now;
    if (this.#connection.dialect !== 'mysql') {
      // One statement: insert the name, or take over its row only when the lease there
      // has expired (or was released: expires_at = 0). PostgreSQL re-checks the WHERE on
      // the latest row version under its row lock; SQLite runs writers one at a time. So
      // exactly one of any number of concurrent callers gets a row back, and the counter
      // it reads is the previous one + 1.
      //
      // A new row (a name never used, or pruned) starts above the fence floor, the highest
      // token prune() ever deleted (see prune for why the read cannot be stale).
      const result = await sql<{ fencing: number | string }>`
        INSERT INTO ${t} (name, owner, fencing, expires_at)
        VALUES (${name}, ${owner}, ${floorOf(t)} + 1, ${now} + ${ttlMs})
        ON CONFLICT (name) DO UPDATE SET
          owner = excluded.owner,
          fencing = ${t}.fencing + 1,
          expires_at = excluded.expires_at
        WHERE ${t}.expires_at <= ${now}
        RETURNING fencing`.execute(this.#db);
      const row = result.rows[0];
      return row ? Number(row.fencing) : null;
    }
    // MySQL/MariaDB: one upsert under the row's lock. The assignments run left to right,
    // each seeing the columns already assigned, so every condition reads the old
    // expires_at, which is assigned last. NOW(3) is fixed for the whole statement.
    // A new row starts above the fence floor, read with a shared lock (see prune): MySQL
    // refuses a subquery on the target table in VALUES, so the floor comes through a
    // derived table, and the columns are qualified because the SELECT has its own.
    // Two first acquisitions of different names at the same moment can deadlock on the
    // floor row's shared lock and the insert's gap locks; the victim's statement is rolled
    // back whole, so it is simply run again.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#mysqlUpsert(name, owner, ttlMs);
        break;
      } catch (error) {
        if (attempt >= 5 || !isDeadlock(error)) throw error;
      }
    }
    // No RETURNING there: owner tokens are unique, so the row names us only if we won.
    // (If our lease already expired and was taken in between, we correctly see a loss.)
    const result = await sql<{ owner: string; fencing: number | string }>`
      SELECT owner, fencing FROM ${t} WHERE name = ${name}`.execute(this.#db);
    const row = result.rows[0];
    return row && row.owner === owner ? Number(row.fencing) : null;
  }

  /** The MySQL/MariaDB acquire statement (see acquire). */
  async #mysqlUpsert(name: string, owner: string, ttlMs: number): Promise<void> {
    const t = this.#table;
    const now = this.#now;
    await sql`
      INSERT INTO ${t} (name, owner, fencing, expires_at)
      SELECT ${name}, ${owner}, COALESCE(MAX(f.fencing), 0) + 1, ${now} + ${ttlMs}
      FROM (SELECT fencing FROM ${t} WHERE name = ${FLOOR} LOCK IN SHARE MODE) AS f
      ON DUPLICATE KEY UPDATE
        fencing = IF(${t}.expires_at <= ${now}, ${t}.fencing + 1, ${t}.fencing),
        owner = IF(${t}.expires_at <= ${now}, ${owner}, ${t}.owner),
        expires_at = IF(${t}.expires_at <= ${now}, ${now} + ${ttlMs}, ${t}.expires_at)`.execute(
      this.#db,
    );
  }

  async release(name: string, owner: string): Promise<boolean> {
    // expires_at = 0 frees the name; owner = '' (never a token) so a stale holder's
    // release or extend can never match again.
    const result = await sql`
      UPDATE ${this.#table} SET owner = '', expires_at = 0
      WHERE name = ${name} AND owner = ${owner} AND expires_at > ${this.#now}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async extend(name: string, owner: string, ttlMs: number): Promise<boolean> {
    // mysql2 connects with FOUND_ROWS, so MySQL counts matched rows here, like the others.
    const result = await sql`
      UPDATE ${this.#table} SET expires_at = ${this.#now} + ${ttlMs}
      WHERE name = ${name} AND owner = ${owner} AND expires_at > ${this.#now}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async owner(name: string): Promise<string | null> {
    const result = await sql<{ owner: string }>`
      SELECT owner FROM ${this.#table}
      WHERE name = ${name} AND expires_at > ${this.#now}`.execute(this.#db);
    return result.rows[0]?.owner ?? null;
  }

  /**
   * Delete the rows of free locks (released, or lease expired `olderThan` ago), which
   * otherwise stay forever: one per name ever locked. Returns how many were deleted.
   *
   * A row carries its name's fencing counter, so deleting it would restart the name at 1.
   * Each batch therefore first raises the fence floor (a row of its own) to the highest
   * token it deletes, and a new row starts at floor + 1: tokens of every name stay
   * increasing across prunes. The floor read cannot be stale: on PostgreSQL the batch
   * holds SHARE ROW EXCLUSIVE on the table, which waits for running acquires and holds off
   * new ones until commit (their snapshot is taken after that wait); on MySQL the batch
   * holds the floor row's exclusive lock and acquire reads it `LOCK IN SHARE MODE`; SQLite
   * runs one writer at a time. Held locks are never touched.
   *
   * @example
   * ```ts
   * const removed = await store.prune({ olderThan: '1h' });
   * ```
   */
  async prune(options: LockPruneOptions = {}): Promise<number> {
    const olderThanMs =
      options.olderThan === undefined || options.olderThan === 0 ? 0 : lockTtl(options.olderThan);
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw new E_LOCK_CONFIG_INVALID(
        'prune.batchSize',
        `${String(batchSize)} is not a whole number from 1 to 10000`,
      );
    let total = 0;
    for (;;) {
      const removed = await this.#transaction((db) => this.#pruneBatch(db, olderThanMs, batchSize));
      total += removed;
      if (removed < batchSize) return total;
    }
  }

  /** The highest fencing token prune() has deleted (0 before the first prune). */
  async fenceFloor(): Promise<number> {
    const result = await sql<{ fencing: number | string }>`
      SELECT fencing FROM ${this.#table} WHERE name = ${FLOOR}`.execute(this.#db);
    return Number(result.rows[0]?.fencing ?? 0);
  }

  async #pruneBatch(db: Kysely<unknown>, olderThanMs: number, limit: number): Promise<number> {
    const t = this.#table;
    const dialect = this.#connection.dialect;
    const cutoff = sql<number>`${this.#now} - ${olderThanMs}`;
    // First a write, so SQLite takes its write lock before reading anything.
    if (dialect === 'postgres') await sql`LOCK TABLE ${t} IN SHARE ROW EXCLUSIVE MODE`.execute(db);
    if (dialect === 'mysql')
      await sql`
        INSERT INTO ${t} (name, owner, fencing, expires_at) VALUES (${FLOOR}, '', 0, ${FOREVER})
        ON DUPLICATE KEY UPDATE fencing = fencing`.execute(db);
    else
      await sql`
        INSERT INTO ${t} (name, owner, fencing, expires_at) VALUES (${FLOOR}, '', 0, ${FOREVER})
        ON CONFLICT (name) DO NOTHING`.execute(db);
    const candidates = await sql<{ name: string | Uint8Array; fencing: number | string }>`
      SELECT name, fencing FROM ${t}
      WHERE name <> ${FLOOR} AND expires_at <= ${cutoff}
      ORDER BY name LIMIT ${sql.lit(limit)}`.execute(db);
    if (candidates.rows.length === 0) return 0;
    const highest = Math.max(...candidates.rows.map((row) => Number(row.fencing)));
    await sql`
      UPDATE ${t} SET fencing = ${highest}
      WHERE name = ${FLOOR} AND fencing < ${highest}`.execute(db);
    // Re-checked on the current rows: a name acquired since the SELECT (MySQL reads it
    // without a lock) is held now, or has a token above the floor, and stays.
    const names = candidates.rows.map((row) => row.name);
    const result = await sql`
      DELETE FROM ${t}
      WHERE name IN (${sql.join(names)}) AND name <> ${FLOOR}
        AND expires_at <= ${cutoff} AND fencing <= ${highest}`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  }

  /** A transaction of the store's own (SQLite: joined to the ambient one, see #db). */
  #transaction<T>(fn: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    if (this.#connection.dialect === 'sqlite')
      return this.#connection.transaction(() => fn(this.#connection.db as Kysely<unknown>));
    return (this.#connection.kysely as Kysely<unknown>).transaction().execute(fn);
  }

  async forceRelease(name: string): Promise<boolean> {
    const result = await sql`
      UPDATE ${this.#table} SET owner = '', expires_at = 0
      WHERE name = ${name} AND expires_at > ${this.#now}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }
}

/** The fence floor (0 before the first prune), for the value of a new row's first token. */
function floorOf(table: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`COALESCE((SELECT f.fencing FROM ${table} AS f WHERE f.name = ${FLOOR}), 0)`;
}

/** The server's current time in epoch milliseconds, as an integer expression. */
function nowMs(dialect: Connection['dialect']): RawBuilder<number> {
  if (dialect === 'postgres') return sql<number>`(floor(extract(epoch from now()) * 1000)::bigint)`;
  // UNIX_TIMESTAMP reads NOW(3) back in the session time zone, so the pair is consistent.
  if (dialect === 'mysql') return sql<number>`CAST(FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) AS SIGNED)`;
  // 'now' is fixed for the duration of one SQLite statement.
  return sql<number>`CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
}
