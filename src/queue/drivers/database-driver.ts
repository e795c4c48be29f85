import { randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AnyDatabase, Connection } from '../../db/index.js';
import { isKeelError } from '../../support/index.js';
import type {
  BatchRecord,
  ClaimedJob,
  FailedJob,
  JobLease,
  JobRecord,
  QueueDriver,
  QueueStats,
} from '../driver.js';
import {
  FAILED_JOBS_TABLE,
  JOB_BATCHES_TABLE,
  JOBS_TABLE,
} from '../migrations/create-queue-tables.js';
import { PgJobListener } from './database-listener.js';
import {
  assertArgument,
  assertAvailableAt,
  assertBatch,
  assertClaim,
  assertJobLease,
  assertLease,
  assertQueues,
  assertRecord,
  type BatchRow,
  batchCallbacks,
  decodeRow,
  type FailedRow,
  failedPage,
  failedRow,
  failedToRecord,
  type JobRow,
  recordToRow,
  rowToBatch,
  rowToClaimed,
  rowToFailed,
} from './database-records.js';

export interface DatabaseQueueDriverOptions {
  connection: Connection;
  /** The clock (epoch ms); jobs' `availableAt` are compared with it. Default `Date.now`. */
  now?: () => number;
  /** Bytes a record's payload and chain may take together; default 8 MiB. */
  maxRecordBytes?: number;
  /** PostgreSQL NOTIFY channel; default `keel_queue`. */
  channel?: string;
}

const jobs = sql.table(JOBS_TABLE);
/** Completions per grouped DELETE (two bound values each, far below every dialect's limit). */
const COMPLETION_GROUP = 500;
const failedJobs = sql.table(FAILED_JOBS_TABLE);
const batches = sql.table(JOB_BATCHES_TABLE);
const CHUNK = 200;

/** Thrown inside completeWithin's transaction to roll it back when the lease was lost. */
class FencedOut extends Error {}

/**
 * The `database` queue driver: `jobs`, `failed_jobs` and `job_batches` on SQLite,
 * PostgreSQL or MySQL/MariaDB. It moves records and knows nothing of job classes.
 *
 * Claiming is one atomic statement per batch of jobs (PostgreSQL `UPDATE … WHERE id IN
 * (SELECT … FOR UPDATE SKIP LOCKED) RETURNING *`; MySQL a short transaction that selects
 * `FOR UPDATE SKIP LOCKED` then updates; SQLite the same UPDATE … RETURNING, whose write
 * transaction is SQLite's single writer lock). Every claim increments the job's `fence`,
 * and every later change names it (`WHERE id = ? AND fence = ? AND lease_until > 0`), so a
 * worker whose lease was taken over changes nothing. Settling a job (complete, fail) is one
 * transaction that first bumps the fence (locking the row), then moves the row and updates
 * its batch, chain and parent. Statements join the ambient transaction of the connection:
 * a job dispatched inside `db().transaction()` is queued only if that transaction commits.
 *
 * @example
 * ```ts
 * const driver = new DatabaseQueueDriver({ connection: app.make('db').connection() });
 * await driver.enqueue([record]);
 * const [job] = await driver.claim(['default'], 1, 'worker-1', 60_000);
 * if (job) await driver.complete(job);
 * ```
 */
export class DatabaseQueueDriver implements QueueDriver {
  readonly name = 'database';
  readonly #connection: Connection;
  readonly #now: () => number;
  readonly #maxRecordBytes: number;
  readonly #channel: string;
  readonly #waiters = new Set<{ queues: ReadonlySet<string>; wake: () => void }>();
  #listener: PgJobListener | undefined;
  #closed = false;
  /** Completions waiting for this turn's grouped DELETE (see #deletePlain). */
  readonly #completions: Array<{
    lease: JobLease;
    resolve: (deleted: boolean) => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(options: DatabaseQueueDriverOptions) {
    this.#connection = options.connection;
    this.#now = options.now ?? Date.now;
    this.#maxRecordBytes = options.maxRecordBytes ?? 8 * 1024 * 1024;
    this.#channel = options.channel ?? 'keel_queue';
    assertArgument(
      /^[a-z_][a-z0-9_]{0,62}$/.test(this.#channel),
      'channel',
      'a lower-case SQL identifier',
      this.#channel,
    );
  }

  get #db(): Kysely<AnyDatabase> {
    return this.#connection.db;
  }

