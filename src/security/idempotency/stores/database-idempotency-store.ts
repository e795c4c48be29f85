import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Connection } from '../../../db/index.js';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyStore,
  StoredResponse,
} from '../idempotency-store.js';
import { IDEMPOTENCY_TABLE } from '../migrations/create-idempotency-keys-table.js';

export interface DatabaseIdempotencyStoreOptions {
  connection: Connection;
  /** Default `idempotency_keys` (created by the `keel:idempotency` framework migration). */
  table?: string;
  /** Rows deleted per statement by prune(), 1–10000; default 1000. */
  pruneBatchSize?: number;
}

interface Row {
  fingerprint: string;
  state: string;
  locked_until: number | string;
  expires_at: number | string;
  response_status: number | string | null;
  response_headers: string | null;
  response_body: Uint8Array | null;
}

/** A claim sees a row that vanished between its statements (released, pruned) this often before it gives up. */
const MAX_CLAIM_ROUNDS = 5;

/**
 * Idempotency keys in the `idempotency_keys` table, on SQLite, PostgreSQL or
 * MySQL/MariaDB. A claim is an insert that does nothing when the key exists (`ON CONFLICT DO
 * NOTHING`, `INSERT IGNORE` on MySQL), then, when it existed, a conditional update that takes
 * over an expired or stale row, then a read of the row that stopped both: each step is one
 * statement, so two claims can never both win. On PostgreSQL and MySQL each runs on the
 * connection's root Kysely (a claim inside a transaction neither waits for its commit nor
 * vanishes with its rollback); SQLite has one connection, so there the store joins the
 * ambient transaction.
 *
 * @example
 * ```ts
 * const store = new DatabaseIdempotencyStore({ connection: app.make('db').connection() });
 * ```
 */
export class DatabaseIdempotencyStore implements IdempotencyStore {
  readonly driver = 'database';
  readonly #connection: Connection;
  readonly #table: RawBuilder<unknown>;
  readonly #batch: number;

  constructor(options: DatabaseIdempotencyStoreOptions) {
    this.#connection = options.connection;
    this.#table = sql.table(options.table ?? IDEMPOTENCY_TABLE);
    const batch = options.pruneBatchSize ?? 1000;
    if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
      throw new RangeError(`pruneBatchSize ${String(batch)} is not a whole number from 1 to 10000`);
    this.#batch = batch;
  }

