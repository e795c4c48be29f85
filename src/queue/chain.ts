import { type Dispatchable, isPending } from './batch.js';
import type { JobDispatcher } from './dispatcher.js';
import type { JobRecord } from './driver.js';
import { E_QUEUE_INVALID_JOB } from './errors.js';
import { Job } from './job.js';

/**
 * Chains and flows: jobs that wait for other jobs.
 *
 * A chain runs its jobs one after the other, each only once the previous one completed;
 * a job that fails for good stops the chain (retrying it from `failed_jobs` carries the
 * chain on). The first job is queued at dispatch and carries the rest (`JobRecord.chain`).
 *
 * A flow is a parent and its children (as BullMQ's flows): the children are queued at
 * once, the parent becomes available when the last child completed. A child that fails
 * for good holds the parent back until it is retried and completes.
 */

/**
 * A chain being configured: `queue.chain([a, b, c])`, then `onQueue` and `dispatch()`.
 *
 * @example
 * ```ts
 * await queue.chain([new ChargeCard({ orderId }), new ShipOrder({ orderId }), new SendReceipt({ orderId })]).dispatch();
 * ```
 */
export class PendingChain {
  readonly #dispatcher: JobDispatcher;
  readonly #jobs: readonly Dispatchable[];
  #queue: string | undefined;

  constructor(dispatcher: JobDispatcher, jobs: readonly Dispatchable[]) {
    if (!Array.isArray(jobs) || jobs.length === 0)
      throw new E_QUEUE_INVALID_JOB('(chain)', 'queue.chain() takes a non-empty list of jobs');
    this.#dispatcher = dispatcher;
    this.#jobs = jobs;
  }

  /** The queue of every job of the chain that names none at dispatch. */
  onQueue(queue: string): this {
    this.#queue = queue;
    return this;
  }

  /** Queue the first job carrying the rest; resolves to the ids of the jobs, in order. */
  async dispatch(): Promise<string[]> {
    const records = this.#jobs.map((job) => recordOf(this.#dispatcher, job, this.#queue));
    const [first, ...rest] = records as [JobRecord, ...JobRecord[]];
    await this.#dispatcher.enqueue([rest.length > 0 ? { ...first, chain: rest } : first]);
    return records.map((r) => r.id);
  }
}

/** What `queue.flow()` queued. */
export interface DispatchedFlow {
  readonly parentId: string;
  readonly childIds: readonly string[];
}

/**
 * Queue `parent` and its `children` atomically; the parent runs once every child completed.
 *
 * @example
 * ```ts
 * await queue.flow(new PublishReport({ id }), [new RenderChart({ id, n: 1 }), new RenderChart({ id, n: 2 })]);
 * ```
 */
export async function dispatchFlow(
  dispatcher: JobDispatcher,
  parent: Dispatchable,
  children: readonly Dispatchable[],
): Promise<DispatchedFlow> {
  if (!Array.isArray(children))
    throw new E_QUEUE_INVALID_JOB('(flow)', 'queue.flow() takes a parent and a list of children');
  const head = recordOf(dispatcher, parent, undefined);
  const kids = children.map((child) => ({
    ...recordOf(dispatcher, child, undefined),
    parentId: head.id,
  }));
  // The parent first: the driver counts each stored child on a parent already stored.
  await dispatcher.enqueue([head, ...kids]);
  return { parentId: head.id, childIds: kids.map((k) => k.id) };
}

function recordOf(dispatcher: JobDispatcher, job: Dispatchable, queue: string | undefined) {
  if (isPending(job)) return job.toRecord();
  if (!(job instanceof Job))
    throw new E_QUEUE_INVALID_JOB('(chain)', `expected a job instance, got ${typeof job}`);
  return dispatcher.toRecord(job, queue === undefined ? {} : { queue }, {});
}
