import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Connection } from '../../db/index.js';
import type { LockStore } from '../lock-store.js';
import { LOCKS_TABLE } from '../migrations/create-keel-locks-table.js';

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
 * row of a name is kept after release because it carries the name's fencing counter.
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
      const result = await sql<{ fencing: number | string }>`
        INSERT INTO ${t} (name, owner, fencing, expires_at)
        VALUES (${name}, ${owner}, 1, ${now} + ${ttlMs})
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
    await sql`
      INSERT INTO ${t} (name, owner, fencing, expires_at)
      VALUES (${name}, ${owner}, 1, ${now} + ${ttlMs})
      ON DUPLICATE KEY UPDATE
        fencing = IF(expires_at <= ${now}, fencing + 1, fencing),
        owner = IF(expires_at <= ${now}, ${owner}, owner),
        expires_at = IF(expires_at <= ${now}, ${now} + ${ttlMs}, expires_at)`.execute(this.#db);
    // No RETURNING there: owner tokens are unique, so the row names us only if we won.
    // (If our lease already expired and was taken in between, we correctly see a loss.)
    const result = await sql<{ owner: string; fencing: number | string }>`
      SELECT owner, fencing FROM ${t} WHERE name = ${name}`.execute(this.#db);
    const row = result.rows[0];
    return row && row.owner === owner ? Number(row.fencing) : null;
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

  async forceRelease(name: string): Promise<boolean> {
    const result = await sql`
      UPDATE ${this.#table} SET owner = '', expires_at = 0
      WHERE name = ${name} AND expires_at > ${this.#now}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }
}

/** The server's current time in epoch milliseconds, as an integer expression. */
function nowMs(dialect: Connection['dialect']): RawBuilder<number> {
  if (dialect === 'postgres') return sql<number>`(floor(extract(epoch from now()) * 1000)::bigint)`;
  // UNIX_TIMESTAMP reads NOW(3) back in the session time zone, so the pair is consistent.
  if (dialect === 'mysql') return sql<number>`CAST(FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) AS SIGNED)`;
  // 'now' is fixed for the duration of one SQLite statement.
  return sql<number>`CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
}
