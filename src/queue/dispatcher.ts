import { createHash } from 'node:crypto';
import { hasKeys } from '../support/object.js';
import { uuid } from '../support/uuid.js';
import { durationMs, resolveBackoff } from './backoff.js';
import type { BatchRecord, JobRecord, QueueDriver } from './driver.js';
import { E_QUEUE_INVALID_JOB } from './errors.js';
import { type Duration, type Job, type JobClass, type JobOptions, jobNameOf } from './job.js';
import type { JobRegistry } from './job-registry.js';

/** The largest payload accepted, as JSON text (default 1 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface DispatcherOptions {
  /** The driver records go to (it may still be loading). */
  driver: () => QueueDriver | Promise<QueueDriver>;
  /** Runs after each enqueue (the `sync` connection runs the jobs there). */
  afterEnqueue?: () => Promise<void>;
  registry: JobRegistry;
  /** The queue of jobs that name none (default `default`). */
  defaultQueue?: string;
  /** The dispatcher's context (request id, trace parent) copied into every job it sends. */
  meta?: () => Record<string, string> | undefined;
  maxPayloadBytes?: number;
  now?: () => number;
  /**
   * The database connection whose ambient transaction `afterCommit()` dispatches wait for
   * (undefined when the app has no database: they dispatch at once).
   */
  transactions?: () => AfterCommitConnection | undefined;
}

/** What `afterCommit()` needs of a database connection (`Connection` has both). */
export interface AfterCommitConnection {
  readonly inTransaction: boolean;
  afterCommit(callback: () => unknown): Promise<void>;
}

/**
 * A dispatch being configured: chain `onQueue`, `delay`, `priority`, `tries`, then await it
 * (it is a thenable); it resolves to the job's id, or undefined when a unique job with the
 * same key was already queued.
 *
 * @example
 * ```ts
 * const id = await dispatch(new SendInvoice({ orderId })).onQueue('high').delay('5m');
 * ```
 */
export class PendingDispatch implements PromiseLike<string | undefined> {
  readonly #dispatcher: JobDispatcher;
  readonly #job: Job;
  readonly #options: JobOptions = {};
  #meta: Record<string, string> = {};
  #afterCommit = false;

  constructor(dispatcher: JobDispatcher, job: Job) {
    this.#dispatcher = dispatcher;
    this.#job = job;
  }

  onQueue(queue: string): this {
    this.#options.queue = queue;
    return this;
  }

  delay(delay: Duration): this {
    this.#options.delay = delay;
    return this;
  }

  priority(priority: number): this {
    this.#options.priority = priority;
    return this;
  }

  tries(tries: number): this {
    this.#options.tries = tries;
    return this;
  }

  /**
   * Queue the job only once the ambient database transaction commits, never if it rolls
   * back; outside a transaction it is queued at once. The job is checked now; awaiting
   * resolves to the id it will have (queued at commit; a commit-time failure is logged).
   *
   * @example
   * ```ts
   * await db().transaction(async () => {
   *   const order = await orders.create(input);
   *   await dispatch(new SendInvoice({ orderId: order.id })).afterCommit();
   * });
   * ```
   */
  afterCommit(): this {
    this.#afterCommit = true;
    return this;
  }

  /** Extra context for the job's logs (request id, trace parent, ...). */
  withMeta(meta: Record<string, string>): this {
    this.#meta = { ...this.#meta, ...meta };
    return this;
  }

  /** The record this dispatch stores (built now; for drivers, chains and batches). */
  toRecord(): JobRecord {
    return this.#dispatcher.toRecord(this.#job, this.#options, this.#meta);
  }

  // A thenable on purpose: `await dispatch(job).delay('5m')` sends it.
  // biome-ignore lint/suspicious/noThenProperty: see above.
  then<R1 = string | undefined, R2 = never>(
    onFulfilled?: ((value: string | undefined) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    return this.#send().then(onFulfilled, onRejected);
  }

  async #send(): Promise<string | undefined> {
    const record = this.toRecord();
    if (this.#afterCommit) {
      const connection = this.#dispatcher.transactions();
      if (connection?.inTransaction) {
        await connection.afterCommit(() => this.#dispatcher.enqueue([record]));
        return record.id;
      }
    }
    const [id] = await this.#dispatcher.enqueue([record]);
    return id;
  }
}

/**
 * Turns job instances into records and hands them to the driver: `app.make('queue')`'s
 * dispatching half. Validation happens here, at dispatch, so a bad job fails in the code
 * that sent it: an unregistered class, a payload JSON cannot carry, one over the size limit.
 */
export class JobDispatcher {
  readonly #options: DispatcherOptions;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  /** Hand records (and a batch's row) to the driver, all or none; resolves to the ids stored. */
  async enqueue(records: readonly JobRecord[], batch?: BatchRecord): Promise<string[]> {
    const driver = await this.#options.driver();
    const ids = await driver.enqueue(records, batch);
    await this.#options.afterEnqueue?.();
    return ids;
  }

