/**
 * The contract between Keel's queue (dispatch, workers, commands) and a storage driver:
 * `database` (the `jobs`, `failed_jobs`, `job_batches` tables), `redis` (BullMQ), `sync`.
 * One conformance suite (`queue-driver.contract.ts`) runs on every driver.
 *
 * Times are epoch milliseconds. Payloads travel as JSON text: the driver never parses
 * them, so a malformed payload reaches the worker, which fails the job with a clear error
 * instead of crashing.
 */

/** A job as dispatched: everything a worker needs to run it, retry it or give up on it. */
export interface JobRecord {
  /** A UUID given at dispatch. */
  readonly id: string;
  /** The registered job name (`orders:send-invoice`). */
  readonly name: string;
  readonly queue: string;
  /** The payload as JSON text. */
  readonly payload: string;
  /** Higher runs first among jobs available at the same time (default 0). */
  readonly priority: number;
  /** Not claimed before this time (delay). */
  readonly availableAt: number;
  /** Attempts allowed in total (tries); 1 = no retry. */
  readonly maxAttempts: number;
  /** After this time no retry is made (retryUntil); 0 = none. */
  readonly retryUntil: number;
  /** The handler's time limit per attempt in ms; 0 = none. */
  readonly timeoutMs: number;
  /** Backoff before retry n (1-based): a list of ms, the last repeating. */
  readonly backoffMs: readonly number[];
  /** Whether backoff grows exponentially with jitter from backoffMs[0]. */
  readonly backoffExponential: boolean;
  /** Unique jobs: a second dispatch with the same key before `uniqueUntil` is dropped. */
  readonly uniqueKey?: string;
  readonly uniqueUntil?: number;
  /** The batch this job belongs to. */
  readonly batchId?: string;
  /** A chain: the records dispatched, in order, once this one completes. */
  readonly chain?: readonly JobRecord[];
  /** Parent/child: the parent's id; the parent becomes available once its children are done. */
  readonly parentId?: string;
  /** Children not yet completed (parents only), set by the driver. */
  readonly pendingChildren?: number;
  /** The dispatcher's request id and trace context, carried into the job's logs. */
  readonly meta: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

/** A job a worker holds: its attempt, its lease and the fencing token of this attempt. */
export interface ClaimedJob extends JobRecord {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Increases with every claim of this job. Every later change (heartbeat, complete, retry,
   * fail, release) names it, and changes nothing once another claim took the job: a worker
   * whose lease expired cannot complete, fail or retry the job any more.
   */
  readonly fence: number;
  readonly leaseUntil: number;
  readonly workerId: string;
}

/** Which attempt of which job a change is about. */
export interface JobLease {
  readonly id: string;
  readonly fence: number;
}

/** A row of `failed_jobs`. */
export interface FailedJob {
  readonly id: string;
  readonly jobId: string;
  readonly name: string;
  readonly queue: string;
  readonly payload: string;
  readonly attempts: number;
  /** The last error: class, message and stack, as text. */
  readonly error: string;
  readonly failedAt: number;
  readonly meta: Readonly<Record<string, string>>;
}

/** A batch's counters (`job_batches`). */
export interface BatchRecord {
  readonly id: string;
  readonly name: string;
  readonly total: number;
  readonly pending: number;
  readonly failed: number;
  readonly cancelledAt: number | null;
  readonly finishedAt: number | null;
  readonly createdAt: number;
  /** Serialized then/catch/finally jobs (JobRecord JSON), run by the worker that finishes it. */
  readonly callbacks: string;
}

/** Backlog of one queue, for `queue:monitor` and autoscaling. */
export interface QueueStats {
  readonly queue: string;
  /** Jobs waiting to be claimed (available now or delayed). */
  readonly waiting: number;
  /** Of those, available now. */
  readonly ready: number;
  readonly delayed: number;
  /** Claimed, lease not expired. */
  readonly running: number;
  /** Age in ms of the oldest job available now (0 when none). */
  readonly oldestAgeMs: number;
  readonly failed: number;
}

/** What a transactional completion runs inside: the driver's transaction, fenced. */
export type Fenced<T> = (work: () => Promise<T>) => Promise<T>;

export interface QueueDriver {
  /** `database`, `redis`, `sync`. */
  readonly name: string;
  /**
   * Store `records` atomically (all or none): a batch's jobs and its row together. Unique
   * jobs whose key is taken are skipped; resolves to the ids stored.
   */
  enqueue(records: readonly JobRecord[], batch?: BatchRecord): Promise<string[]>;
  /**
   * Claim up to `limit` jobs available now on `queues` (in that order of preference, then
   * priority, then availableAt), including jobs whose lease expired, in one atomic
   * statement per batch; each claim increments the job's attempt and fence.
   */
  claim(
    queues: readonly string[],
    limit: number,
    workerId: string,
    leaseMs: number,
  ): Promise<ClaimedJob[]>;
  /** Extend the lease; false when it was lost (the worker must abandon the job). */
  heartbeat(lease: JobLease, leaseMs: number): Promise<boolean>;
  /** Done: delete the job, count its batch, release its chain and parent; false when fenced out. */
  complete(lease: JobLease): Promise<boolean>;
  /** Make it available again at `availableAt` (a retry); false when fenced out. */
  retry(lease: JobLease, availableAt: number, error: string): Promise<boolean>;
  /** Move it to failed_jobs with `error`, count its batch; false when fenced out. */
  fail(lease: JobLease, error: string): Promise<boolean>;
  /**
   * Give it back unstarted, this attempt not counted: available now (shutdown), or at
   * `availableAt` (job middleware that found a rate limit reached or a lock held).
   */
  release(lease: JobLease, availableAt?: number): Promise<boolean>;
  /**
   * Run `work` and complete the job in one database transaction: when the lease was lost
   * the completion changes no row, the transaction rolls back, and so do the handler's
   * writes. Drivers without transactions leave it undefined.
   */
  completeWithin?<T>(
    lease: JobLease,
    work: () => Promise<T>,
  ): Promise<{ completed: boolean; result?: T }>;
  /** Resolve when jobs may have arrived on `queues` (LISTEN/NOTIFY), or after `maxWaitMs`. */
  waitForJobs?(queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void>;
  /**
   * The worker `workerId` claims no more: give back whatever the driver holds ahead for it
   * (the Redis driver fetches a worker's next job while completing one).
   */
  workerStopped?(workerId: string): Promise<void>;

  stats(queues?: readonly string[]): Promise<QueueStats[]>;
  failed(options?: { queue?: string; limit?: number; offset?: number }): Promise<FailedJob[]>;
  /** Put failed jobs back on their queue (fresh attempts); resolves to how many. */
  retryFailed(ids: readonly string[] | 'all'): Promise<number>;
  forgetFailed(id: string): Promise<boolean>;
  /** Delete failed jobs, all or those that failed more than `olderThan` ms ago. */
  flushFailed(olderThan?: number): Promise<number>;
  /** Delete every waiting job of `queue`; resolves to how many. */
  clear(queue: string): Promise<number>;
  batch(id: string): Promise<BatchRecord | undefined>;
  cancelBatch(id: string): Promise<void>;
  /** Delete finished batches and failed jobs older than `before`. */
  prune(before: number): Promise<{ batches: number; failed: number }>;
  close(): Promise<void>;
}
