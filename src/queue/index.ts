import type { PendingDispatch } from './dispatcher.js';
import type { Job } from './job.js';
import type { QueueManager } from './queue-manager.js';

export {
  AUTOSCALE_DEFAULTS,
  crashBackoffMs,
  decideScale,
} from './autoscale-decision.js';
export { backoffDelay, durationMs, resolveBackoff } from './backoff.js';
export { Batch, type Dispatchable, PendingBatch } from './batch.js';
export { type DispatchedFlow, PendingChain } from './chain.js';
export {
  defineQueueConfig,
  type QueueConfig,
  type QueueConfigInput,
  queueConfigSchema,
  resolveQueueConfig,
} from './config.js';
export {
  type AfterCommitConnection,
  DEFAULT_MAX_PAYLOAD_BYTES,
  JobDispatcher,
  PendingDispatch,
} from './dispatcher.js';
export type {
  BatchRecord,
  ClaimedJob,
  FailedJob,
  JobLease,
  JobRecord,
  QueueDriver,
  QueueStats,
} from './driver.js';
export { MemoryQueueDriver } from './drivers/memory-driver.js';
export * from './errors.js';
export {
  type Backoff,
  type Duration,
  Job,
  type JobClass,
  type JobContext,
  type JobOptions,
  jobNameOf,
  UnrecoverableError,
} from './job.js';
export type { JobInstrument, JobOutcome, JobOutcomeStatus } from './job-instrument.js';
export {
  composeJobMiddleware,
  type JobMiddleware,
  type JobMiddlewareContext,
  type JobMiddlewareKey,
  type RateLimitedOptions,
  rateLimited,
  type WithoutOverlappingOptions,
  withoutOverlapping,
} from './job-middleware.js';
export { JobRegistry } from './job-registry.js';
export { QueueManager, type QueueManagerOptions, registerQueueDriver } from './queue-manager.js';
export { QueueProvider } from './queue-provider.js';
export * from './schedule/index.js';
export { Worker, type WorkerOptions, type WorkerSummary } from './worker.js';
export {
  DEAD_AFTER_BEATS,
  isDeadWorker,
  MemoryWorkerRegistry,
  type WorkerInfo,
  type WorkerRegistry,
} from './worker-registry.js';

const CURRENT = Symbol.for('keel.queue.currentManager');

/** Make `manager` the one {@link dispatch} sends to (the QueueProvider does at boot). */
export function setCurrentQueue(manager: QueueManager | undefined): void {
  (globalThis as Record<symbol, unknown>)[CURRENT] = manager;
}

/**
 * Queue `job` on the running application's default connection.
 *
 * @example
 * ```ts
 * import { dispatch } from 'keel/queue';
 * await dispatch(new SendInvoice({ orderId })).delay('5m');
 * ```
 */
export function dispatch(job: Job): PendingDispatch {
  const manager = (globalThis as Record<symbol, unknown>)[CURRENT] as QueueManager | undefined;
  if (manager === undefined)
    throw new Error(
      'dispatch(): no application with a queue is running (QueueProvider not booted)',
    );
  return manager.dispatch(job);
}

/**
 * Queue `job` on the running application's default connection once the ambient database
 * transaction commits (dropped on rollback; at once outside a transaction).
 *
 * @example
 * ```ts
 * await db().transaction(async () => {
 *   await orders.insert(order);
 *   await dispatchAfterCommit(new SendInvoice({ orderId: order.id }));
 * });
 * ```
 */
export function dispatchAfterCommit(job: Job): PendingDispatch {
  return dispatch(job).afterCommit();
}
