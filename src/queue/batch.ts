import { randomUUID } from 'node:crypto';
import type { JobDispatcher, PendingDispatch } from './dispatcher.js';
import type { BatchRecord, JobRecord, QueueDriver } from './driver.js';
import { E_QUEUE_INVALID_JOB } from './errors.js';
import { Job } from './job.js';

/** A job, or a dispatch configured with `onQueue`/`delay`/… (not yet awaited). */
export type Dispatchable = Job | PendingDispatch;

/** The meta key a batch's then/catch/finally jobs carry their batch id in. */
export const BATCH_META_KEY = 'keelBatchId';

/**
 * A batch's progress, as `queue.findBatch(id)` and `ctx.batch()` read it from `job_batches`.
 * A snapshot: `refresh()` reads it again.
 *
 * @example
 * ```ts
 * const batch = await queue.findBatch(id);
 * console.log(`${batch?.progress}% done, ${batch?.failed} failed`);
 * if (batch && !batch.finished) await batch.cancel();
 * ```
 */
export class Batch {
  readonly #driver: QueueDriver;
  #record: BatchRecord;

  constructor(record: BatchRecord, driver: QueueDriver) {
    this.#record = record;
    this.#driver = driver;
  }

  get id(): string {
    return this.#record.id;
  }
  get name(): string {
    return this.#record.name;
  }
  /** Jobs in the batch (unique jobs dropped at dispatch are not counted). */
  get total(): number {
    return this.#record.total;
  }
  /** Jobs not yet run for good (neither completed nor failed for good). */
  get pending(): number {
    return this.#record.pending;
  }
  get failed(): number {
    return this.#record.failed;
  }
  /** Jobs run for good: completed or failed. */
  get processed(): number {
    return this.#record.total - this.#record.pending;
  }
  /** Whole percent of the jobs run for good (100 for an empty batch). */
  get progress(): number {
    const { total } = this.#record;
    return total === 0 ? 100 : Math.floor((this.processed / total) * 100);
  }
  /** Every job ran (or the batch was cancelled and its running jobs finished). */
  get finished(): boolean {
    return this.#record.finishedAt !== null;
  }
  get cancelled(): boolean {
    return this.#record.cancelledAt !== null;
  }
  get createdAt(): Date {
    return new Date(this.#record.createdAt);
  }
  get finishedAt(): Date | undefined {
    const at = this.#record.finishedAt;
    return at === null ? undefined : new Date(at);
  }
  get cancelledAt(): Date | undefined {
    const at = this.#record.cancelledAt;
    return at === null ? undefined : new Date(at);
  }

  /**
   * Cancel: its jobs not yet claimed are deleted, running ones finish (a handler checks
   * `(await ctx.batch())?.cancelled` to stop early), no then/catch/finally job runs.
   */
  async cancel(): Promise<void> {
    await this.#driver.cancelBatch(this.#record.id);
    await this.refresh();
  }

  /** Read the counters again. */
  async refresh(): Promise<this> {
    const record = await this.#driver.batch(this.#record.id);
    if (record !== undefined) this.#record = record;
    return this;
  }

  /** The counters as plain data (for JSON output). */
  toJSON() {
    return {
      id: this.id,
      name: this.name,
      total: this.total,
      pending: this.pending,
      failed: this.failed,
      processed: this.processed,
      progress: this.progress,
      finished: this.finished,
      cancelled: this.cancelled,
      createdAt: this.#record.createdAt,
      finishedAt: this.#record.finishedAt,
      cancelledAt: this.#record.cancelledAt,
    };
  }
}

/**
 * A batch being configured: `queue.batch([...jobs])`, then `name`, `then`, `catch`,
 * `finally`, `onQueue`, and `dispatch()`. Dispatching is atomic: every job and the
 * `job_batches` row, or nothing. `then` jobs run once every job completed, `catch` jobs on
 * the first failure (a job failed for good, after its tries), `finally` jobs once every job
 * ran; none runs for a cancelled batch. Those jobs find the batch with `ctx.batch()`.
 *
 * It is not a promise: `then` takes a job. Await `dispatch()`.
 *
 * @example
 * ```ts
 * const batch = await queue
 *   .batch(rows.map((row) => new ImportRow({ row })))
 *   .name('import')
 *   .then(new ImportDone({ file }))
 *   .catch(new ImportFailed({ file }))
 *   .finally(new CleanUp({ file }))
 *   .dispatch();
 * console.log(batch.id, batch.total);
 * ```
 */
export class PendingBatch {
  readonly #dispatcher: JobDispatcher;
  readonly #driver: () => QueueDriver | Promise<QueueDriver>;
  readonly #jobs: readonly Dispatchable[];
  // A Map, not an object: an object with a `then` key is a thenable.
  readonly #callbacks = new Map<'then' | 'catch' | 'finally', Dispatchable[]>();
  #name = '';
  #queue: string | undefined;

