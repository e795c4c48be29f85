import type { Kysely } from 'kysely';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AnyDatabase, Connection } from '../../../db/index.js';
import { RATE_LIMITS_TABLE } from '../migrations/create-rate-limits-table.js';
import type { LimiterSpec, RateLimitStore } from '../rate-limit-store.js';
import { DatabaseRateLimiter } from './database-rate-limiter.js';

export interface DatabaseRateLimitStoreOptions {
  /** A Keel connection (the default one, or `security.rate_limit.database.connection`). */
  connection: Connection;
  /** Default `rate_limits`, the table of the framework migration. */
  table?: string;
  /** Delete long-expired rows at most this often, after a hit (default 5 min; 0: never). */
  pruneEveryMs?: number;
}

/** Rows whose window ended more than this long ago are pruned. */
const PRUNE_AFTER_MS = 3_600_000;

/**
 * Counters in a table of a Keel database connection (SQLite, PostgreSQL, MySQL/MariaDB),
 * one atomic upsert per hit (see {@link DatabaseRateLimiter}). The table comes from the
 * framework migration `create_rate_limits_table` (`keel migrate`).
 *
 * @example
 * ```ts
 * const store = new DatabaseRateLimitStore({ connection: app.make('db').connection() });
 * ```
 */
export class DatabaseRateLimitStore implements RateLimitStore {
  readonly name = 'database';
  readonly #connection: Connection;
  readonly #table: string;
  readonly #pruneEveryMs: number;
  #lastPrune = 0;

  constructor(options: DatabaseRateLimitStoreOptions) {
    this.#connection = options.connection;
    this.#table = options.table ?? RATE_LIMITS_TABLE;
    this.#pruneEveryMs = options.pruneEveryMs ?? 5 * 60_000;
  }

  /**
   * Delete the rows whose window ended over an hour ago (reads already ignore them; the
   * margin keeps a row a slow reader may still be looking at). Returns how many went.
   */
  async prune(now = Date.now()): Promise<number> {
    const result = await this.#connection.kysely
      .deleteFrom(this.#table)
      .where('expire', '<', now - PRUNE_AFTER_MS)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  limiter(spec: LimiterSpec): RateLimiterAbstract {
    return new DatabaseRateLimiter({
      db: this.#executor,
      dialect: this.#connection.dialect,
      table: this.#table,
      ...spec,
      afterHit: (now) => this.#afterHit(now),
    }) as unknown as RateLimiterAbstract;
  }

  /** See DatabaseRateLimiter: SQLite's single connection cannot serve two at once. */
  readonly #executor = (): Kysely<AnyDatabase> => {
    const connection = this.#connection;
    return connection.dialect === 'sqlite' && connection.inTransaction
      ? connection.db
      : connection.kysely;
  };

  /** No timer: the first hit after `pruneEveryMs` prunes, without waiting for it. */
  #afterHit(now: number): void {
    if (this.#pruneEveryMs <= 0 || now - this.#lastPrune < this.#pruneEveryMs) return;
    this.#lastPrune = now;
    this.prune(now).catch(() => {
      // Best effort: the next prune retries, and reads ignore expired rows meanwhile.
    });
  }

  /** The connection belongs to the database manager, which closes it. */
  async close(): Promise<void> {}
}
