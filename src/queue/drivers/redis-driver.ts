import { randomUUID } from 'node:crypto';
import type { Job as BullJob, JobsOptions, Queue, Worker } from 'bullmq';
// Types only: ioredis (like BullMQ) is imported in connect(), so a bundled app without a
// redis queue never needs it installed.
import type { Redis } from 'ioredis';
import { abortableWait } from '../../support/abortable-wait.js';
import { outageWarning } from '../../support/outage-warning.js';
import { closeRedisClient } from '../../support/redis-client.js';
import type {
  BatchRecord,
  ClaimedJob,
  FailedJob,
  JobLease,
  JobRecord,
  QueueDriver,
  QueueStats,
} from '../driver.js';
import { E_QUEUE_INVALID_JOB } from '../errors.js';
import {
  assertArgument,
  assertAvailableAt,
  assertClaim,
  assertLease,
  assertRecord,
  claimedJob,
  failedPage,
} from './database-records.js';
import {
  bullName,
  bullPriority,
  isFencedOut,
  type JobData,
  recordOf,
  storeRecord,
  toFailed,
} from './redis-records.js';

type BullMQ = typeof import('bullmq');

export interface RedisQueueDriverOptions {
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** BullMQ's key prefix (default `keel-queue`): every key of this driver starts with it. */
  prefix?: string;
  now?: () => number;
  /** Largest record (payload and chain) in bytes, as on the database driver (default 8 MiB). */
  maxRecordBytes?: number;
  /** How often BullMQ looks for jobs whose lock expired (ms, default 15 s). */
  stalledIntervalMs?: number;
  /**
   * The first connection error of each outage (the client reconnects by itself; the next
   * outage is reported again). Without it they go unreported: workers log failed claims.
   */
  onError?: (error: Error) => void;
}

/**
 * The `redis` queue driver: BullMQ underneath, driven by Keel's Worker through BullMQ's
 * manual processing API (a `Worker` without processor, `getNextJob(token)`, then
 * `moveToCompleted`/`moveToFailed`/`moveToDelayed`/`extendLock` with that token). Each claim
 * locks its job with a token no other claim ever uses (`keel:<process>:<n>`), so a stale
 * lease's token no longer matches the job's lock; the lease's fence is the job's own
 * claim counter (BullMQ's attempts-started, raised by every move to active), so a
 * reclaimed job always carries a higher fence than any earlier lease of it. Keel computes retries; a lost lease is a BullMQ stalled
 * job; unique jobs are BullMQ deduplication; batches and parents are refused. See the
 * "Redis (BullMQ)" section of docs/queue.md.
 *
 * @example
 * ```ts
 * const driver = await RedisQueueDriver.connect({ url: 'redis://127.0.0.1:6379' });
 * ```
 */
/** A claim this process holds: the job as claimed, its lock token and its fence. */
interface Held {
  job: BullJob<JobData>;
  /** The job's record, read from its data once. */
  record: JobRecord;
  token: string;
  fence: number;
}

export class RedisQueueDriver implements QueueDriver {
  readonly name = 'redis';
  readonly #bull: BullMQ;
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #maxBytes: number;
  readonly #stalledIntervalMs: number;
  readonly #queues = new Map<string, Queue>();
  /** BullMQ workers by queue, then by lock duration (a Keel worker's lease). */
  readonly #workers = new Map<string, Map<number, Worker>>();
  /**
   * The jobs this process claimed and still holds, as BullMQ returned them, with the lock
   * token and fence of the claim: settling one needs no read of the job hash first (its
   * data changes only through this holder).
   */
  readonly #held = new Map<string, Held>();
  /** This process's part of every lock token, and the count of claims it made. */
  readonly #tokenPrefix = `keel:${randomUUID()}:`;
  #claims = 0;
  /** Each worker's last claim: its queues in order of preference and its lease. */
  readonly #preferences = new Map<string, { queues: readonly string[]; leaseMs: number }>();
  /**
   * Jobs a completion fetched ahead for a worker (BullMQ moves the next job to active in
   * the same script that completes one), handed out by its next claim.
   */
  readonly #prefetched = new Map<string, ClaimedJob[]>();
  /** How many jobs each queue last proved to hold: the size of its next claim (see claim). */
  readonly #depth = new Map<string, number>();
  #subscriber: Redis | undefined;
  /** Settles (never rejects) once the wake channel's first SUBSCRIBE has an answer. */
  #subscribed: Promise<void> | undefined;
  #listening = false;
  readonly #waiters = new Set<() => void>();

