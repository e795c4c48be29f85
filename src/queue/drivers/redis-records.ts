import type { Job as BullJob } from 'bullmq';
import { hasKeys } from '../../support/object.js';
import type { FailedJob, JobRecord } from '../driver.js';

/** The Redis driver's mapping between Keel records and BullMQ jobs. */

/**
 * A record as a BullMQ job's data keeps it: the fields that differ from their defaults.
 * The id, name and queue are the BullMQ job's own, `availableAt` defaults to `createdAt`.
 * Jobs stored whole (by an earlier Keel) read the same.
 */
export type StoredRecord = Partial<JobRecord> & Pick<JobRecord, 'payload' | 'createdAt'>;

/** What a BullMQ job's `data` holds: the Keel record, and what Keel adds over its life. */
export interface JobData {
  record: StoredRecord;
  /** Claims given back by release(): not attempts (BullMQ counts every activation). */
  released?: number;
  failedAt?: number;
  error?: string;
  attempts?: number;
  /**
   * Claims made before the last retry from failed_jobs (which restarts BullMQ's count): a
   * fence is this plus attempts-started, so it keeps rising across the retry.
   */
  claimsBefore?: number;
}

// Keel: higher first, any int32. BullMQ: 1..2^21-1, lower first; 0 would put the job on the
// plain wait list, which BullMQ serves before every prioritized job, so 0 is never used.
const PRIORITY_MIDDLE = 2 ** 20;
const PRIORITY_LIMIT = 2 ** 21 - 1;
export const bullPriority = (priority: number): number =>
  Math.min(PRIORITY_LIMIT, Math.max(1, PRIORITY_MIDDLE - priority));

/** BullMQ refuses `:` in queue names: Keel's names are encoded, hostile ones included. */
export const bullName = (queue: string): string => encodeURIComponent(queue);

/**
 * What a job's data stores of `record`. A no-op job's record is a third of its full JSON:
 * less for Redis to keep, and less for every claim to parse.
 */
export function storeRecord(record: JobRecord): StoredRecord {
  const stored: { -readonly [K in keyof StoredRecord]: StoredRecord[K] } = {
    payload: record.payload,
    createdAt: record.createdAt,
  };
  if (record.availableAt !== record.createdAt) stored.availableAt = record.availableAt;
  if (record.priority !== 0) stored.priority = record.priority;
  if (record.maxAttempts !== 1) stored.maxAttempts = record.maxAttempts;
  if (record.retryUntil !== 0) stored.retryUntil = record.retryUntil;
  if (record.timeoutMs !== 0) stored.timeoutMs = record.timeoutMs;
  if (record.backoffExponential || record.backoffMs.length !== 1 || record.backoffMs[0] !== 0) {
    stored.backoffMs = record.backoffMs;
    stored.backoffExponential = record.backoffExponential;
  }
  if (record.uniqueKey !== undefined) stored.uniqueKey = record.uniqueKey;
  if (record.uniqueUntil !== undefined) stored.uniqueUntil = record.uniqueUntil;
  if (record.chain !== undefined && record.chain.length > 0) stored.chain = record.chain;
  if (hasKeys(record.meta)) stored.meta = record.meta;
  return stored;
}

const NO_BACKOFF: readonly number[] = Object.freeze([0]);
const NO_META: Readonly<Record<string, string>> = Object.freeze({});

/** The record a BullMQ job carries. */
export function recordOf(job: BullJob<JobData>): JobRecord {
  const stored = job.data.record;
  return {
    id: stored.id ?? (job.id as string),
    name: stored.name ?? job.name,
    queue: stored.queue ?? decodeURIComponent(job.queueName),
    payload: stored.payload,
    priority: stored.priority ?? 0,
    availableAt: stored.availableAt ?? stored.createdAt,
    maxAttempts: stored.maxAttempts ?? 1,
    retryUntil: stored.retryUntil ?? 0,
    timeoutMs: stored.timeoutMs ?? 0,
    backoffMs: stored.backoffMs ?? NO_BACKOFF,
    backoffExponential: stored.backoffExponential ?? false,
    uniqueKey: stored.uniqueKey,
    uniqueUntil: stored.uniqueUntil,
    batchId: undefined,
    chain: stored.chain,
    parentId: undefined,
    pendingChildren: undefined,
    meta: stored.meta ?? NO_META,
    createdAt: stored.createdAt,
  };
}

/** A BullMQ answer that means "this attempt no longer holds the job". */
export function isFencedOut(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /lock|not in the active|not in the expected|does not exist|missing key/i.test(message);
}

/** A BullMQ failed job as a Keel `failed_jobs` row. */
export function toFailed(job: BullJob<JobData>): FailedJob {
  const { error, failedAt, attempts } = job.data;
  const record = recordOf(job);
  return {
    id: job.id as string,
    jobId: record.id,
    name: record.name,
    queue: record.queue,
    payload: record.payload,
    attempts: attempts ?? job.attemptsStarted,
    error: error ?? job.failedReason ?? '',
    failedAt: failedAt ?? job.finishedOn ?? 0,
    meta: record.meta,
  };
}
