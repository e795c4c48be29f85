import type { Job as BullJob } from 'bullmq';
import type { FailedJob, JobRecord } from '../driver.js';

/** The Redis driver's mapping between Keel records and BullMQ jobs. */

/** What a BullMQ job's `data` holds: the Keel record, and what Keel adds over its life. */
export interface JobData {
  record: JobRecord;
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

/** A BullMQ answer that means "this attempt no longer holds the job". */
export function isFencedOut(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /lock|not in the active|not in the expected|does not exist|missing key/i.test(message);
}

/** A BullMQ failed job as a Keel `failed_jobs` row. */
export function toFailed(job: BullJob<JobData>): FailedJob {
  const { record, error, failedAt, attempts } = job.data;
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
