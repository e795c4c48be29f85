import { createRequire } from 'node:module';
import { type Kysely, sql } from 'kysely';
import rlf from 'rate-limiter-flexible';
import type { AnyDatabase, DialectName } from '../../../db/index.js';
import { isDeadlock } from '../../../db/index.js';

const { RateLimiterRes } = rlf;
// The package declares the base class of its stores but does not export it from its
// entry point; the file is stable API for custom stores (its README's "own store").
const RateLimiterStoreAbstract = createRequire(import.meta.url)(
  'rate-limiter-flexible/lib/RateLimiterStoreAbstract.js',
) as typeof rlf.RateLimiterStoreAbstract;
type RateLimiterResult = InstanceType<typeof RateLimiterRes>;

/** One key's row as the upsert returns it: the points consumed and the end of its window. */
interface Row {
  points: number;
  /** Epoch milliseconds; null when the key never expires (a duration of 0). */
  expire: number | null;
}

export interface DatabaseRateLimiterOptions {
  /**
   * The executor for a hit: the root Kysely of a Keel connection, not the request's
   * transaction (see below) — except on SQLite inside a transaction.
   */
  db: () => Kysely<AnyDatabase>;
  dialect: DialectName;
  /** The table the framework migration made (`rate_limits`), or a test's own. */
  table: string;
  keyPrefix: string;
  points: number;
  duration: number;
  blockDuration?: number;
  /** Called after each hit (the store's opportunistic prune). */
  afterHit?: (now: number) => void;
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? value : Number(value);
}

/**
 * A rate-limiter-flexible store on a Keel database connection (SQLite, PostgreSQL,
 * MySQL/MariaDB): each hit is **one** atomic upsert on the key's row, so any number of
 * processes sharing the database never let more than `points` through per window.
 *
 * It runs on the connection's root Kysely, not inside the ambient transaction of the
 * request: a hit must count even when the request's transaction rolls back, and must not
 * hold the row's lock until that transaction ends. SQLite is the exception: its one
 * connection is busy with the transaction, so a hit inside one joins it (and a rollback
 * forgets it) rather than waiting forever.
 *
 * @example
 * ```ts
 * const limiter = new DatabaseRateLimiter({ db: () => connection.kysely, dialect: 'postgres',
 *   table: 'rate_limits', keyPrefix: 'keel:rl:login', points: 5, duration: 60 });
 * await limiter.consume('203.0.113.9');
 * ```
 */
export class DatabaseRateLimiter extends RateLimiterStoreAbstract {
  readonly #db: () => Kysely<AnyDatabase>;
  readonly #dialect: DialectName;
  readonly #table: string;
  readonly #afterHit: ((now: number) => void) | undefined;

  constructor(options: DatabaseRateLimiterOptions) {
    super({
      storeClient: options.db,
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.duration,
      ...(options.blockDuration !== undefined ? { blockDuration: options.blockDuration } : {}),
    });
    this.#db = options.db;
    this.#dialect = options.dialect;
    this.#table = options.table;
    this.#afterHit = options.afterHit;
  }

  // The hooks below are rate-limiter-flexible's protected API (underscore names, untyped).

  _getRateLimiterRes(_rlKey: string, changedPoints: number, row: Row): RateLimiterResult {
    const isFirst = changedPoints === row.points;
    const consumed = isFirst ? changedPoints : row.points;
    const msBeforeNext = row.expire === null ? -1 : Math.max(row.expire - Date.now(), 0);
    return new RateLimiterRes(Math.max(this.points - consumed, 0), msBeforeNext, consumed, isFirst);
  }

