import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { executionContext } from '../kernel/execution-context.js';
import type { Logger } from '../kernel/logger.js';
import type { LockManager } from '../locks/index.js';
import { abortableWait } from '../support/abortable-wait.js';
import { isThenable } from '../support/thenable.js';
import { backoffDelay, durationMs } from './backoff.js';
import { BATCH_META_KEY, Batch } from './batch.js';
import type { ClaimedJob, QueueDriver } from './driver.js';
import {
  E_QUEUE_JOB_TIMEOUT,
  E_QUEUE_MALFORMED_PAYLOAD,
  E_QUEUE_UNKNOWN_JOB,
  E_QUEUE_WORKER_LOST,
} from './errors.js';
import { type Job, type JobContext, UnrecoverableError } from './job.js';
import type { JobInstrument, JobOutcomeStatus } from './job-instrument.js';
import { composeJobMiddleware, type JobMiddleware } from './job-middleware.js';
import type { JobRegistry } from './job-registry.js';
import { DEFAULT_REGISTRY_BEAT_MS, type WorkerRegistry } from './worker-registry.js';

export interface WorkerOptions {
  driver: QueueDriver;
  registry: JobRegistry;
  logger: Logger;
  /** Queues in order of preference (default `['default']`). */
  queues?: readonly string[];
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /** How long a claim holds a job without a heartbeat (default 60 s). */
  leaseMs?: number;
  /** Heartbeat period (default leaseMs / 3). */
  heartbeatMs?: number;
  /** The longest idle wait before claiming again (default 1 s; LISTEN/NOTIFY wakes sooner). */
  sleepMs?: number;
  /** Stop after this many jobs. */
  maxJobs?: number;
  /** Stop claiming after this long (ms). */
  maxTimeMs?: number;
  /** Stop once no job is available and none runs. */
  stopWhenEmpty?: boolean;
  /** How long stop() lets running jobs finish before aborting and releasing them (default 30 s). */
  shutdownMs?: number;
  now?: () => number;
  /** The worker registry it heartbeats into while it runs (`keel queue:workers`). */
  workers?: WorkerRegistry;
  /** The registry heartbeat period (default 10 s). */
  registryBeatMs?: number;
  /** The app's locks, for job middleware (`rateLimited`, `withoutOverlapping`). */
  locks?: LockManager;
  /** Observers of every attempt (job logs, metrics, tracing); each job runs in its own scope. */
  instruments?: readonly JobInstrument[];
}

/** What a worker did, returned when it stops. */
export interface WorkerSummary {
  processed: number;
  failed: number;
  retried: number;
  /** Attempts abandoned because another worker took the job (lease lost). */
  lost: number;
  released: number;
  /** Attempts job middleware gave back to run later (rate limit reached, lock held). */
  delayed: number;
}

type OptionalOptions =
  | 'instruments'
  | 'maxJobs'
  | 'maxTimeMs'
  | 'heartbeatMs'
  | 'workers'
  | 'registryBeatMs'
  | 'locks';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One attempt a worker runs, and the context its handler receives. The abort signal and
 * the child logger are made on first use: most handlers never read them, and an
 * `AbortController` per attempt was a measurable part of a no-op job's cost.
 */
class Attempt implements JobContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly requestId: string | undefined;
  readonly batchId: string | undefined;
  /** Settles once the attempt and the recording of its outcome are over. */
  done: Promise<void> = RESOLVED;
  /** Another worker took the job (or a shutdown gave it back): record nothing. */
  lost = false;
  /** When the next lease heartbeat is due (performance.now()). */
  beatAt: number;
  /** A heartbeat is on its way: the next waits for its answer. */
  beating = false;
  #aborted = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  /** Rejects the pending handler promise: an abort ends the attempt even if it ignores it. */
  #reject: ((reason: unknown) => void) | undefined;
  #logger: Logger | undefined;

  constructor(
    readonly job: ClaimedJob,
    readonly driver: QueueDriver,
    readonly parentLogger: Logger,
    heartbeatMs: number,
  ) {
    this.id = job.id;
    this.name = job.name;
    this.queue = job.queue;
    this.attempt = job.attempt;
    this.maxAttempts = job.maxAttempts;
    this.requestId = job.meta.requestId;
    this.batchId = job.batchId ?? job.meta[BATCH_META_KEY];
    this.beatAt = performance.now() + heartbeatMs;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * The worker's logger with the job's ids bound, in snake_case as the log mixin writes
   * them inside the job's scope. Made on first use: a child logger serializes its bindings.
   */
  get logger(): Logger {
    this.#logger ??= this.parentLogger.child({
      job_id: this.id,
      job: this.name,
      queue: this.queue,
      attempt: this.attempt,
      ...(this.requestId ? { request_id: this.requestId } : {}),
    });
    return this.#logger;
  }

  batch(): Promise<Batch | undefined> {
    return batchOf(this.batchId, this.driver);
  }

  /** Abort the handler's signal and end the attempt with `reason` (the first one wins). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /** `work`'s outcome, or the abort's reason if that comes first. */
  race(work: Promise<void>): Promise<void> {
    if (this.#aborted) return Promise.reject(this.#reason);
    return new Promise<void>((resolve, reject) => {
      this.#reject = reject;
      work.then(resolve, reject);
    });
  }

  /** After the attempt: a late abort (a heartbeat's answer) has nothing left to end. */
  settle(): void {
    this.#reject = undefined;
  }
}

