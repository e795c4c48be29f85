import { randomUUID } from 'node:crypto';
import type {
  BatchRecord,
  ClaimedJob,
  FailedJob,
  JobLease,
  JobRecord,
  QueueDriver,
  QueueStats,
} from '../driver.js';

interface Slot {
  record: JobRecord;
  attempt: number;
  fence: number;
  leaseUntil: number;
  workerId: string;
  availableAt: number;
  pendingChildren: number;
}

/**
 * The queue in this process's memory: nothing survives a restart, nothing is shared with
 * another process. For development and tests (`QUEUE_CONNECTION=memory`), and the reference
 * the other drivers' conformance suite is checked against. It keeps every promise of the
 * contract that does not need a disk: ordering, delays, leases and reclaim, fencing,
 * unique jobs, chains, parents, batches and failed jobs.
 *
 * @example
 * ```ts
 * const queue = new QueueManager({ driver: () => new MemoryQueueDriver(), ... });
 * ```
 */
export class MemoryQueueDriver implements QueueDriver {
  readonly name = 'memory';
  readonly #jobs = new Map<string, Slot>();
  readonly #failed = new Map<string, FailedJob>();
  readonly #batches = new Map<string, BatchRecord>();
  readonly #unique = new Map<string, number>();
  readonly #now: () => number;
  readonly #waiters = new Set<() => void>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async enqueue(records: readonly JobRecord[], batch?: BatchRecord): Promise<string[]> {
    const now = this.#now();
    const stored: string[] = [];
    for (const record of records) {
      if (record.uniqueKey !== undefined) {
        const until = this.#unique.get(record.uniqueKey);
        if (until !== undefined && until > now) continue;
        this.#unique.set(record.uniqueKey, record.uniqueUntil ?? now);
      }
      this.#jobs.set(record.id, {
        record,
        attempt: 0,
        fence: 0,
        leaseUntil: 0,
        workerId: '',
        availableAt: record.availableAt,
        pendingChildren: record.pendingChildren ?? 0,
      });
      stored.push(record.id);
    }
    if (batch !== undefined) this.#batches.set(batch.id, { ...batch });
    for (const wake of this.#waiters) wake();
    return stored;
  }

  async claim(
    queues: readonly string[],
    limit: number,
    workerId: string,
    leaseMs: number,
  ): Promise<ClaimedJob[]> {
    const now = this.#now();
    const candidates = [...this.#jobs.values()].filter(
      (s) =>
        queues.includes(s.record.queue) &&
        s.availableAt <= now &&
        s.pendingChildren === 0 &&
        s.leaseUntil <= now,
    );
    candidates.sort(
      (a, b) =>
        queues.indexOf(a.record.queue) - queues.indexOf(b.record.queue) ||
        b.record.priority - a.record.priority ||
        a.availableAt - b.availableAt ||
        a.record.createdAt - b.record.createdAt,
    );
    return candidates.slice(0, limit).map((slot) => {
      slot.attempt++;
      slot.fence++;
      slot.leaseUntil = now + leaseMs;
      slot.workerId = workerId;
      return this.#claimed(slot);
    });
  }

  async heartbeat(lease: JobLease, leaseMs: number): Promise<boolean> {
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    slot.leaseUntil = this.#now() + leaseMs;
    return true;
  }

  async complete(lease: JobLease): Promise<boolean> {
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    this.#jobs.delete(lease.id);
    const { record } = slot;
    this.#countBatch(record.batchId, false);
    if (record.chain !== undefined && record.chain.length > 0) {
      const [next, ...rest] = record.chain as JobRecord[];
      await this.enqueue([{ ...(next as JobRecord), chain: rest }]);
    }
    if (record.parentId !== undefined) {
      const parent = this.#jobs.get(record.parentId);
      if (parent !== undefined) parent.pendingChildren = Math.max(0, parent.pendingChildren - 1);
    }
    return true;
  }

  async retry(lease: JobLease, availableAt: number): Promise<boolean> {
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    slot.availableAt = availableAt;
    slot.leaseUntil = 0;
    slot.workerId = '';
    return true;
  }

  async fail(lease: JobLease, error: string): Promise<boolean> {
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    this.#jobs.delete(lease.id);
    const { record } = slot;
    const id = randomUUID();
    this.#failed.set(id, {
      id,
      jobId: record.id,
      name: record.name,
      queue: record.queue,
      payload: record.payload,
      attempts: slot.attempt,
      error,
      failedAt: this.#now(),
      meta: record.meta,
    });
    this.#countBatch(record.batchId, true);
    return true;
  }

  async release(lease: JobLease): Promise<boolean> {
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    slot.attempt = Math.max(0, slot.attempt - 1);
    slot.leaseUntil = 0;
    slot.workerId = '';
    for (const wake of this.#waiters) wake();
    return true;
  }

  waitForJobs(_queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async stats(queues?: readonly string[]): Promise<QueueStats[]> {
    const now = this.#now();
    const names = new Set(queues ?? []);
    if (queues === undefined) for (const s of this.#jobs.values()) names.add(s.record.queue);
    return [...names].map((queue) => {
      const jobs = [...this.#jobs.values()].filter((s) => s.record.queue === queue);
      const running = jobs.filter((s) => s.leaseUntil > now);
      const waiting = jobs.filter((s) => s.leaseUntil <= now);
      const ready = waiting.filter((s) => s.availableAt <= now && s.pendingChildren === 0);
      return {
        queue,
        waiting: waiting.length,
        ready: ready.length,
        delayed: waiting.length - ready.length,
        running: running.length,
        oldestAgeMs: ready.reduce((max, s) => Math.max(max, now - s.availableAt), 0),
        failed: [...this.#failed.values()].filter((f) => f.queue === queue).length,
      };
    });
  }

  async failed(options: { queue?: string; limit?: number; offset?: number } = {}) {
    const all = [...this.#failed.values()]
      .filter((f) => options.queue === undefined || f.queue === options.queue)
      .sort((a, b) => b.failedAt - a.failedAt);
    const offset = options.offset ?? 0;
    return all.slice(offset, offset + (options.limit ?? 100));
  }

  async retryFailed(ids: readonly string[] | 'all'): Promise<number> {
    const chosen =
      ids === 'all' ? [...this.#failed.keys()] : ids.filter((id) => this.#failed.has(id));
    for (const id of chosen) {
      const f = this.#failed.get(id) as FailedJob;
      this.#failed.delete(id);
      const now = this.#now();
      await this.enqueue([
        {
          id: randomUUID(),
          name: f.name,
          queue: f.queue,
          payload: f.payload,
          priority: 0,
          availableAt: now,
          maxAttempts: 1,
          retryUntil: 0,
          timeoutMs: 0,
          backoffMs: [0],
          backoffExponential: false,
          meta: f.meta,
          createdAt: now,
        },
      ]);
    }
    return chosen.length;
  }

  async forgetFailed(id: string): Promise<boolean> {
    return this.#failed.delete(id);
  }

  async flushFailed(olderThan?: number): Promise<number> {
    let removed = 0;
    for (const [id, f] of this.#failed)
      if (olderThan === undefined || f.failedAt < olderThan) {
        this.#failed.delete(id);
        removed++;
      }
    return removed;
  }

  async clear(queue: string): Promise<number> {
    let removed = 0;
    const now = this.#now();
    for (const [id, s] of this.#jobs)
      if (s.record.queue === queue && s.leaseUntil <= now) {
        this.#jobs.delete(id);
        removed++;
      }
    return removed;
  }

  async batch(id: string): Promise<BatchRecord | undefined> {
    const batch = this.#batches.get(id);
    return batch === undefined ? undefined : { ...batch };
  }

  async cancelBatch(id: string): Promise<void> {
    const batch = this.#batches.get(id);
    if (batch !== undefined && batch.cancelledAt === null)
      this.#batches.set(id, { ...batch, cancelledAt: this.#now() });
  }

  async prune(before: number): Promise<{ batches: number; failed: number }> {
    let batches = 0;
    for (const [id, b] of this.#batches)
      if (b.finishedAt !== null && b.finishedAt < before) {
        this.#batches.delete(id);
        batches++;
      }
    return { batches, failed: await this.flushFailed(before) };
  }

  async close(): Promise<void> {
    for (const wake of this.#waiters) wake();
  }

  /** The slot `lease` names, if that attempt still holds it. */
  #held(lease: JobLease): Slot | undefined {
    const slot = this.#jobs.get(lease.id);
    return slot !== undefined && slot.fence === lease.fence ? slot : undefined;
  }

  #claimed(slot: Slot): ClaimedJob {
    return {
      ...slot.record,
      attempt: slot.attempt,
      fence: slot.fence,
      leaseUntil: slot.leaseUntil,
      workerId: slot.workerId,
    };
  }

  #countBatch(id: string | undefined, failed: boolean): void {
    if (id === undefined) return;
    const batch = this.#batches.get(id);
    if (batch === undefined) return;
    const pending = Math.max(0, batch.pending - 1);
    this.#batches.set(id, {
      ...batch,
      pending,
      failed: batch.failed + (failed ? 1 : 0),
      finishedAt: pending === 0 ? this.#now() : batch.finishedAt,
    });
  }
}