  constructor(
    dispatcher: JobDispatcher,
    driver: () => QueueDriver | Promise<QueueDriver>,
    jobs: readonly Dispatchable[],
  ) {
    if (!Array.isArray(jobs))
      throw new E_QUEUE_INVALID_JOB('(batch)', 'queue.batch() takes a list of jobs');
    this.#dispatcher = dispatcher;
    this.#driver = driver;
    this.#jobs = jobs;
  }

  /** A name for listings and logs (at most 255 characters). */
  name(name: string): this {
    this.#name = name;
    return this;
  }

  /** The queue of every job of the batch that names none at dispatch. */
  onQueue(queue: string): this {
    this.#queue = queue;
    return this;
  }

  /** Dispatched once every job of the batch completed (none failed). */
  // A builder method named like the batch callbacks of Laravel and the issue; not a thenable
  // (awaiting the builder fails loudly in #callback, which refuses functions).
  // biome-ignore lint/suspicious/noThenProperty: see above.
  then(job: Dispatchable): this {
    return this.#callback('then', job);
  }

  /** Dispatched when the first job of the batch fails for good. */
  catch(job: Dispatchable): this {
    return this.#callback('catch', job);
  }

  /** Dispatched once every job of the batch ran, completed or failed. */
  finally(job: Dispatchable): this {
    return this.#callback('finally', job);
  }

  /** Queue every job and the batch row atomically; resolves to the batch. */
  async dispatch(): Promise<Batch> {
    const id = randomUUID();
    const records = this.#jobs.map((job) => this.#record(job, { batchId: id }));
    const callbacks: Record<string, JobRecord[]> = {};
    for (const [kind, jobs] of this.#callbacks)
      callbacks[kind] = jobs.map((job) => {
        const record = this.#record(job, {});
        return { ...record, meta: { ...record.meta, [BATCH_META_KEY]: id } };
      });
    const batch: BatchRecord = {
      id,
      name: this.#name,
      total: records.length,
      pending: records.length,
      failed: 0,
      cancelledAt: null,
      finishedAt: null,
      createdAt: Date.now(),
      callbacks: Object.keys(callbacks).length === 0 ? '' : JSON.stringify(callbacks),
    };
    const driver = await this.#driver();
    await this.#dispatcher.enqueue(records, batch);
    const stored = await driver.batch(id);
    return new Batch(stored ?? batch, driver);
  }

  #callback(kind: 'then' | 'catch' | 'finally', job: Dispatchable): this {
    if (!(job instanceof Job) && !isPending(job))
      throw new E_QUEUE_INVALID_JOB(
        '(batch)',
        `batch().${kind}() takes a job instance; dispatch the batch with .dispatch() (it is not a promise)`,
      );
    this.#callbacks.set(kind, [...(this.#callbacks.get(kind) ?? []), job]);
    return this;
  }

  #record(job: Dispatchable, extra: Partial<JobRecord>): JobRecord {
    if (!(job instanceof Job) && !isPending(job))
      throw new E_QUEUE_INVALID_JOB('(batch)', `expected a job instance, got ${typeof job}`);
    const record = isPending(job)
      ? job.toRecord()
      : this.#dispatcher.toRecord(job, this.#queue === undefined ? {} : { queue: this.#queue }, {});
    return { ...record, ...extra };
  }
}

/** A PendingDispatch (checked structurally: this file imports the class as a type only). */
export function isPending(job: unknown): job is PendingDispatch {
  return (
    typeof job === 'object' &&
    job !== null &&
    !(job instanceof Job) &&
    typeof (job as { toRecord?: unknown }).toRecord === 'function'
  );
}