  async _upsert(
    key: string,
    points: number,
    msDuration: number,
    forceExpire = false,
  ): Promise<Row> {
    const now = Date.now();
    const expire = msDuration > 0 ? now + msDuration : null;
    for (let attempt = 1; ; attempt++) {
      try {
        const row =
          this.#dialect === 'mysql'
            ? await this.#upsertMysql(key, points, expire, now, forceExpire)
            : await this.#upsertReturning(key, points, expire, now, forceExpire);
        this.#afterHit?.(now);
        return row;
      } catch (error) {
        // InnoDB may pick one of two first inserts of a key as a deadlock victim; the
        // statement was rolled back whole, so running it again counts the hit once.
        if (attempt >= 3 || !isDeadlock(error)) throw error;
      }
    }
  }

  /**
   * PostgreSQL and SQLite (3.35+): `INSERT … ON CONFLICT … DO UPDATE … RETURNING`.
   * Inputs: key, points to add, the new window end, now, and whether to force the window.
   * Invariant: the row lock taken by the conflict makes read-add-write one step, so the
   * returned `points` is exactly the sum of every hit of the current window, in any order;
   * an expired window (or a forced one: block/set) restarts at `points` with the new end.
   */
  async #upsertReturning(
    key: string,
    points: number,
    expire: number | null,
    now: number,
    force: boolean,
  ): Promise<Row> {
    const t = sql.table(this.#table);
    const reset = sql`(${t}.expire <= ${now} OR ${sql.raw(force ? '1=1' : '1=0')})`;
    const result = await sql<Row>`
      INSERT INTO ${t} (limiter_key, points, expire) VALUES (${key}, ${points}, ${expire})
      ON CONFLICT (limiter_key) DO UPDATE SET
        points = CASE WHEN ${reset} THEN excluded.points ELSE ${t}.points + excluded.points END,
        expire = CASE WHEN ${reset} THEN excluded.expire ELSE ${t}.expire END
      RETURNING points, expire`.execute(this.#db());
    const row = result.rows[0]!;
    return { points: toNumber(row.points)!, expire: toNumber(row.expire) };
  }

  /**
   * MySQL/MariaDB have no `RETURNING` on an upsert: one `INSERT … ON DUPLICATE KEY UPDATE`
   * computes the new values and also writes them to session variables, read back on the
   * same (pinned) connection. Inputs and invariant as above: the statement is atomic under
   * the row lock, and the variables hold what *this* statement wrote (the VALUES list sets
   * them on the insert path, the UPDATE list on the duplicate path), whatever other
   * sessions do. In the UPDATE list `points` is assigned before `expire`, so both tests
   * read the old `expire`.
   */
  async #upsertMysql(
    key: string,
    points: number,
    expire: number | null,
    now: number,
    force: boolean,
  ): Promise<Row> {
    const t = sql.table(this.#table);
    const reset = sql`(expire <= ${now} OR ${sql.raw(force ? '1=1' : '1=0')})`;
    return this.#db()
      .connection()
      .execute(async (conn) => {
        await sql`
        INSERT INTO ${t} (limiter_key, points, expire)
        VALUES (${key}, (@keel_rl_points := ${points}), (@keel_rl_expire := ${expire}))
        ON DUPLICATE KEY UPDATE
          points = (@keel_rl_points := IF(${reset}, ${points}, points + ${points})),
          expire = (@keel_rl_expire := IF(${reset}, ${expire}, expire))`.execute(conn);
        const result = await sql<Row>`
        SELECT @keel_rl_points AS points, @keel_rl_expire AS expire`.execute(conn);
        const row = result.rows[0]!;
        return { points: toNumber(row.points)!, expire: toNumber(row.expire) };
      });
  }

  async _get(key: string): Promise<Row | null> {
    const row = await this.#db()
      .selectFrom(this.#table)
      .select(['points', 'expire'])
      .where('limiter_key', '=', key)
      .where((eb) => eb.or([eb('expire', '>', Date.now()), eb('expire', 'is', null)]))
      .executeTakeFirst();
    if (!row) return null;
    return { points: toNumber(row.points)!, expire: toNumber(row.expire) };
  }

  async _delete(key: string): Promise<boolean> {
    const result = await this.#db()
      .deleteFrom(this.#table)
      .where('limiter_key', '=', key)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