  get #db(): Kysely<unknown> {
    if (this.#connection.dialect === 'sqlite') return this.#connection.db as Kysely<unknown>;
    return this.#connection.kysely as Kysely<unknown>;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const t = this.#table;
    const { key, fingerprint, token, now, lockedUntil, expiresAt } = request;
    for (let round = 1; ; round++) {
      // Inputs: the scoped key and a fresh token. Invariant: a key has at most one row, so
      // of concurrent inserts exactly one affects a row (the others do nothing).
      const insert =
        this.#connection.dialect === 'mysql'
          ? sql`INSERT IGNORE INTO ${t}
              (key_hash, fingerprint, token, state, locked_until, expires_at, created_at)
              VALUES (${key}, ${fingerprint}, ${token}, 'in_flight', ${lockedUntil}, ${expiresAt}, ${now})`
          : sql`INSERT INTO ${t}
              (key_hash, fingerprint, token, state, locked_until, expires_at, created_at)
              VALUES (${key}, ${fingerprint}, ${token}, 'in_flight', ${lockedUntil}, ${expiresAt}, ${now})
              ON CONFLICT (key_hash) DO NOTHING`;
      const inserted = await insert.execute(this.#db);
      if (Number(inserted.numAffectedRows ?? 0) > 0) return { kind: 'claimed' };
      // The row exists. Take it over only when it expired, or when it is an in-flight claim
      // of the same request whose lock ran out (its holder died or hangs). PostgreSQL
      // re-checks the WHERE on the latest row version under the row lock, MySQL updates
      // with a locking read, SQLite runs one writer at a time: of concurrent reclaimers one
      // matches, and the others then see a lock in the future. The new token fences the
      // old holder out of complete() and release().
      const reclaimed = await sql`
        UPDATE ${t} SET fingerprint = ${fingerprint}, token = ${token}, state = 'in_flight',
          locked_until = ${lockedUntil}, expires_at = ${expiresAt}, created_at = ${now},
          response_status = NULL, response_headers = NULL, response_body = NULL
        WHERE key_hash = ${key} AND (expires_at <= ${now}
          OR (state = 'in_flight' AND locked_until <= ${now} AND fingerprint = ${fingerprint}))`.execute(
        this.#db,
      );
      if (Number(reclaimed.numAffectedRows ?? 0) > 0) return { kind: 'claimed' };
      const found = await sql<Row>`
        SELECT fingerprint, state, locked_until, expires_at,
          response_status, response_headers, response_body
        FROM ${t} WHERE key_hash = ${key}`.execute(this.#db);
      const row = found.rows[0];
      // Gone since the insert (released by a failed first request, or pruned), or expired
      // just now: claim again.
      if (row === undefined || Number(row.expires_at) <= now) {
        if (round < MAX_CLAIM_ROUNDS) continue;
        return { kind: 'in-flight', fingerprint, lockedUntil: now + 1000 };
      }
      if (row.state === 'completed')
        return { kind: 'completed', fingerprint: row.fingerprint, response: responseOf(row) };
      return {
        kind: 'in-flight',
        fingerprint: row.fingerprint,
        lockedUntil: Number(row.locked_until),
      };
    }
  }

  async complete(
    key: string,
    token: string,
    response: StoredResponse,
    _now: number,
    expiresAt: number,
  ): Promise<boolean> {
    // Only the current in-flight claim's holder writes: a reclaimed key has a new token.
    // mysql2 connects with FOUND_ROWS, so MySQL counts matched rows, like the others.
    const result = await sql`
      UPDATE ${this.#table} SET state = 'completed', expires_at = ${expiresAt},
        response_status = ${response.status},
        response_headers = ${JSON.stringify(response.headers)},
        response_body = ${response.body}
      WHERE key_hash = ${key} AND token = ${token} AND state = 'in_flight'`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async release(key: string, token: string): Promise<boolean> {
    const result = await sql`
      DELETE FROM ${this.#table}
      WHERE key_hash = ${key} AND token = ${token} AND state = 'in_flight'`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /**
   * Delete rows that expired at or before `now`, in batches (each a short statement, so a
   * large backlog never holds a long lock). Returns how many were deleted.
   */
  async prune(now: number): Promise<number> {
    const t = this.#table;
    let total = 0;
    for (;;) {
      const batch = await sql<{ key_hash: string }>`
        SELECT key_hash FROM ${t} WHERE expires_at <= ${now}
        ORDER BY expires_at LIMIT ${sql.lit(this.#batch)}`.execute(this.#db);
      if (batch.rows.length === 0) return total;
      // Re-checked: a key reclaimed since the SELECT has a new expiry and stays.
      const result = await sql`
        DELETE FROM ${t}
        WHERE key_hash IN (${sql.join(batch.rows.map((r) => r.key_hash))})
          AND expires_at <= ${now}`.execute(this.#db);
      total += Number(result.numAffectedRows ?? 0);
      if (batch.rows.length < this.#batch) return total;
    }
  }
}

function responseOf(row: Row): StoredResponse {
  let headers: StoredResponse['headers'] = {};
  try {
    const parsed = JSON.parse(row.response_headers ?? '{}') as unknown;
    if (parsed !== null && typeof parsed === 'object')
      headers = parsed as StoredResponse['headers'];
  } catch {
    // A row edited by hand: replay without headers rather than fail the request.
  }
  return {
    status: Number(row.response_status ?? 200),
    headers,
    body: row.response_body === null ? null : Buffer.from(row.response_body),
  };
}
