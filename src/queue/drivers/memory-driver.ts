import { randomUUID } from 'node:crypto';
import { abortableWait } from '../../support/abortable-wait.js';
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
  assertArgument,
  assertAvailableAt,
  assertBatch,
  assertClaim,
  assertJobLease,
  assertLease,
  assertQueues,
  assertRecord,
  batchCallbacks,
  claimedJob,
  failedPage,
} from './database-records.js';

interface Slot {
  record: JobRecord;
  attempt: number;
  fence: number;
  leaseUntil: number;
  workerId: string;
  availableAt: number;
  pendingChildren: number;
}

/** A failed job with what a retry restores: the whole record and its last fence. */
interface FailedSlot {
  failed: FailedJob;
  record: JobRecord;
  fence: number;
}

/** Enough for a record's payload and chain; the database driver's default too. */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

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
  readonly #failed = new Map<string, FailedSlot>();
  readonly #batches = new Map<string, BatchRecord>();
  /** unique key → the id of the job holding it. */
  readonly #unique = new Map<string, string>();
  readonly #now: () => number;
  readonly #waiters = new Set<() => void>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Everything is checked before anything is stored: all or none, like a transaction. */
  async enqueue(records: readonly JobRecord[], batch?: BatchRecord): Promise<string[]> {
    assertArgument(Array.isArray(records), 'records', 'a list of job records', records);
    for (const record of records) assertRecord(record, MAX_RECORD_BYTES);
    if (batch !== undefined) assertBatch(batch);
    const ids = new Set<string>();
    for (const record of records) {
      if (ids.has(record.id) || this.#jobs.has(record.id))
        throw new Error(`queue: a job with id ${record.id} is already queued`);
      ids.add(record.id);
    }
    if (batch !== undefined && this.#batches.has(batch.id))
      throw new Error(`queue: a batch with id ${batch.id} already exists`);
    const stored = this.#insert(records);
    if (batch !== undefined) {
      const skipped = records.filter((r) => r.batchId === batch.id && !stored.includes(r.id));
      this.#batches.set(batch.id, {
        ...batch,
        total: Math.max(0, batch.total - skipped.length),
        pending: Math.max(0, batch.pending - skipped.length),
        failed: 0,
        cancelledAt: null,
        finishedAt: null,
      });
    }
    return stored;
  }

  /** Store checked records; unique ones whose key is held are skipped. */
  #insert(records: readonly JobRecord[], fences?: ReadonlyMap<string, number>): string[] {
    const now = this.#now();
    const stored: string[] = [];
    for (const record of records) {
      const key = record.uniqueKey;
      if (key !== undefined) {
        const holder = this.#jobs.get(this.#unique.get(key) ?? '');
        const held =
          holder !== undefined &&
          (holder.record.uniqueUntil === undefined || holder.record.uniqueUntil > now);
        if (held) continue;
        this.#unique.set(key, record.id);
      }
      const { pendingChildren: _pending, ...plain } = record;
      this.#jobs.set(record.id, {
        record: plain,
        attempt: 0,
        fence: fences?.get(record.id) ?? 0,
        leaseUntil: 0,
        workerId: '',
        availableAt: record.availableAt,
        pendingChildren: 0,
      });
      stored.push(record.id);
      if (record.parentId !== undefined) {
        const parent = this.#jobs.get(record.parentId);
        if (parent !== undefined && parent.leaseUntil === 0) parent.pendingChildren++;
      }
    }
    if (stored.length > 0) this.#wake();
    return stored;
  }

  async claim(
    queues: readonly string[],
    limit: number,
    workerId: string,
    leaseMs: number,
  ): Promise<ClaimedJob[]> {
    assertClaim(queues, limit, workerId, leaseMs);
    const now = this.#now();
    const candidates = [...this.#jobs.values()].filter(
      (s) => queues.includes(s.record.queue) && claimable(s, now),
    );
    candidates.sort(
      (a, b) =>
        queues.indexOf(a.record.queue) - queues.indexOf(b.record.queue) ||
        b.record.priority - a.record.priority ||
        a.availableAt - b.availableAt ||
        (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0),
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
    assertLease(leaseMs);
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    slot.leaseUntil = this.#now() + leaseMs;
    return true;
  }

  async complete(lease: JobLease): Promise<boolean> {
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    const now = this.#now();
    this.#remove(slot);
    const { record } = slot;
    if (record.chain !== undefined && record.chain.length > 0) {
      const [next, ...rest] = record.chain as JobRecord[];
      const { chain: _chain, ...head } = next as JobRecord;
      this.#insert([
        {
          ...head,
          availableAt: Math.max(head.availableAt, now),
          ...(rest.length > 0 ? { chain: rest } : {}),
        },
      ]);
    }
    if (record.parentId !== undefined) {
      const parent = this.#jobs.get(record.parentId);
      if (parent !== undefined && parent.pendingChildren > 0) {
        parent.pendingChildren--;
        // Due now once its last child is done, so it queues behind jobs ready before it.
        if (parent.pendingChildren === 0 && parent.leaseUntil === 0 && parent.availableAt < now)
          parent.availableAt = now;
        if (parent.pendingChildren === 0) this.#wake();
      }
    }
    this.#countBatch(record.batchId, false, now);
    return true;
  }

  async retry(lease: JobLease, availableAt: number): Promise<boolean> {
    assertAvailableAt(availableAt);
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
    const now = this.#now();
    this.#remove(slot);
    const { record } = slot;
    const id = randomUUID();
    this.#failed.set(id, {
      failed: {
        id,
        jobId: record.id,
        name: record.name,
        queue: record.queue,
        payload: record.payload,
        attempts: slot.attempt,
        error: String(error),
        failedAt: now,
        meta: record.meta,
      },
      record,
      // complete/fail bump the fence in the database driver; so does this one.
      fence: slot.fence + 1,
    });
    this.#countBatch(record.batchId, true, now);
    return true;
  }

  async release(lease: JobLease, availableAt?: number): Promise<boolean> {
    if (availableAt !== undefined) assertAvailableAt(availableAt);
    const slot = this.#held(lease);
    if (slot === undefined) return false;
    slot.attempt = Math.max(0, slot.attempt - 1);
    slot.leaseUntil = 0;
    slot.workerId = '';
    if (availableAt !== undefined) slot.availableAt = availableAt;
    this.#wake();
    return true;
  }

  waitForJobs(queues: readonly string[], maxWaitMs: number, signal: AbortSignal): Promise<void> {
    assertQueues(queues);
    return abortableWait(maxWaitMs, signal, (wake) => {
      this.#waiters.add(wake);
      return () => this.#waiters.delete(wake);
    });
  }

  async stats(queues?: readonly string[]): Promise<QueueStats[]> {
    if (queues !== undefined) assertQueues(queues);
    const now = this.#now();
    const names = new Set(queues ?? []);
    if (queues === undefined) {
      for (const s of this.#jobs.values()) names.add(s.record.queue);
      for (const f of this.#failed.values()) names.add(f.failed.queue);
    }
    const sorted = queues ?? [...names].sort();
    return sorted.map((queue) => {
      const jobs = [...this.#jobs.values()].filter((s) => s.record.queue === queue);
      const running = jobs.filter((s) => s.leaseUntil > now).length;
      const ready = jobs.filter((s) => claimable(s, now));
      return {
        queue,
        waiting: jobs.length - running,
        ready: ready.length,
        delayed: jobs.length - running - ready.length,
        running,
        oldestAgeMs: ready.reduce((max, s) => Math.max(max, now - s.availableAt), 0),
        failed: [...this.#failed.values()].filter((f) => f.failed.queue === queue).length,
      };
    });
  }

  async failed(
    options: { queue?: string; limit?: number; offset?: number } = {},
  ): Promise<FailedJob[]> {
    const { limit, offset } = failedPage(options);
    return [...this.#failed.values()]
      .map((f) => f.failed)
      .filter((f) => options.queue === undefined || f.queue === options.queue)
      .sort((a, b) => b.failedAt - a.failedAt || (a.id < b.id ? -1 : 1))
      .slice(offset, offset + limit);
  }

  async retryFailed(ids: readonly string[] | 'all'): Promise<number> {
    const chosen =
      ids === 'all'
        ? [...this.#failed.keys()]
        : [...new Set(ids)].filter((id) => this.#failed.has(String(id)));
    const now = this.#now();
    for (const id of chosen) {
      const { record, fence } = this.#failed.get(id) as FailedSlot;
      this.#failed.delete(id);
      this.#insert([{ ...record, availableAt: now }], new Map([[record.id, fence]]));
      const batch = record.batchId === undefined ? undefined : this.#batches.get(record.batchId);
      if (batch !== undefined && batch.failed > 0)
        this.#batches.set(batch.id, {
          ...batch,
          pending: batch.pending + 1,
          failed: batch.failed - 1,
          finishedAt: null,
        });
    }
    return chosen.length;
  }

  async forgetFailed(id: string): Promise<boolean> {
    return this.#failed.delete(String(id));
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
    return this.#deleteFailed(olderThan === undefined ? undefined : this.#now() - olderThan);
  }

  async clear(queue: string): Promise<number> {
    assertQueues([queue]);
    let removed = 0;
    const now = this.#now();
    for (const slot of [...this.#jobs.values()])
      if (slot.record.queue === queue && slot.leaseUntil <= now) {
        this.#remove(slot);
        removed++;
      }
    return removed;
  }

  async batch(id: string): Promise<BatchRecord | undefined> {
    const batch = this.#batches.get(String(id));
    return batch === undefined ? undefined : { ...batch };
  }

  /** Mark the batch cancelled and drop its jobs not yet claimed; running ones finish. */
  async cancelBatch(id: string): Promise<void> {
    const batch = this.#batches.get(String(id));
    if (batch === undefined || batch.cancelledAt !== null) return;
    const now = this.#now();
    let dropped = 0;
    for (const slot of [...this.#jobs.values()])
      if (slot.record.batchId === batch.id && slot.leaseUntil === 0) {
        this.#remove(slot);
        dropped++;
      }
    const pending = Math.max(0, batch.pending - dropped);
    this.#batches.set(batch.id, {
      ...batch,
      cancelledAt: now,
      pending,
      finishedAt: pending === 0 && batch.finishedAt === null ? now : batch.finishedAt,
    });
  }

  async prune(before: number): Promise<{ batches: number; failed: number }> {
    assertArgument(Number.isSafeInteger(before), 'before', 'epoch milliseconds', before);
    let batches = 0;
    for (const [id, b] of this.#batches)
      if (b.finishedAt !== null && b.finishedAt < before) {
        this.#batches.delete(id);
        batches++;
      }
    return { batches, failed: this.#deleteFailed(before) };
  }

  async close(): Promise<void> {
    this.#wake();
  }

  /** Tests: make the current lease of job `id` expired, as if its worker died. */
  expireLease(id: string): void {
    const slot = this.#jobs.get(id);
    if (slot !== undefined && slot.leaseUntil > 0) slot.leaseUntil = 1;
  }

  /** The slot `lease` names, if that attempt still holds it. */
  #held(lease: JobLease): Slot | undefined {
    assertJobLease(lease);
    const slot = this.#jobs.get(lease.id);
    return slot !== undefined && slot.fence === lease.fence && slot.leaseUntil > 0
      ? slot
      : undefined;
  }

  /** Delete a job and free its unique key. */
  #remove(slot: Slot): void {
    this.#jobs.delete(slot.record.id);
    const key = slot.record.uniqueKey;
    if (key !== undefined && this.#unique.get(key) === slot.record.id) this.#unique.delete(key);
  }

  #deleteFailed(before: number | undefined): number {
    let removed = 0;
    for (const [id, f] of this.#failed)
      if (before === undefined || f.failed.failedAt < before) {
        this.#failed.delete(id);
        removed++;
      }
    return removed;
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #claimed(slot: Slot): ClaimedJob {
    return claimedJob(
      { ...slot.record, pendingChildren: slot.pendingChildren },
      slot.attempt,
      slot.fence,
      slot.leaseUntil,
      slot.workerId,
    );
  }

  /** A batch job ran for good: count it and dispatch the callbacks it triggers. */
  #countBatch(id: string | undefined, failed: boolean, now: number): void {
    if (id === undefined) return;
    const before = this.#batches.get(id);
    if (before === undefined) return;
    const batch: BatchRecord =
      before.pending > 0
        ? { ...before, pending: before.pending - 1, failed: before.failed + (failed ? 1 : 0) }
        : before;
    const callbacks: JobRecord[] = [];
    const live = batch.cancelledAt === null;
    if (failed && batch.failed === 1 && live)
      callbacks.push(...batchCallbacks(batch.callbacks, 'catch'));
    let finishedAt = batch.finishedAt;
    if (batch.pending === 0 && batch.finishedAt === null) {
      finishedAt = now;
      if (live && batch.failed === 0) callbacks.push(...batchCallbacks(batch.callbacks, 'then'));
      if (live) callbacks.push(...batchCallbacks(batch.callbacks, 'finally'));
    }
    this.#batches.set(id, { ...batch, finishedAt });
    // Fresh ids: a batch finishing again after a retry dispatches its callbacks again.
    if (callbacks.length > 0)
      this.#insert(callbacks.map((c) => ({ ...c, id: randomUUID(), availableAt: now })));
  }
}

/** Not leased, due and waiting for no child; or leased with the lease expired. */
function claimable(slot: Slot, now: number): boolean {
  return slot.leaseUntil === 0
    ? slot.availableAt <= now && slot.pendingChildren === 0
    : slot.leaseUntil <= now;
}