  private constructor(bull: BullMQ, client: Redis, options: RedisQueueDriverOptions) {
    this.#bull = bull;
    this.#client = client;
    this.#prefix = options.prefix ?? 'keel-queue';
    this.#now = options.now ?? Date.now;
    this.#maxBytes = options.maxRecordBytes ?? 8 * 1024 * 1024;
    this.#stalledIntervalMs = options.stalledIntervalMs ?? 15_000;
  }

  /** Load BullMQ (only now: apps without a redis queue never do) and connect. */
  static async connect(options: RedisQueueDriverOptions = {}): Promise<RedisQueueDriver> {
    const bull = await import('bullmq');
    const { Redis } = await import('ioredis');
    // maxRetriesPerRequest null: BullMQ's blocking calls wait out a Redis restart.
    const client = new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      maxRetriesPerRequest: null,
    });
    const onError = options.onError;
    const outage = outageWarning((error) => {
      try {
        onError?.(error as Error);
      } catch {
        // A failing logger must not turn into an 'error' thrown inside ioredis.
      }
    });
    outage.watch(client);
    client.on('error', outage.onError);
    return new RedisQueueDriver(bull, client, options);
  }

  get #keys() {
    return {
      queues: `${this.#prefix}:keel:queues`,
      wake: `${this.#prefix}:keel:wake`,
    };
  }

  async enqueue(records: readonly JobRecord[], batch?: BatchRecord): Promise<string[]> {
    const ids = new Set<string>();
    for (const record of records) {
      assertRecord(record, this.#maxBytes);
      if (ids.has(record.id))
        throw new E_QUEUE_INVALID_JOB(record.name, `the id ${record.id} appears twice`);
      ids.add(record.id);
      if (record.parentId !== undefined || record.batchId !== undefined || batch !== undefined)
        throw new E_QUEUE_INVALID_JOB(
          record.name,
          'the redis driver supports neither batches nor parent/child jobs',
        );
    }
    if (records.length === 0) return [];
    // Equal priorities run in insertion order on BullMQ: insert by availableAt.
    const sorted = inOrder(records) ? records : [...records].sort(byPriorityThenTime);
    const byQueue = new Map<string, JobRecord[]>();
    for (const r of sorted) {
      const list = byQueue.get(r.queue);
      if (list === undefined) byQueue.set(r.queue, [r]);
      else list.push(r);
    }
    const now = this.#now();
    const stored = new Set<string>();
    await this.#client.sadd(this.#keys.queues, ...byQueue.keys());
    for (const [queue, list] of byQueue) {
      const jobs = await this.#queue(queue).addBulk(
        list.map((record) => ({
          name: record.name,
          data: { record: storeRecord(record) } satisfies JobData,
          opts: bullOptions(record, now),
        })),
      );
      // A deduplicated add answers the job that holds the key, under its own id.
      for (const [i, job] of jobs.entries()) if (job.id === list[i]!.id) stored.add(job.id);
    }
    await this.#wake();
    return records.map((r) => r.id).filter((id) => stored.has(id));
  }

  async claim(
    queues: readonly string[],
    limit: number,
    workerId: string,
    leaseMs: number,
  ): Promise<ClaimedJob[]> {
    assertClaim(queues, limit, workerId, leaseMs);
    this.#preferences.set(workerId, { queues, leaseMs });
    const claimed: ClaimedJob[] = [];
    // Jobs fetched ahead come first: they are from the worker's first queue, the one it
    // prefers, and already locked for it.
    const ahead = this.#prefetched.get(workerId);
    if (ahead !== undefined && ahead.length > 0) {
      // A worker now claiming other queues gets none of them: they go back to their queue.
      const stale = ahead.filter((job) => !queues.includes(job.queue));
      if (stale.length > 0) {
        this.#prefetched.set(
          workerId,
          ahead.filter((job) => queues.includes(job.queue)),
        );
        await Promise.all(stale.map((job) => this.release(job).catch(() => false)));
      }
      const kept = this.#prefetched.get(workerId)!;
      if (kept.length <= limit) {
        // The usual case, one fetched ahead: hand the list over, start a new one.
        this.#prefetched.set(workerId, []);
        if (kept.length === limit) return kept;
        claimed.push(...kept);
      } else {
        claimed.push(...kept.splice(0, limit));
        return claimed;
      }
    }
    for (const queue of queues) {
      const worker = this.#worker(queue, leaseMs);
      const wanted = limit - claimed.length;
      if (wanted <= 0) break;
      // Each move is a script run on the Redis server, found job or not: ask for as many as
      // the queue last proved to have (doubling while every move finds one), so that an
      // idle queue costs one move per claim instead of one per free slot.
      const asked = Math.min(wanted, this.#depth.get(queue) ?? wanted);
      // The moves are sent together (ioredis pipelines them on the one connection): one
      // round trip for the batch, and none before it — the tokens are made here. Tokens
      // of moves that found the queue empty are simply never used.
      const tokens = Array.from({ length: asked }, () => this.#tokenPrefix + ++this.#claims);
      const jobs = (await Promise.all(
        tokens.map((token) => worker.getNextJob(token, { block: false })),
      )) as Array<BullJob<JobData> | undefined>;
      let found = 0;
      jobs.forEach((job, i) => {
        if (job === undefined) return;
        found++;
        claimed.push(this.#hold(job, tokens[i] as string, workerId, leaseMs));
      });
      this.#depth.set(queue, found === asked ? asked * 2 : Math.max(1, found));
    }
    return claimed;
  }

  async heartbeat(lease: JobLease, leaseMs: number): Promise<boolean> {
    assertLease(leaseMs);
    const held = this.#job(lease);
    if (held === undefined) return false;
    return this.#fenced(async () => (await held.job.extendLock(held.token, leaseMs)) > 0);
  }

  async complete(lease: JobLease): Promise<boolean> {
    const held = this.#job(lease);
    if (held === undefined) return false;
    const { job, token, record } = held;
    // The next link first: a crash in between runs it (id-keyed, so once), never loses it.
    // Only then is the lock read first; a plain completion is fenced by moveToCompleted's
    // own token check (a lost lease fails it with a lock error, answered false).
    if (record.chain !== undefined && record.chain.length > 0) {
      if (!(await this.#holds(held))) return false;
      const [next, ...rest] = record.chain;
      await this.enqueue([{ ...(next as JobRecord), ...(rest.length ? { chain: rest } : {}) }]);
    }
    // Fetch the next job in the same script when it is one this worker would claim next:
    // from its first queue (a job of a later queue must not pass one of an earlier queue).
    const workerId = (lease as Partial<ClaimedJob>).workerId;
    const preference = workerId === undefined ? undefined : this.#preferences.get(workerId);
    const fetchNext = preference !== undefined && preference.queues[0] === record.queue;
    let next: unknown;
    const done = await this.#fenced(async () => {
      next = await job.moveToCompleted(undefined, token, fetchNext);
      return true;
    });
    if (!done) return false;
    await this.#finished(held, lease.id);
    if (fetchNext && Array.isArray(next) && next[0]) {
      // The next job is locked with this claim's token, which no other claim ever had.
      const worker = this.#worker(record.queue, preference.leaseMs);
      const fetched = this.#bull.Job.fromJSON(worker, next[0], next[1]) as BullJob<JobData>;
      const claimed = this.#hold(fetched, token, workerId as string, preference.leaseMs);
      const ahead = this.#prefetched.get(workerId as string);
      if (ahead === undefined) this.#prefetched.set(workerId as string, [claimed]);
      else ahead.push(claimed);
    }
    return true;
  }

  /**
   * Give back the jobs fetched ahead for `workerId`: it claims no more (it stopped, or
   * reached its max). They go back to their queue at once instead of when their lock ends.
   */
  async workerStopped(workerId: string): Promise<void> {
    this.#preferences.delete(workerId);
    const ahead = this.#prefetched.get(workerId);
    this.#prefetched.delete(workerId);
    if (ahead === undefined || ahead.length === 0) return;
    await Promise.all(ahead.map((job) => this.release(job).catch(() => false)));
  }

  /** Keep `job` as claimed with `token`, and describe the claim for the worker. */
  #hold(job: BullJob<JobData>, token: string, workerId: string, leaseMs: number): ClaimedJob {
    const data = job.data;
    const fence = (data.claimsBefore ?? 0) + job.attemptsStarted;
    const record = recordOf(job);
    this.#held.set(job.id as string, { job, record, token, fence });
    return claimedJob(
      record,
      Math.max(1, job.attemptsStarted - (data.released ?? 0)),
      fence,
      this.#now() + leaseMs,
      workerId,
    );
  }

  async retry(lease: JobLease, availableAt: number, error: string): Promise<boolean> {
    assertAvailableAt(availableAt);
    const held = this.#job(lease);
    if (held === undefined || !(await this.#holds(held))) return false;
    const { job, token } = held;
    await job.updateData({ ...job.data, error });
    const delay = Math.max(0, availableAt - this.#now());
    const done = await this.#fenced(async () => {
      await job.moveToDelayed(Date.now() + delay, token);
      return true;
    });
    if (done) this.#held.delete(lease.id);
    return done;
  }

  async fail(lease: JobLease, error: string): Promise<boolean> {
    const held = this.#job(lease);
    if (held === undefined || !(await this.#holds(held))) return false;
    const { job, token } = held;
    const attempts = Math.max(1, job.attemptsStarted - (job.data.released ?? 0));
    await job.updateData({ ...job.data, error, failedAt: this.#now(), attempts });
    const done = await this.#fenced(async () => {
      await job.moveToFailed(new Error(error.split('\n')[0]), token, false);
      return true;
    });
    if (done) await this.#finished(held, lease.id);
    return done;
  }

  async release(lease: JobLease, availableAt?: number): Promise<boolean> {
    if (availableAt !== undefined) assertAvailableAt(availableAt);
    const held = this.#job(lease);
    if (held === undefined || !(await this.#holds(held))) return false;
    const { job, token } = held;
    await job.updateData({ ...job.data, released: (job.data.released ?? 0) + 1 });
    const delay = availableAt === undefined ? 0 : Math.max(0, availableAt - this.#now());
    const done = await this.#fenced(async () => {
      // Delayed (job middleware): BullMQ's delayed set; `released` keeps the attempt uncounted.
      if (delay > 0) await job.moveToDelayed(Date.now() + delay, token);
      else await job.moveToWait(token);
      return true;
    });
    if (done) {
      this.#held.delete(lease.id);
      await this.#wake();
    }
    return done;
  }

  /** Wakes on this driver's publish after enqueue and release (any process), or at maxWaitMs. */
  async waitForJobs(
    _queues: readonly string[],
    maxWaitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (signal.aborted || maxWaitMs <= 0) return;
    const wait = (ms: number, until: AbortSignal) =>
      abortableWait(ms, until, (wake) => {
        this.#waiters.add(wake);
        return () => this.#waiters.delete(wake);
      });
    if (this.#listening) return wait(maxWaitMs, signal);
    // Until the wake channel is subscribed, a job enqueued meanwhile wakes nobody: the first
    // wait ends once the subscription is in place, and the worker claims again. With Redis
    // down it is a plain wait.
    const subscribed = new AbortController();
    void this.#listen().then(() => subscribed.abort());
    await wait(maxWaitMs, AbortSignal.any([signal, subscribed.signal]));
  }

  /**
   * Subscribe to the wake channel, once, and again after every reconnect. ioredis's own
   * autoResubscribe is off: it sends that SUBSCRIBE without handling its failure, which
   * surfaces as an unhandled rejection when the connection drops again before the reply. A
   * failed SUBSCRIBE only costs latency: waiting workers still poll every maxWaitMs.
   */
  #listen(): Promise<void> {
    if (this.#subscribed !== undefined) return this.#subscribed;
    const subscriber = this.#client.duplicate({ autoResubscribe: false });
    this.#subscriber = subscriber;
    // The main client reports the outage (see connect).
    subscriber.on('error', () => {});
    subscriber.on('message', () => {
      for (const wake of this.#waiters) wake();
    });
    const subscribe = () =>
      subscriber.subscribe(this.#keys.wake).then(
        () => undefined,
        () => undefined,
      );
    subscriber.on('ready', () => void subscribe());
    this.#subscribed = subscribe().then(() => {
      this.#listening = true;
    });
    return this.#subscribed;
  }

  async stats(queues?: readonly string[]): Promise<QueueStats[]> {
    const names = queues ?? (await this.#client.smembers(this.#keys.queues));
    const now = this.#now();
    return Promise.all(
      names.map(async (queue) => {
        const q = this.#queue(queue);
        const c = await q.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'failed');
        const ready = (c.wait ?? 0) + (c.prioritized ?? 0);
        // The oldest by availableAt among the first ready jobs (BullMQ keeps priority order).
        const head = (await q.getJobs(['prioritized', 'wait'], 0, 99)) as BullJob<JobData>[];
        const oldest = head.reduce(
          (max, job) => Math.max(max, job?.data?.record ? now - recordOf(job).availableAt : 0),
          0,
        );
        return {
          queue,
          waiting: ready + (c.delayed ?? 0),
          ready,
          delayed: c.delayed ?? 0,
          running: c.active ?? 0,
          oldestAgeMs: ready === 0 ? 0 : oldest,
          failed: c.failed ?? 0,
        };
      }),
    );
  }

  async failed(
    options: { queue?: string; limit?: number; offset?: number } = {},
  ): Promise<FailedJob[]> {
    const { limit, offset } = failedPage(options);
    const all = (await this.#failedJobs(options.queue, offset + limit)).map(toFailed);
    return all.sort((a, b) => b.failedAt - a.failedAt).slice(offset, offset + limit);
  }

  async retryFailed(ids: readonly string[] | 'all'): Promise<number> {
    const jobs =
      ids === 'all'
        ? await this.#failedJobs(undefined, Number.POSITIVE_INFINITY)
        : (await Promise.all(ids.map((id) => this.#findFailed(id)))).filter(
            (j): j is BullJob<JobData> => j !== undefined,
          );
    for (const job of jobs) {
      // The attempt count restarts; the fence keeps rising from where it was.
      await job.updateData({
        record: job.data.record,
        claimsBefore: (job.data.claimsBefore ?? 0) + job.attemptsStarted,
      });
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    }
    if (jobs.length > 0) await this.#wake();
    return jobs.length;
  }

  async forgetFailed(id: string): Promise<boolean> {
    const job = await this.#findFailed(id);
    if (job === undefined) return false;
    await job.remove();
    return true;
  }

  async flushFailed(olderThan?: number): Promise<number> {
    const ok = olderThan === undefined || (Number.isFinite(olderThan) && olderThan >= 0);
    assertArgument(ok, 'olderThan', 'a duration in ms', olderThan);
    return this.#removeFailed(olderThan === undefined ? undefined : this.#now() - olderThan);
  }

  async clear(queue: string): Promise<number> {
    const q = this.#queue(queue);
    const c = await q.getJobCounts('wait', 'prioritized', 'delayed');
    await q.drain(true);
    return (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
  }

  async batch(): Promise<BatchRecord | undefined> {
    return undefined;
  }

  async cancelBatch(): Promise<void> {}

  async prune(before: number): Promise<{ batches: number; failed: number }> {
    return { batches: 0, failed: await this.#removeFailed(before) };
  }

  /**
   * Run BullMQ's stalled-job check on every queue this driver claimed from: jobs whose lock
   * expired go back to their queue. The checker also runs on its own every stalledIntervalMs.
   */
  async reclaimExpired(): Promise<void> {
    for (const worker of this.#allWorkers())
      await (
        worker as unknown as { moveStalledJobsToWait(): Promise<void> }
      ).moveStalledJobsToWait();
  }

  async close(): Promise<void> {
    for (const workerId of [...this.#prefetched.keys()]) await this.workerStopped(workerId);
    for (const wake of this.#waiters) wake();
    await Promise.all(this.#allWorkers().map((w) => w.close(true)));
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    if (this.#subscriber !== undefined) await closeRedisClient(this.#subscriber);
    await closeRedisClient(this.#client);
  }

  #queue(queue: string): Queue {
    let q = this.#queues.get(queue);
    if (q === undefined) {
      q = new this.#bull.Queue(bullName(queue), {
        connection: this.#client,
        prefix: this.#prefix,
      });
      this.#queues.set(queue, q);
    }
    return q;
  }

  // Looked up on every claim and completion: two maps, not a key string built each time.
  #worker(queue: string, leaseMs: number): Worker {
    let byLease = this.#workers.get(queue);
    if (byLease === undefined) {
      byLease = new Map();
      this.#workers.set(queue, byLease);
    }
    let worker = byLease.get(leaseMs);
    if (worker === undefined) {
      worker = new this.#bull.Worker(bullName(queue), null, {
        connection: this.#client,
        prefix: this.#prefix,
        autorun: false,
        lockDuration: leaseMs,
        stalledInterval: this.#stalledIntervalMs,
        // Keel counts attempts and fails the job past maxAttempts: BullMQ only reclaims.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      });
      worker.on('error', () => {});
      void worker.startStalledCheckTimer();
      byLease.set(leaseMs, worker);
    }
    return worker;
  }

  #allWorkers(): Worker[] {
    return [...this.#workers.values()].flatMap((byLease) => [...byLease.values()]);
  }

  /** The claim `lease` names, if this process holds it: same job, same fence. */
  #job(lease: JobLease): Held | undefined {
    const held = this.#held.get(lease.id);
    return held !== undefined && held.fence === lease.fence ? held : undefined;
  }

  /** Whether the claim still holds the job's lock (a read that changes nothing). */
  async #holds(held: Held): Promise<boolean> {
    const { job, token } = held;
    const lock = await this.#client.get(`${this.#prefix}:${job.queueName}:${job.id}:lock`);
    return lock === token;
  }

  async #fenced(change: () => Promise<boolean>): Promise<boolean> {
    try {
      return await change();
    } catch (error) {
      if (isFencedOut(error)) return false;
      throw error;
    }
  }

  /** Forget a claim that ended; a unique job's key is free again. */
  async #finished(held: Held, id: string): Promise<void> {
    this.#held.delete(id);
    if (held.record.uniqueKey !== undefined) await held.job.removeDeduplicationKey();
  }

  async #wake(): Promise<void> {
    await this.#client.publish(this.#keys.wake, '1');
  }

  async #failedJobs(queue: string | undefined, count: number): Promise<BullJob<JobData>[]> {
    const names = queue === undefined ? await this.#client.smembers(this.#keys.queues) : [queue];
    const end = Number.isFinite(count) ? count - 1 : -1;
    const lists = await Promise.all(names.map((n) => this.#queue(n).getFailed(0, end)));
    return lists.flat().filter((j) => j !== undefined) as BullJob<JobData>[];
  }

  async #findFailed(id: string): Promise<BullJob<JobData> | undefined> {
    if (typeof id !== 'string' || id === '' || id.includes(':')) return undefined;
    for (const name of await this.#client.smembers(this.#keys.queues)) {
      const job = (await this.#queue(name).getJob(id)) as BullJob<JobData> | undefined;
      if (job !== undefined && (await job.isFailed())) return job;
    }
    return undefined;
  }

  async #removeFailed(before: number | undefined): Promise<number> {
    let removed = 0;
    for (const job of await this.#failedJobs(undefined, Number.POSITIVE_INFINITY))
      if (before === undefined || toFailed(job).failedAt < before) {
        await job.remove();
        removed++;
      }
    return removed;
  }
}

const byPriorityThenTime = (a: JobRecord, b: JobRecord): number =>
  b.priority - a.priority || a.availableAt - b.availableAt;

/** Whether `records` are already in insertion order (the usual case: one dispatch time). */
function inOrder(records: readonly JobRecord[]): boolean {
  for (let i = 1; i < records.length; i++)
    if (byPriorityThenTime(records[i - 1] as JobRecord, records[i] as JobRecord) > 0) return false;
  return true;
}

/** BullMQ's options for a record: Keel counts attempts, completed jobs are removed. */
function bullOptions(record: JobRecord, now: number): JobsOptions {
  // Every claim parses these back (BullMQ stores them as JSON): BullMQ's defaults are left
  // out — no delay, one attempt (Keel retries itself), failed jobs kept.
  const options: JobsOptions = {
    jobId: record.id,
    priority: bullPriority(record.priority),
    removeOnComplete: true,
  };
  const delay = record.availableAt - now;
  if (delay > 0) options.delay = delay;
  if (record.uniqueKey !== undefined)
    options.deduplication =
      record.uniqueUntil !== undefined && record.uniqueUntil > now
        ? { id: record.uniqueKey, ttl: record.uniqueUntil - now }
        : { id: record.uniqueKey };
  return options;
}
