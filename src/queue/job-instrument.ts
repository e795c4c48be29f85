import type { ClaimedJob } from './driver.js';

/**
 * How one attempt ended: `completed`; `retried` (failed, runs again later); `failed` (for
 * good, into failed jobs); `delayed` (job middleware gave it back before it ran); `lost`
 * (another worker holds it now, or the outcome could not be recorded).
 */
export type JobOutcomeStatus = 'completed' | 'retried' | 'failed' | 'delayed' | 'lost';

/** What instruments learn when an attempt ends. */
export interface JobOutcome {
  status: JobOutcomeStatus;
  /** From the claim to the recorded outcome, in milliseconds. */
  durationMs: number;
  /** The error the attempt failed with (`retried`, `failed`, and some `lost`). */
  error: unknown;
}

/**
 * Observes every attempt a worker runs: job logs, metrics and tracing plug in here. `begin`
 * runs inside the job's execution scope (its `job_id`, and the `request_id` of the request
 * that dispatched it) before the handler; what it returns comes back to `end` once.
 * Neither may throw: a failing instrument is logged and the job goes on.
 *
 * @example
 * ```ts
 * worker options: { instruments: [{ name: 'timer', end: (job, _, o) => h.observe(o.durationMs) }] }
 * ```
 */
export interface JobInstrument<State = unknown> {
  readonly name: string;
  begin?(job: ClaimedJob): State;
  end(job: ClaimedJob, state: State, outcome: JobOutcome): void;
}
