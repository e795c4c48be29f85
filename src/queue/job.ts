import type { Logger } from '../kernel/logger.js';
import type { Awaitable } from '../support/index.js';
import type { Batch } from './batch.js';
import type { JobMiddleware } from './job-middleware.js';

/** A duration: milliseconds as a number, or a string (`'5m'`, `'30s'`). */
export type Duration = number | string;

/** How long to wait before retry n: fixed, exponential with jitter, or a list (the last repeats). */
export type Backoff =
  | Duration
  | { type: 'fixed'; delay: Duration }
  | { type: 'exponential'; delay: Duration }
  | readonly Duration[];

/** Options a job class declares (`static options`) and a dispatch may override. */
export interface JobOptions {
  /** The queue (default `default`). */
  queue?: string;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Not before this long after dispatch. */
  delay?: Duration;
  /** Attempts in total (default 1: no retry). */
  tries?: number;
  backoff?: Backoff;
  /** Each attempt's time limit: the handler's `ctx.signal` aborts, then the attempt fails. */
  timeout?: Duration;
  /** No retry after this moment (a Date, or a duration after dispatch). */
  retryUntil?: Date | Duration;
  /** A unique job: another dispatch with the same key within this long is dropped. */
  uniqueFor?: Duration;
  /** The unique key (default: the job name and its payload). */
  uniqueKey?: string;
  /**
   * Run the handler and the job's completion in one database transaction (database driver):
   * a worker that lost its lease commits nothing.
   */
  transactional?: boolean;
}

/** What a handler receives. */
export interface JobContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Aborted on timeout, on a lost lease, and on a forced worker shutdown. */
  readonly signal: AbortSignal;
  /** The worker's logger with the job id, name and the dispatcher's request id bound. */
  readonly logger: Logger;
  /** The dispatcher's request id, if it was dispatched during a request. */
  readonly requestId: string | undefined;
  /** The batch the job belongs to (or, for a batch's then/catch/finally job, reports on). */
  readonly batchId: string | undefined;
  /**
   * That batch's progress, read now: `(await ctx.batch())?.cancelled` lets a long job of a
   * cancelled batch stop early. Undefined outside a batch (or once the batch was pruned).
   */
  batch(): Promise<Batch | undefined>;
}

/**
 * A job: a class with a typed payload and `handle(ctx)`. Its name (`static jobName`,
 * default the class name) is what the queue stores; the worker finds the class again by
 * that name in the app's job registry (modules' `jobs/` folders and `app.make('queue')
 * .register()`).
 *
 * @example
 * ```ts
 * export class SendInvoice extends Job<{ orderId: number }> {
 *   static override jobName = 'orders:send-invoice';
 *   static override options = { queue: 'invoices', tries: 5, backoff: { type: 'exponential', delay: '10s' } };
 *   async handle(ctx: JobContext) {
 *     await invoices.send(this.payload.orderId, { signal: ctx.signal });
 *   }
 * }
 * await dispatch(new SendInvoice({ orderId: 42 })).delay('5m');
 * ```
 */
export abstract class Job<P = unknown> {
  /** The stored name; default: the class name. Give one that survives minification and renames. */
  static jobName?: string;
  static options: JobOptions = {};
  /**
   * Run by the worker around `handle`, the first listed outermost: `rateLimited(...)`,
   * `withoutOverlapping(...)` or your own {@link JobMiddleware}. A middleware may release the
   * job back to its queue for later instead of running it (that attempt does not count).
   *
   * @example
   * ```ts
   * class SyncCustomer extends Job<{ id: number }> {
   *   static override middleware = [
   *     rateLimited({ key: 'crm-api', max: 10, per: '1s' }),
   *     withoutOverlapping({ key: (job) => `customer:${(job as SyncCustomer).payload.id}` }),
   *   ];
   *   async handle() {}
   * }
   * ```
   */
  static middleware: readonly JobMiddleware[] = [];

  constructor(readonly payload: P) {}

  abstract handle(ctx: JobContext): Awaitable<void>;

  /** Called once the last attempt failed (or an UnrecoverableError was thrown). */
  failed?(error: unknown, ctx: JobContext): Awaitable<void>;
}

/**
 * A job class, as the registry holds it. The payload is `any` here on purpose: a registry
 * holds classes of every payload type, and the worker builds them from parsed JSON.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above.
export type JobClass<P = any> = (new (
  payload: P,
) => Job<P>) & {
  jobName?: string;
  options: JobOptions;
  middleware?: readonly JobMiddleware[];
};

/** The name a job class is stored under. */
export function jobNameOf(job: JobClass): string {
  return job.jobName ?? job.name;
}

/**
 * Throw it from a handler to fail the job at once, without the retries it has left.
 *
 * @example
 * ```ts
 * if (!order) throw new UnrecoverableError(`order ${id} does not exist`);
 * ```
 */
export class UnrecoverableError extends Error {
  override readonly name = 'UnrecoverableError';
}
