import type { Logger } from '../../kernel/index.js';
import type { ClaimedJob, JobInstrument, JobOutcome, JobOutcomeStatus } from '../../queue/index.js';

// Attempts that failed (for good or to be retried) are logged by the worker already, with
// their error, at error and warn: a second line would only repeat them.
const MESSAGES: Partial<Record<JobOutcomeStatus, string>> = {
  completed: 'job completed',
  delayed: 'job delayed',
  lost: 'job lost',
};

/**
 * One info line per attempt that completed, was delayed (job middleware gave it back) or
 * was lost (another worker holds it now): `job_id`, `job`, `queue`, `attempt`, `status`,
 * `duration_ms`, and the dispatching request's `request_id` from the job's scope.
 *
 * @example
 * ```ts
 * app.make('queue').instrument(jobLogInstrument(app.logger));
 * ```
 */
export function jobLogInstrument(logger: Logger): JobInstrument<undefined> {
  return {
    name: 'logging.jobs',
    end(job: ClaimedJob, _state: undefined, outcome: JobOutcome) {
      const message = MESSAGES[outcome.status];
      if (message === undefined) return;
      logger.info(
        {
          job_id: job.id,
          job: job.name,
          queue: job.queue,
          attempt: job.attempt,
          status: outcome.status,
          duration_ms: Math.round(outcome.durationMs * 1000) / 1000,
        },
        message,
      );
    },
  };
}