async function batchOf(
  batchId: string | undefined,
  driver: QueueDriver,
): Promise<Batch | undefined> {
  if (batchId === undefined) return undefined;
  const record = await driver.batch(batchId);
  return record === undefined ? undefined : new Batch(record, driver);
}

const NO_MIDDLEWARE: readonly JobMiddleware[] = [];

/** The handler's promise; a synchronous throw becomes a rejection. */
function invoke(instance: Job, ctx: JobContext): Promise<void> {
  try {
    return Promise.resolve(instance.handle(ctx)) as Promise<void>;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Claims jobs from a driver and runs them, `concurrency` at a time: the engine behind
 * `keel queue:work`. Each attempt heartbeats its lease; a lost lease aborts the handler's
 * signal and the worker touches the job no more (its fence is stale). Failures retry with
 * the job's backoff until its tries or `retryUntil` run out, then land in `failed_jobs`; an
 * unknown job class or a malformed payload fails at once with a clear error, and the
 * worker carries on.
 *
 * @example
 * ```ts
 * const worker = new Worker({ driver, registry, logger, queues: ['high', 'default'], concurrency: 10 });
 * process.once('SIGTERM', () => worker.stop());
 * await worker.run();
 * ```
 */
export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #o: Required<Omit<WorkerOptions, OptionalOptions>> &
    Pick<WorkerOptions, OptionalOptions>;
  readonly #running = new Map<string, Attempt>();
  readonly #summary: WorkerSummary = {
    processed: 0,
    failed: 0,
    retried: 0,
    lost: 0,
    released: 0,
    delayed: 0,
  };
  readonly #stopping = new AbortController();
  #claimed = 0;
  /**
   * Ends the loop's current wait (for a free slot, or for jobs): called when a job finishes
   * and by stop(). Each wait makes its own. Racing a wait with a promise that lives as long
   * as the worker would leave a reaction on that promise per wait, kept until it settles:
   * memory that grows with every job the worker runs, and with every idle poll.
   */
  #wake: (() => void) | undefined;

  constructor(options: WorkerOptions) {
    this.#o = {
      queues: ['default'],
      concurrency: 1,
      leaseMs: 60_000,
      sleepMs: 1000,
      stopWhenEmpty: false,
      shutdownMs: 30_000,
      now: Date.now,
      ...options,
    };
  }

  /** Jobs running now. */
  get active(): number {
    return this.#running.size;
  }

  /** Claim and run until stopped (or a max is reached); resolves with what was done. */
  async run(): Promise<WorkerSummary> {
    const started = this.#o.now();
    const signal = this.#stopping.signal;
    const registered = await this.#register(started);
    const heartbeats = this.#startHeartbeats();
    while (!signal.aborted) {
      if (this.#o.maxTimeMs !== undefined && this.#o.now() - started >= this.#o.maxTimeMs) break;
      if (this.#o.maxJobs !== undefined && this.#claimed >= this.#o.maxJobs) break;
      const free = this.#o.concurrency - this.#running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        // One turn more: the slots that finish together are claimed for in one batch, not
        // one claim (a round trip or a statement) per slot.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const room =
        this.#o.maxJobs === undefined ? free : Math.min(free, this.#o.maxJobs - this.#claimed);
      let jobs: ClaimedJob[] = [];
      try {
        jobs = await this.#o.driver.claim(this.#o.queues, room, this.id, this.#o.leaseMs);
      } catch (error) {
        // A database or Redis outage: log, wait, try again; never exit silently.
        this.#o.logger.error({ err: error, worker: this.id }, 'queue: claiming failed; retrying');
        await this.#idle(signal);
        continue;
      }
      for (const job of jobs) this.#start(job);
      this.#claimed += jobs.length;
      if (jobs.length > 0) continue;
      if (this.#running.size === 0 && this.#o.stopWhenEmpty) break;
      await this.#waitForJobs();
    }
    await this.#drain();
    clearInterval(heartbeats);
    await this.#o.driver
      .workerStopped?.(this.id)
      .catch((error: unknown) =>
        this.#o.logger.warn(
          { err: error, worker: this.id },
          'queue: giving back fetched jobs failed',
        ),
      );
    await this.#unregister(registered);
    return { ...this.#summary };
  }

  /**
   * Stop claiming, let running jobs finish within `shutdownMs`, then abort what still runs
   * and release it for other workers. run() resolves once that is done.
   */
  stop(): void {
    this.#stopping.abort();
    this.#wakeLoop();
  }

  /** Heartbeat into the worker registry until #unregister; registry errors are only logged. */
  async #register(startedAt: number): Promise<NodeJS.Timeout | undefined> {
    const registry = this.#o.workers;
    if (registry === undefined) return undefined;
    const intervalMs = this.#o.registryBeatMs ?? DEFAULT_REGISTRY_BEAT_MS;
    const beat = () =>
      registry
        .beat({
          id: this.id,
          host: hostname(),
          pid: process.pid,
          queues: this.#o.queues,
          startedAt,
          lastSeen: this.#o.now(),
          processed: this.#summary.processed,
          failed: this.#summary.failed,
          intervalMs,
        })
        .catch((error: unknown) =>
          this.#o.logger.warn({ err: error, worker: this.id }, 'queue: registry heartbeat failed'),
        );
    await beat();
    const timer = setInterval(beat, intervalMs);
    timer.unref();
    return timer;
  }

  async #unregister(timer: NodeJS.Timeout | undefined): Promise<void> {
    if (timer === undefined) return;
    clearInterval(timer);
    await this.#o.workers
      ?.remove(this.id)
      .catch((error: unknown) =>
        this.#o.logger.warn({ err: error, worker: this.id }, 'queue: registry removal failed'),
      );
  }

  async #drain(): Promise<void> {
    if (this.#running.size === 0) return;
    const all = Promise.all([...this.#running.values()].map((run) => run.done));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#o.shutdownMs);
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'done') return;
    for (const run of this.#running.values()) {
      run.lost = true; // its result must not be recorded: the job goes back to the queue
      run.abort(new Error('worker shutting down'));
      if (await this.#o.driver.release(run.job).catch(() => false)) this.#summary.released++;
    }
  }

  /** Settle the loop's wait, if it waits. */
  #wakeLoop(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Wait for jobs (the driver's wake-up, or the idle poll), for a job to finish, or stop(). */
  async #waitForJobs(): Promise<void> {
    const wait = new AbortController();
    this.#wake = () => wait.abort();
    try {
      await this.#idle(wait.signal);
    } finally {
      this.#wake = undefined;
    }
  }

  #idle(signal: AbortSignal): Promise<void> {
    const driver = this.#o.driver;
    if (driver.waitForJobs) return driver.waitForJobs(this.#o.queues, this.#o.sleepMs, signal);
    return abortableWait(this.#o.sleepMs, signal);
  }

  get #heartbeatMs(): number {
    return this.#o.heartbeatMs ?? Math.max(1, Math.floor(this.#o.leaseMs / 3));
  }

  /**
   * One timer for the worker's life heartbeats every running attempt whose beat falls due
   * before the next tick (so no two beats of a lease are more than heartbeatMs apart),
   * instead of an interval per attempt.
   */
  #startHeartbeats(): NodeJS.Timeout {
    const tick = Math.max(1, Math.floor(this.#heartbeatMs / 2));
    const timer = setInterval(() => {
      const horizon = performance.now() + tick;
      for (const run of this.#running.values())
        if (!run.beating && run.beatAt <= horizon) this.#heartbeat(run);
    }, tick);
    timer.unref();
    return timer;
  }

  #heartbeat(run: Attempt): void {
    run.beating = true;
    this.#o.driver.heartbeat(run.job, this.#o.leaseMs).then(
      (held) => {
        run.beating = false;
        run.beatAt = performance.now() + this.#heartbeatMs;
        if (held || run.lost) return;
        run.lost = true;
        run.abort(new Error('lease lost: another worker took this job'));
      },
      (error: unknown) => {
        run.beating = false;
        run.logger.warn({ err: error }, 'queue: heartbeat failed');
      },
    );
  }

  #start(job: ClaimedJob): void {
    const run = new Attempt(job, this.#o.driver, this.#o.logger, this.#heartbeatMs);
    this.#running.set(job.id, run);
    run.done = this.#execute(run);
  }

  /** Run an attempt and record its outcome; never rejects. */
  async #execute(run: Attempt): Promise<void> {
    const instruments = this.#o.instruments;
    try {
      if (instruments === undefined || instruments.length === 0) await this.#process(run);
      else await this.#observe(run, instruments);
    } catch (error) {
      // Recording the outcome failed (the database is unreachable: a lost connection, a
      // full disk). The job stays leased and runs again once its lease expires; the
      // worker carries on. Unhandled, this rejection would end run() and the process.
      this.#summary.lost++;
      this.#o.logger.error(
        { err: error, job_id: run.id, job: run.name, worker: this.id },
        'queue: could not record the job outcome; it runs again once its lease expires',
      );
    } finally {
      this.#running.delete(run.id);
      this.#wakeLoop();
    }
  }

  /** Run an attempt in its own execution scope, continuing the dispatching request's. */
  #observe(run: Attempt, instruments: readonly JobInstrument[]): Promise<JobOutcomeStatus> {
    const { job } = run;
    const started = performance.now();
    const scope = executionContext.restore(job.meta, { job_id: job.id });
    return executionContext.run(scope, async () => {
      const states = instruments.map((instrument) => {
        try {
          return instrument.begin?.(job);
        } catch (error) {
          this.#instrumentFailed(instrument, error);
          return undefined;
        }
      });
      let status: JobOutcomeStatus = 'lost';
      let failure: unknown;
      try {
        status = await this.#process(run, (error) => {
          failure = error;
        });
        return status;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        const outcome = { status, durationMs: performance.now() - started, error: failure };
        instruments.forEach((instrument, index) => {
          try {
            instrument.end(job, states[index], outcome);
          } catch (error) {
            this.#instrumentFailed(instrument, error);
          }
        });
      }
    });
  }

  #instrumentFailed(instrument: JobInstrument, error: unknown): void {
    this.#o.logger.error({ err: error }, `queue: job instrument "${instrument.name}" failed`);
  }

  async #process(run: Attempt, onError?: (error: unknown) => void): Promise<JobOutcomeStatus> {
    const { job, driver } = run;
    let timeout: NodeJS.Timeout | undefined;
    /** The handler succeeded: an error from here on is about recording it, not the job. */
    let succeeded = false;
    /** Set when job middleware released the job instead of running it: when it is due again. */
    let releaseAt: number | undefined;
    /** The handler (past every middleware) started: release() is too late from then on. */
    let started = false;
    try {
      const instance = this.#instantiate(job);
      if (job.timeoutMs > 0)
        timeout = setTimeout(
          () => run.abort(new E_QUEUE_JOB_TIMEOUT(job.name, job.timeoutMs)),
          job.timeoutMs,
        );
      const type = instance.constructor as {
        options?: { transactional?: boolean };
        middleware?: readonly JobMiddleware[];
      };
      const transactional = type.options?.transactional === true && driver.completeWithin;
      const middleware = type.middleware ?? NO_MIDDLEWARE;
      if (!transactional && middleware.length === 0) {
        // The common job: the handler alone. One that returns no promise is done already
        // and has nothing for an abort to end.
        const pending = instance.handle(run);
        if (isThenable(pending)) await run.race(Promise.resolve(pending));
      } else {
        const handle = (): Promise<void> =>
          transactional
            ? driver.completeWithin!(job, () => invoke(instance, run)).then(({ completed }) => {
                if (!completed) run.lost = true;
              })
            : invoke(instance, run);
        // Job middleware wraps the handler and, for a transactional job, its transaction
        // too: a middleware's waits (locks) never hold a database transaction open.
        await run.race(
          middleware.length === 0
            ? handle()
            : composeJobMiddleware(
                middleware,
                {
                  job: instance,
                  context: run,
                  payload: job.payload,
                  locks: this.#o.locks,
                  now: this.#o.now,
                  release: (delay) => {
                    if (started) throw new Error('job middleware: release() after next()');
                    releaseAt = this.#o.now() + Math.ceil(durationMs(delay));
                  },
                },
                async () => {
                  if (releaseAt !== undefined)
                    throw new Error('job middleware: next() after release()');
                  started = true;
                  await handle();
                },
              ),
        );
      }
      succeeded = true;
      if (run.lost) {
        this.#summary.lost++;
        return 'lost';
      }
      if (releaseAt !== undefined && !started) {
        // Given back by middleware before it ran: uncounted, due again at releaseAt.
        const released = await driver.release(job, releaseAt);
        if (released) this.#summary.delayed++;
        else this.#summary.lost++;
        run.logger.debug({ availableAt: new Date(releaseAt).toISOString() }, 'queue: job released');
        return released ? 'delayed' : 'lost';
      }
      if (!transactional && !(await driver.complete(job))) {
        this.#summary.lost++;
        return 'lost';
      }
      this.#summary.processed++;
      return 'completed';
    } catch (error) {
      onError?.(error);
      if (run.lost) {
        this.#summary.lost++;
        return 'lost';
      }
      // complete() threw (connection lost): whether it committed is unknown. Treating it
      // as the job's failure would spend a try, or put a job that did its work in
      // failed_jobs; leave it to its lease instead (at least once: it may run again).
      if (succeeded) throw error;
      return await this.#failed(run, error);
    } finally {
      run.settle();
      clearTimeout(timeout);
    }
  }

  /** The job instance for a claimed record; unknown names and bad payloads fail for good. */
  #instantiate(job: ClaimedJob): Job {
    // Reclaimed after a lost worker on its last try: it has no attempt left to run.
    if (job.attempt > job.maxAttempts)
      throw new UnrecoverableJobError(new E_QUEUE_WORKER_LOST(job.name, job.attempt - 1));
    const type = this.#o.registry.get(job.name);
    if (type === undefined) throw new UnrecoverableJobError(new E_QUEUE_UNKNOWN_JOB(job.name));
    let payload: unknown;
    try {
      payload = JSON.parse(job.payload);
    } catch (error) {
      throw new UnrecoverableJobError(
        new E_QUEUE_MALFORMED_PAYLOAD(job.name, (error as Error).message),
      );
    }
    return new type(payload);
  }

  async #failed(run: Attempt, error: unknown): Promise<JobOutcomeStatus> {
    const { job, logger } = run;
    const cause = error instanceof UnrecoverableJobError ? error.cause : error;
    const text = describe(cause);
    const now = this.#o.now();
    const final =
      error instanceof UnrecoverableJobError ||
      cause instanceof UnrecoverableError ||
      job.attempt >= job.maxAttempts ||
      (job.retryUntil > 0 && now >= job.retryUntil);
    if (!final) {
      const at = now + backoffDelay(job, job.attempt);
      const retried = await this.#o.driver.retry(job, at, text);
      if (retried) this.#summary.retried++;
      else this.#summary.lost++;
      logger.warn(
        { err: cause, retryAt: new Date(at).toISOString() },
        'queue: job failed; retrying',
      );
      return retried ? 'retried' : 'lost';
    }
    if (!(await this.#o.driver.fail(job, text))) {
      this.#summary.lost++;
      return 'lost';
    }
    this.#summary.failed++;
    logger.error({ err: cause }, 'queue: job failed');
    const type = this.#o.registry.get(job.name);
    if (type === undefined || error instanceof UnrecoverableJobError) return 'failed';
    try {
      const instance = new type(JSON.parse(job.payload));
      await instance.failed?.(cause, {
        id: job.id,
        name: job.name,
        queue: job.queue,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        signal: AbortSignal.abort(),
        logger,
        requestId: job.meta.requestId,
        batchId: run.batchId,
        batch: () => run.batch(),
      });
    } catch (hookError) {
      logger.error({ err: hookError }, 'queue: the failed() hook threw');
    }
    return 'failed';
  }
}

/** Wraps the errors that must not be retried (no class, unreadable payload). */
class UnrecoverableJobError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

const MAX_ERROR_TEXT = 64 * 1024;

/** An error as failed_jobs stores it: code or class, message, stack; bounded. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, MAX_ERROR_TEXT);
  const code = (error as { code?: unknown }).code;
  const head = `${typeof code === 'string' ? code : error.name}: ${error.message}`;
  const stack = error.stack?.split('\n').slice(1).join('\n') ?? '';
  return `${head}\n${stack}`.slice(0, MAX_ERROR_TEXT);
}