  /** The connection `afterCommit()` dispatches wait on, if the app has a database. */
  transactions(): AfterCommitConnection | undefined {
    return this.#options.transactions?.();
  }

  /**
   * Queue `job` once the ambient database transaction commits (at once outside one).
   *
   * @example
   * ```ts
   * await queue.dispatchAfterCommit(new SendInvoice({ orderId }));
   * ```
   */
  dispatchAfterCommit(job: Job): PendingDispatch {
    return new PendingDispatch(this, job).afterCommit();
  }

  /**
   * Queue `job`; configure the returned dispatch, then await it.
   *
   * @example
   * ```ts
   * await queue.dispatch(new ReindexProduct({ sku }));
   * ```
   */
  dispatch(job: Job): PendingDispatch {
    return new PendingDispatch(this, job);
  }

  /**
   * Queue several jobs atomically: all of them or none.
   *
   * @example
   * ```ts
   * await queue.dispatchMany(orders.map((o) => new SendInvoice({ orderId: o.id })));
   * ```
   */
  async dispatchMany(jobs: readonly (Job | PendingDispatch)[]): Promise<string[]> {
    const records = jobs.map((job) =>
      job instanceof PendingDispatch ? job.toRecord() : this.toRecord(job, {}, {}),
    );
    return this.enqueue(records);
  }

  /** The record for `job` with `overrides` over its class options. */
  toRecord(job: Job, overrides: JobOptions, meta: Record<string, string>): JobRecord {
    const type = job.constructor as JobClass;
    const name = jobNameOf(type);
    if (!this.#options.registry.has(name))
      throw new E_QUEUE_INVALID_JOB(name, 'its class is not registered (queue.register(JobClass))');
    // Most dispatches override nothing: the class's options are read as they are.
    const options: JobOptions = hasKeys(overrides)
      ? { ...type.options, ...overrides }
      : (type.options ?? NO_OPTIONS);
    const payload = this.#payload(name, job.payload);
    const now = (this.#options.now ?? Date.now)();
    const tries = options.tries ?? 1;
    if (!Number.isInteger(tries) || tries < 1)
      throw new E_QUEUE_INVALID_JOB(name, `tries must be a positive integer, got ${String(tries)}`);
    const retryUntil =
      options.retryUntil === undefined
        ? 0
        : options.retryUntil instanceof Date
          ? options.retryUntil.getTime()
          : now + durationMs(options.retryUntil);
    const backoff = resolveBackoff(options.backoff);
    const unique = options.uniqueFor !== undefined;
    // Every field written out, absent ones as undefined: one object shape per record, and
    // no spread (which V8 copies through a slow path).
    const record: JobRecord = {
      id: uuid(),
      name,
      queue: options.queue ?? this.#options.defaultQueue ?? 'default',
      payload,
      priority: options.priority ?? 0,
      availableAt: now + (options.delay === undefined ? 0 : durationMs(options.delay)),
      maxAttempts: tries,
      retryUntil,
      timeoutMs: options.timeout === undefined ? 0 : durationMs(options.timeout),
      backoffMs: backoff.backoffMs,
      backoffExponential: backoff.backoffExponential,
      uniqueKey: unique
        ? (options.uniqueKey ??
          `${name}:${createHash('sha256').update(payload).digest('base64url')}`)
        : undefined,
      uniqueUntil: unique ? now + durationMs(options.uniqueFor as Duration) : undefined,
      batchId: undefined,
      chain: undefined,
      parentId: undefined,
      pendingChildren: undefined,
      meta: { ...this.#options.meta?.(), ...meta },
      createdAt: now,
    };
    return record;
  }

  #payload(name: string, payload: unknown): string {
    let text: string | undefined;
    try {
      text = JSON.stringify(payload ?? null);
    } catch (error) {
      throw new E_QUEUE_INVALID_JOB(name, `its payload is not JSON: ${(error as Error).message}`);
    }
    if (text === undefined) throw new E_QUEUE_INVALID_JOB(name, 'its payload is not JSON');
    const limit = this.#options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (text.length > limit / 3 && Buffer.byteLength(text) > limit)
      throw new E_QUEUE_INVALID_JOB(
        name,
        `its payload is ${Buffer.byteLength(text)} bytes, over the limit of ${limit}: store the data and pass its id`,
      );
    return text;
  }
}

const NO_OPTIONS: JobOptions = Object.freeze({});