  get #dialect(): 'sqlite' | 'postgres' | 'mysql' {
    return this.#connection.dialect;
  }

  async enqueue(records: readonly JobRecord[], batch?: BatchRecord): Promise<string[]> {
    assertArgument(Array.isArray(records), 'records', 'a list of job records', records);
    for (const record of records) assertRecord(record, this.#maxRecordBytes);
    if (batch !== undefined) assertBatch(batch);
    if (records.length === 0 && batch === undefined) return [];
    if (
      this.#dialect === 'postgres' &&
      batch === undefined &&
      records.length <= CHUNK &&
      records.every(isPlain)
    )
      return this.#insertPlainPg(records);
    return this.#transaction(async () => {
      const stored = await this.#insert(records);
      if (batch !== undefined) {
        const skipped = records.filter(
          (r) => r.batchId === batch.id && !stored.includes(r.id),
        ).length;
        await this.#db
          .insertInto(JOB_BATCHES_TABLE)
          .values({
            id: batch.id,
            name: batch.name,
            total: Math.max(0, batch.total - skipped),
            pending: Math.max(0, batch.pending - skipped),
            failed: 0,
            cancelled_at: null,
            finished_at: null,
            created_at: batch.createdAt,
            callbacks: batch.callbacks,
          })
          .execute();
      }
      return stored;
    });
  }

  /**
   * PostgreSQL, plain records (no unique key, parent or batch): one INSERT stores them and
   * notifies their queues, instead of BEGIN, INSERT, NOTIFY and COMMIT (four round trips
   * before a waiting worker could hear of the job). The statement is atomic on its own, and
   * its NOTIFY is delivered when it commits (with the caller's transaction, inside one).
   */
  async #insertPlainPg(records: readonly JobRecord[]): Promise<string[]> {
    // PostgreSQL delivers one notification per channel and payload per transaction, however
    // many rows call pg_notify with it.
    await this.#db
      .insertInto(JOBS_TABLE)
      .values(records.map((r) => recordToRow(r)))
      .returning(sql`pg_notify(${this.#channel}, queue)`.as('notified'))
      .execute();
    const queues = [...new Set(records.map((r) => r.queue))];
    await this.#connection.afterCommit(() => this.#wake(queues));
    return records.map((r) => r.id);
  }

  /**
   * Insert records inside the current transaction: plain ones in multi-row statements,
   * unique ones one by one (a key held by a live job skips the record), then count each
   * stored child on its parent. Resolves to the ids stored.
   */
  async #insert(
    records: readonly JobRecord[],
    fences?: ReadonlyMap<string, number>,
  ): Promise<string[]> {
    const now = this.#now();
    const stored: string[] = [];
    const plain = records.filter((r) => r.uniqueKey === undefined);
    for (let i = 0; i < plain.length; i += CHUNK) {
      const chunk = plain.slice(i, i + CHUNK);
      await this.#db
        .insertInto(JOBS_TABLE)
        .values(chunk.map((r) => recordToRow(r, fences?.get(r.id) ?? 0)))
        .execute();
    }
    const ids = new Set(plain.map((r) => r.id));
    for (const record of records) {
      if (record.uniqueKey === undefined) continue;
      if (await this.#insertUnique(record, now)) ids.add(record.id);
    }
    for (const record of records) if (ids.has(record.id)) stored.push(record.id);
    const children = new Map<string, number>();
    for (const record of records)
      if (record.parentId !== undefined && ids.has(record.id))
        children.set(record.parentId, (children.get(record.parentId) ?? 0) + 1);
    for (const [parent, count] of children)
      await sql`UPDATE ${jobs} SET pending_children = pending_children + ${count}
        WHERE id = ${parent} AND lease_until = 0`.execute(this.#db);
    await this.#notify(records.filter((r) => ids.has(r.id)).map((r) => r.queue));
    return stored;
  }

  /**
   * One unique record. Correct under concurrency through the unique index on unique_key:
   * an expired holder's key is cleared first, then the insert does nothing on a conflict
   * (a concurrent inserter of the same key waits on the index entry until the first
   * transaction ends, then sees the conflict).
   */
  async #insertUnique(record: JobRecord, now: number): Promise<boolean> {
    const key = record.uniqueKey as string;
    await sql`UPDATE ${jobs} SET unique_key = NULL
      WHERE unique_key = ${key} AND unique_until IS NOT NULL AND unique_until <= ${now}`.execute(
      this.#db,
    );
    const row = recordToRow(record);
    if (this.#dialect === 'mysql') {
      await this.#db
        .insertInto(JOBS_TABLE)
        .values(row)
        .onDuplicateKeyUpdate({ unique_key: sql`unique_key` })
        .execute();
      // ON DUPLICATE KEY's affected-row count is ambiguous (FOUND_ROWS): look for our row.
      const found =
        await sql`SELECT id FROM ${jobs} WHERE id = ${record.id} AND unique_key = ${key}`.execute(
          this.#db,
        );
      return found.rows.length > 0;
    }
    const inserted = await this.#db
      .insertInto(JOBS_TABLE)
      .values(row)
      .onConflict((oc) => oc.column('unique_key').doNothing())
      .returning('id')
      .execute();
    return inserted.length > 0;
  }

  async claim(
    queues: readonly string[],
    limit: number,
    workerId: string,
    leaseMs: number,
  ): Promise<ClaimedJob[]> {
    assertClaim(queues, limit, workerId, leaseMs);
    const now = this.#now();
    const set = sql`attempt = attempt + 1, fence = fence + 1,
      lease_until = ${now + leaseMs}, worker_id = ${workerId}`;
    let rows: JobRow[];
    if (this.#dialect === 'mysql') {
      // MySQL cannot UPDATE … RETURNING, nor update a table its own subquery reads: a short
      // transaction locks the candidates (skipping rows other claimers hold), then updates.
      const candidates = sql`SELECT id FROM ${jobs}
        WHERE queue IN (${sql.join(queues)})
          AND ((lease_until = 0 AND available_at <= ${now} AND pending_children = 0)
            OR (lease_until > 0 AND lease_until <= ${now}))
        ORDER BY ${queueOrder(queues)}priority DESC, available_at, id
        LIMIT ${sql.lit(limit)}`;
      rows = await this.#transaction(async () => {
        const db = this.#db;
        const locked = await sql<{ id: string }>`${candidates} FOR UPDATE SKIP LOCKED`.execute(db);
        const ids = locked.rows.map((r) => r.id);
        if (ids.length === 0) return [];
        await sql`UPDATE ${jobs} SET ${set} WHERE id IN (${sql.join(ids)})`.execute(db);
        return (await sql<JobRow>`SELECT * FROM ${jobs} WHERE id IN (${sql.join(ids)})`.execute(db))
          .rows;
      });
    } else {
      rows = (
        await sql<JobRow>`UPDATE ${jobs} SET ${set}
          WHERE id IN (${this.#candidates(queues, limit, now)}) RETURNING *`.execute(this.#db)
      ).rows;
    }
    const position = new Map(queues.map((q, i) => [q, i]));
    return (await this.#decodeClaimed(rows)).sort(
      (a, b) =>
        (position.get(a.queue) ?? 0) - (position.get(b.queue) ?? 0) ||
        b.priority - a.priority ||
        a.availableAt - b.availableAt ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  /**
   * The ids a claim takes (PostgreSQL, SQLite): per queue, its free jobs read in the claim
   * index's order (priority, age, id; see createClaimIndex) up to `limit`, plus the expired
   * leases (a range of the same index), merged in the order of `queues`, then priority, age
   * and id. Each part reads at most `limit` rows off the index, whatever the backlog; one
   * query ordering the whole backlog by an OR of both conditions sorted it on every claim.
   * PostgreSQL locks each part's rows with SKIP LOCKED, so concurrent claimers take
   * different jobs.
   */
  #candidates(queues: readonly string[], limit: number, now: number): RawBuilder<unknown> {
    const lock = this.#dialect === 'postgres' ? sql` FOR UPDATE SKIP LOCKED` : sql``;
    const top = sql.lit(limit);
    const order = sql`ORDER BY priority DESC, available_at, id LIMIT ${top}${lock}`;
    const free = queues.map(
      (queue, rank) => sql`SELECT * FROM (SELECT id, ${sql.lit(rank)} AS queue_rank, priority,
          available_at FROM ${jobs}
        WHERE queue = ${queue} AND lease_until = 0 AND available_at <= ${now}
          AND pending_children = 0
        ${order}) AS ${sql.id(`free_${rank}`)}`,
    );
    const rank =
      queues.length === 1
        ? sql.lit(0)
        : sql`CASE queue ${sql.join(
            queues.map((q, i) => sql`WHEN ${q} THEN ${sql.lit(i)}`),
            sql` `,
          )} END`;
    const expired = sql`SELECT * FROM (SELECT id, ${rank} AS queue_rank, priority,
        available_at FROM ${jobs}
      WHERE lease_until > 0 AND lease_until <= ${now} AND queue IN (${sql.join(queues)})
      ${order}) AS expired`;
    return sql`SELECT id FROM (${sql.join([...free, expired], sql` UNION ALL `)}) AS candidates
      ORDER BY queue_rank, priority DESC, available_at, id LIMIT ${top}`;
  }

  /**
   * The claimed rows as jobs. The claim has committed by now, so a row that cannot be read
   * (a `meta`, `backoff` or `chain` column that is not Keel's JSON) must not throw: that
   * would leave the whole batch leased until its leases expire, and claim it again the same
   * way. Such a row goes to failed_jobs (E_QUEUE_MALFORMED_PAYLOAD); the others are returned.
   */
  async #decodeClaimed(rows: readonly JobRow[]): Promise<ClaimedJob[]> {
    const claimed: ClaimedJob[] = [];
    for (const row of rows) {
      try {
        claimed.push(rowToClaimed(row));
      } catch (error) {
        if (!isKeelError(error, 'E_QUEUE_MALFORMED_PAYLOAD')) throw error;
        const lease = { id: decodeRow(row).id, fence: Number(row.fence) };
        // If even that fails (the database went away), the row keeps its lease and is
        // claimed, and failed, again once the lease expires; the good rows still run.
        await this.fail(lease, `${error.code}: ${error.message}`).catch(() => false);
      }
    }
    return claimed;
  }

  async heartbeat(lease: JobLease, leaseMs: number): Promise<boolean> {
    assertLease(leaseMs);
    return this.#fenced(lease, sql`lease_until = ${this.#now() + leaseMs}`);
  }

  async complete(lease: JobLease): Promise<boolean> {
    assertJobLease(lease);
    // The common job has no chain, parent or batch: its completion is one fenced DELETE,
    // no transaction (five round trips became one; bench/queue). A job with any of those,
    // or one fenced out, changes no row here and takes the full path, which tells them apart.
    if (await this.#deletePlain(lease)) return true;
    return this.#transaction(() => this.#settle(lease, undefined));
  }

  /**
   * The fast path of complete(). Outside a transaction, completions arriving in the same
   * turn of the event loop (a worker's slots finishing together) share one DELETE …
   * RETURNING: one commit, so one WAL flush, for the group instead of one each. MySQL has
   * no DELETE … RETURNING (to tell which rows went), and a caller inside a transaction must
   * stay in it: both delete their row alone.
   */
  #deletePlain(lease: JobLease): Promise<boolean> {
    if (this.#dialect === 'mysql' || this.#connection.inTransaction) {
      return sql`DELETE FROM ${jobs}
        WHERE id = ${lease.id} AND fence = ${lease.fence} AND lease_until > 0
          AND chain IS NULL AND parent_id IS NULL AND batch_id IS NULL`
        .execute(this.#db)
        .then((done) => Number(done.numAffectedRows ?? 0) > 0);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#completions.push({ lease, resolve, reject });
      if (this.#completions.length === 1) setImmediate(() => this.#flushCompletions());
    });
  }

  /** Delete the pending group's rows, at most 500 per statement; each caller learns its own. */
  #flushCompletions(): void {
    const group = this.#completions.splice(0);
    for (let i = 0; i < group.length; i += COMPLETION_GROUP) {
      const chunk = group.slice(i, i + COMPLETION_GROUP);
      // Inputs: (id, fence) pairs of leases this worker holds. Invariant: a row goes only if
      // its fence still matches (no other worker took it over) and it has nothing to settle
      // (chain, parent, batch); RETURNING says which went, the others take the full path.
      const pairs = sql.join(chunk.map(({ lease }) => sql`(${lease.id}, ${lease.fence})`));
      sql<{ id: string }>`DELETE FROM ${jobs}
        WHERE (id, fence) IN (${pairs}) AND lease_until > 0
          AND chain IS NULL AND parent_id IS NULL AND batch_id IS NULL
        RETURNING id`
        .execute(this.#connection.kysely)
        .then(
          (result) => {
            const deleted = new Set(result.rows.map((row) => String(row.id)));
            for (const pending of chunk) pending.resolve(deleted.has(pending.lease.id));
          },
          (error: unknown) => {
            for (const pending of chunk) pending.reject(error);
          },
        );
    }
  }

  async fail(lease: JobLease, error: string): Promise<boolean> {
    return this.#transaction(() => this.#settle(lease, String(error)));
  }

  async retry(lease: JobLease, availableAt: number, error: string): Promise<boolean> {
    assertAvailableAt(availableAt);
    return this.#fenced(
      lease,
      sql`lease_until = 0, worker_id = NULL, available_at = ${availableAt}, last_error = ${String(error)}`,
    );
  }

  async release(lease: JobLease, availableAt?: number): Promise<boolean> {
    if (availableAt === undefined)
      return this.#fenced(lease, sql`lease_until = 0, worker_id = NULL, attempt = attempt - 1`);
    assertAvailableAt(availableAt);
    return this.#fenced(
      lease,
      sql`lease_until = 0, worker_id = NULL, attempt = attempt - 1, available_at = ${availableAt}`,
    );
  }

  /** One fenced UPDATE of a held job; wakes local waiters when it made the job available. */
  async #fenced(lease: JobLease, set: RawBuilder<unknown>): Promise<boolean> {
    assertJobLease(lease);
    const result = await sql`UPDATE ${jobs} SET ${set}
      WHERE id = ${lease.id} AND fence = ${lease.fence} AND lease_until > 0`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async completeWithin<T>(
    lease: JobLease,
    work: () => Promise<T>,
  ): Promise<{ completed: boolean; result?: T }> {
    assertJobLease(lease);
    try {
      const result = await this.#connection.transaction(async () => {
        // SQLite: take the write lock before the work reads anything (BEGIN IMMEDIATE's
        // effect), so its writes cannot fail on a snapshot another process moved past.
        if (this.#dialect === 'sqlite')
          await sql`UPDATE ${jobs} SET fence = fence WHERE 1 = 0`.execute(this.#db);
        const value = await work();
        if (!(await this.#settle(lease, undefined))) throw new FencedOut();
        return value;
      });
      return { completed: true, result };
    } catch (error) {
      if (error instanceof FencedOut) return { completed: false };
      throw error;
    }
  }

  /**
   * Complete (`error` undefined) or fail a held job inside the current transaction. The
   * first statement bumps the fence: it locks the row (and on SQLite takes the write lock)
   * and matches nothing once another claim took the job.
   */
  async #settle(lease: JobLease, error: string | undefined): Promise<boolean> {
    assertJobLease(lease);
    const db = this.#db;
    const bumped = await sql`UPDATE ${jobs} SET fence = fence + 1
      WHERE id = ${lease.id} AND fence = ${lease.fence} AND lease_until > 0`.execute(db);
    if (Number(bumped.numAffectedRows ?? 0) === 0) return false;
    const found = (await sql<JobRow>`SELECT * FROM ${jobs} WHERE id = ${lease.id}`.execute(db))
      .rows[0];
    if (!found) return false;
    const row = decodeRow(found);
    await sql`DELETE FROM ${jobs} WHERE id = ${lease.id}`.execute(db);
    const now = this.#now();
    if (error === undefined) {
      if (row.chain !== null) {
        const [next, ...rest] = JSON.parse(row.chain) as JobRecord[];
        if (next)
          await this.#insert([
            {
              ...withoutChain(next),
              availableAt: Math.max(next.availableAt, now),
              ...(rest.length > 0 ? { chain: rest } : {}),
            },
          ]);
      }
      if (row.parent_id !== null) await this.#releaseParent(row.parent_id, now);
    } else {
      await db
        .insertInto(FAILED_JOBS_TABLE)
        .values(failedRow(row, randomUUID(), error, now))
        .execute();
    }
    if (row.batch_id !== null) await this.#countBatch(row.batch_id, error !== undefined, now);
    return true;
  }

  async #releaseParent(parentId: string, now: number): Promise<void> {
    await sql`UPDATE ${jobs} SET pending_children = pending_children - 1
      WHERE id = ${parentId} AND pending_children > 0`.execute(this.#db);
    // Due now once its last child is done, so it queues behind jobs that were ready before.
    const released = await sql`UPDATE ${jobs} SET available_at = ${now}
      WHERE id = ${parentId} AND pending_children = 0 AND lease_until = 0
        AND available_at < ${now}`.execute(this.#db);
    if (Number(released.numAffectedRows ?? 0) > 0) {
      const parent = await sql<{
        queue: string;
      }>`SELECT queue FROM ${jobs} WHERE id = ${parentId}`.execute(this.#db);
      await this.#notify(parent.rows.map((r) => decodeRow(r).queue));
    }
  }

  /** A batch job ran for good: count it, and dispatch the batch's callbacks it triggers. */
  async #countBatch(batchId: string, failed: boolean, now: number): Promise<void> {
    const db = this.#db;
    await sql`UPDATE ${batches} SET pending = pending - 1${failed ? sql`, failed = failed + 1` : sql``}
      WHERE id = ${batchId} AND pending > 0`.execute(db);
    const row = (await sql<BatchRow>`SELECT * FROM ${batches} WHERE id = ${batchId}`.execute(db))
      .rows[0];
    if (!row) return;
    const batch = rowToBatch(row);
    const callbacks: JobRecord[] = [];
    const live = batch.cancelledAt === null;
    if (failed && batch.failed === 1 && live)
      callbacks.push(...batchCallbacks(batch.callbacks, 'catch'));
    if (batch.pending === 0 && batch.finishedAt === null) {
      await sql`UPDATE ${batches} SET finished_at = ${now} WHERE id = ${batchId}`.execute(db);
      if (live && batch.failed === 0) callbacks.push(...batchCallbacks(batch.callbacks, 'then'));
      if (live) callbacks.push(...batchCallbacks(batch.callbacks, 'finally'));
    }
    // Fresh ids: a batch finishing again after a retry dispatches its callbacks again.
    if (callbacks.length > 0)
      await this.#insert(callbacks.map((c) => ({ ...c, id: randomUUID(), availableAt: now })));
  }

  async waitForJobs(
    queues: readonly string[],
    maxWaitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    assertQueues(queues);
    assertArgument(
      Number.isFinite(maxWaitMs) && maxWaitMs >= 0,
      'maxWaitMs',
      'a duration in ms',
      maxWaitMs,
    );
    if (signal.aborted || this.#closed) return;
    // The waiter is registered before anything is awaited: a job enqueued by this process
    // meanwhile wakes it.
    const woken = new Promise<void>((resolve) => {
      const waiter = { queues: new Set(queues), wake: () => done() };
      const timer = setTimeout(() => done(), maxWaitMs);
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiters.delete(waiter);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(waiter);
    });
    if (this.#dialect === 'postgres') {
      this.#listener ??= new PgJobListener(this.#connection, this.#channel, (queue) =>
        this.#wake(queue === undefined ? undefined : [queue]),
      );
      // A listener that cannot connect leaves the worker polling; it retries next time.
      // Its connect and LISTEN are time-bounded, so a start that hangs (a server at its
      // connection limit, a session killed mid-handshake) cannot hold the worker for good.
      await this.#listener.start().catch(() => undefined);
    }
    await woken;
  }

  /** Wake the waiters on any of `queues` (all of them when undefined). */
  #wake(queues: readonly string[] | undefined): void {
    for (const waiter of [...this.#waiters])
      if (queues === undefined || queues.some((q) => waiter.queues.has(q))) waiter.wake();
  }

  /**
   * Tell waiting workers that `queues` got jobs, once the current transaction commits:
   * this process's waiters directly, other processes by PostgreSQL NOTIFY (delivered on
   * commit, dropped on rollback).
   */
  async #notify(queues: readonly string[]): Promise<void> {
    const unique = [...new Set(queues)];
    if (unique.length === 0) return;
    if (this.#dialect === 'postgres')
      for (const queue of unique)
        await sql`SELECT pg_notify(${this.#channel}, ${queue})`.execute(this.#db);
    await this.#connection.afterCommit(() => this.#wake(unique));
  }

  async stats(queues?: readonly string[]): Promise<QueueStats[]> {
    if (queues !== undefined) assertQueues(queues);
    const now = this.#now();
    const filter = queues === undefined ? sql`` : sql`WHERE queue IN (${sql.join(queues)})`;
    const claimable = sql`((lease_until = 0 AND available_at <= ${now} AND pending_children = 0)
      OR (lease_until > 0 AND lease_until <= ${now}))`;
    const counts = await sql<{
      queue: string;
      total: unknown;
      running: unknown;
      ready: unknown;
      oldest: unknown;
    }>`
      SELECT queue, COUNT(*) AS total,
        SUM(CASE WHEN lease_until > ${now} THEN 1 ELSE 0 END) AS running,
        SUM(CASE WHEN ${claimable} THEN 1 ELSE 0 END) AS ready,
        MIN(CASE WHEN ${claimable} THEN available_at ELSE NULL END) AS oldest
      FROM ${jobs} ${filter} GROUP BY queue`.execute(this.#db);
    const failed = await sql<{ queue: string; failed: unknown }>`
      SELECT queue, COUNT(*) AS failed FROM ${failedJobs} ${filter} GROUP BY queue`.execute(
      this.#db,
    );
    const countRows = counts.rows.map(decodeRow);
    const failedRows = failed.rows.map(decodeRow);
    const names = queues ?? [...new Set([...countRows, ...failedRows].map((r) => r.queue))].sort();
    return names.map((queue) => {
      const c = countRows.find((r) => r.queue === queue);
      const total = Number(c?.total ?? 0);
      const running = Number(c?.running ?? 0);
      const ready = Number(c?.ready ?? 0);
      const oldest = c?.oldest === null || c?.oldest === undefined ? null : Number(c.oldest);
      return {
        queue,
        waiting: total - running,
        ready,
        delayed: total - running - ready,
        running,
        oldestAgeMs: oldest === null ? 0 : Math.max(0, now - oldest),
        failed: Number(failedRows.find((r) => r.queue === queue)?.failed ?? 0),
      };
    });
  }

  async failed(
    options: { queue?: string; limit?: number; offset?: number } = {},
  ): Promise<FailedJob[]> {
    const { limit, offset } = failedPage(options);
    if (options.queue !== undefined) assertQueues([options.queue]);
    const where = options.queue === undefined ? sql`` : sql`WHERE queue = ${options.queue}`;
    const rows = await sql<FailedRow>`SELECT * FROM ${failedJobs} ${where}
      ORDER BY failed_at DESC, id LIMIT ${sql.lit(limit)} OFFSET ${sql.lit(offset)}`.execute(
      this.#db,
    );
    return rows.rows.map(rowToFailed);
  }

  async retryFailed(ids: readonly string[] | 'all'): Promise<number> {
    if (ids !== 'all')
      assertArgument(
        Array.isArray(ids) && ids.every((id) => typeof id === 'string'),
        'ids',
        "a list of failed job ids or 'all'",
        ids,
      );
    let total = 0;
    for (let i = 0; ; i += CHUNK) {
      const chunk = ids === 'all' ? undefined : ids.slice(i, i + CHUNK);
      if (chunk !== undefined && chunk.length === 0) return total;
      const moved = await this.#transaction(async () => {
        const db = this.#db;
        await this.#writeLock();
        const where = chunk === undefined ? sql`` : sql`WHERE id IN (${sql.join(chunk)})`;
        const rows = (
          await sql<FailedRow>`SELECT * FROM ${failedJobs} ${where}
            ORDER BY failed_at, id LIMIT ${sql.lit(CHUNK)}`.execute(db)
        ).rows;
        if (rows.length === 0) return 0;
        const now = this.#now();
        const restored = rows.map((row) => failedToRecord(row, now));
        await sql`DELETE FROM ${failedJobs} WHERE id IN (${sql.join(rows.map((r) => r.id))})`.execute(
          db,
        );
        await this.#insert(
          restored.map((r) => r.record),
          new Map(restored.map((r) => [r.record.id, r.fence])),
        );
        for (const { record } of restored)
          if (record.batchId !== undefined)
            await sql`UPDATE ${batches} SET pending = pending + 1, failed = failed - 1, finished_at = NULL
              WHERE id = ${record.batchId} AND failed > 0`.execute(db);
        return rows.length;
      });
      total += moved;
      if (ids === 'all' && moved < CHUNK) return total;
    }
  }

  async forgetFailed(id: string): Promise<boolean> {
    const result = await sql`DELETE FROM ${failedJobs} WHERE id = ${String(id)}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /** Delete failed jobs; with `olderThan` (ms), only those that failed longer ago than that. */
  async flushFailed(olderThan?: number): Promise<number> {
    if (olderThan !== undefined)
      assertArgument(
        Number.isFinite(olderThan) && olderThan >= 0,
        'olderThan',
        'a duration in ms',
        olderThan,
      );
    const where =
      olderThan === undefined ? sql`` : sql`WHERE failed_at < ${this.#now() - olderThan}`;
    const result = await sql`DELETE FROM ${failedJobs} ${where}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0);
  }

  async clear(queue: string): Promise<number> {
    assertQueues([queue]);
    const result = await sql`DELETE FROM ${jobs}
      WHERE queue = ${queue} AND lease_until <= ${this.#now()}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0);
  }

  async batch(id: string): Promise<BatchRecord | undefined> {
    const row = (
      await sql<BatchRow>`SELECT * FROM ${batches} WHERE id = ${String(id)}`.execute(this.#db)
    ).rows[0];
    return row ? rowToBatch(row) : undefined;
  }

  /**
   * Mark the batch cancelled and delete its jobs not yet claimed (running ones finish);
   * no callback runs for a cancelled batch.
   */
  async cancelBatch(id: string): Promise<void> {
    await this.#transaction(async () => {
      const db = this.#db;
      const now = this.#now();
      const marked = await sql`UPDATE ${batches} SET cancelled_at = ${now}
        WHERE id = ${String(id)} AND cancelled_at IS NULL`.execute(db);
      if (Number(marked.numAffectedRows ?? 0) === 0) return;
      const deleted =
        await sql`DELETE FROM ${jobs} WHERE batch_id = ${id} AND lease_until = 0`.execute(db);
      const n = Number(deleted.numAffectedRows ?? 0);
      await sql`UPDATE ${batches} SET pending = CASE WHEN pending > ${n} THEN pending - ${n} ELSE 0 END
        WHERE id = ${id}`.execute(db);
      await sql`UPDATE ${batches} SET finished_at = ${now}
        WHERE id = ${id} AND pending = 0 AND finished_at IS NULL`.execute(db);
    });
  }

  async prune(before: number): Promise<{ batches: number; failed: number }> {
    assertArgument(Number.isSafeInteger(before), 'before', 'epoch milliseconds', before);
    return this.#transaction(async () => {
      const db = this.#db;
      const b = await sql`DELETE FROM ${batches}
        WHERE finished_at IS NOT NULL AND finished_at < ${before}`.execute(db);
      const f = await sql`DELETE FROM ${failedJobs} WHERE failed_at < ${before}`.execute(db);
      return { batches: Number(b.numAffectedRows ?? 0), failed: Number(f.numAffectedRows ?? 0) };
    });
  }

  /**
   * A transaction of the driver's own. On MySQL it runs READ COMMITTED, which takes no gap
   * locks on searches (REPEATABLE READ's gap locks deadlock concurrent inserts of unique
   * keys). A deadlock or serialization failure rolls the whole transaction back, so it is
   * run again (up to 5 times) — unless it is nested in the caller's transaction, which the
   * database rolled back too: then the caller sees the error.
   */
  async #transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#connection.inTransaction) return this.#connection.transaction(fn);
    const options = this.#dialect === 'mysql' ? { isolationLevel: 'read committed' as const } : {};
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#connection.transaction(fn, options);
      } catch (error) {
        if (attempt >= 5 || !isRetryable(error)) throw error;
      }
    }
  }

  /** SQLite: take the write lock first in a transaction that reads before it writes. */
  async #writeLock(): Promise<void> {
    if (this.#dialect === 'sqlite')
      await sql`UPDATE ${jobs} SET fence = fence WHERE 1 = 0`.execute(this.#db);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake(undefined);
    await this.#listener?.close();
    this.#listener = undefined;
  }
}

/** A deadlock (MySQL 1213, PostgreSQL 40P01) or serialization failure (40001). */
function isRetryable(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    i++
  ) {
    if (
      e.errno === 1213 ||
      e.code === 'ER_LOCK_DEADLOCK' ||
      e.code === '40P01' ||
      e.code === '40001'
    )
      return true;
    e = e.cause as typeof e;
  }
  return false;
}

function withoutChain(record: JobRecord): JobRecord {
  const { chain: _chain, ...rest } = record;
  return rest;
}

/** Queue preference as a leading sort key (none for one queue): its position in `queues`. */
function queueOrder(queues: readonly string[]): RawBuilder<unknown> {
  if (queues.length === 1) return sql``;
  return sql`CASE queue ${sql.join(
    queues.map((q, i) => sql`WHEN ${q} THEN ${sql.lit(i)}`),
    sql` `,
  )} END, `;
}

/** A record with nothing to settle at insert: no unique key, parent or batch. */
function isPlain(record: JobRecord): boolean {
  return (
    record.uniqueKey === undefined && record.parentId === undefined && record.batchId === undefined
  );
}
