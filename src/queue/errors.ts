import { defineError } from '../support/index.js';

/**
 * The queue catalogue: jobs refused at dispatch (500: a programming error in the code that
 * dispatched), and what a worker records in `failed_jobs` when a job cannot run.
 */

export const E_QUEUE_INVALID_JOB = defineError(
  'E_QUEUE_INVALID_JOB',
  (name: string, reason: string) => `Cannot dispatch job "${name.slice(0, 100)}": ${reason}`,
  {
    status: 500,
    help: 'Register the job class (queue.register or a module jobs/ folder), give it a JSON payload under the size limit (pass ids, not data), and positive tries.',
    details: (name, reason) => ({ job: name.slice(0, 200), reason }),
  },
);

export const E_QUEUE_UNKNOWN_JOB = defineError(
  'E_QUEUE_UNKNOWN_JOB',
  (name: string) => `No job class is registered as "${name.slice(0, 100)}"`,
  {
    status: 500,
    help: 'Deploy the code that defines this job to the workers (or register it with queue.register), then run `keel queue:retry` on the failed job.',
    details: (name) => ({ job: name.slice(0, 200) }),
  },
);

export const E_QUEUE_MALFORMED_PAYLOAD = defineError(
  'E_QUEUE_MALFORMED_PAYLOAD',
  (name: string, reason: string) =>
    `The payload of job "${name.slice(0, 100)}" cannot be read: ${reason}`,
  {
    status: 500,
    help: 'The stored payload is not the JSON Keel wrote (edited by hand, or written by another program); fix or forget the failed job (`keel queue:forget`).',
    details: (name, reason) => ({ job: name.slice(0, 200), reason }),
  },
);

export const E_QUEUE_JOB_TIMEOUT = defineError(
  'E_QUEUE_JOB_TIMEOUT',
  (name: string, ms: number) => `Job "${name.slice(0, 100)}" did not finish within ${ms} ms`,
  {
    status: 500,
    help: "Make the handler honour ctx.signal and finish sooner, or raise the job's timeout option.",
    details: (name, ms) => ({ job: name.slice(0, 200), timeoutMs: ms }),
  },
);

export const E_QUEUE_INVALID_ARGUMENT = defineError(
  'E_QUEUE_INVALID_ARGUMENT',
  (name: string, expected: string, value: string) =>
    `Queue driver argument "${name}" must be ${expected} (got ${value})`,
  {
    status: 500,
    help: 'Pass the queue driver a non-empty list of queue names, a claim limit from 1 to 1000, a positive lease in milliseconds and a list limit from 1 to 1000.',
    details: (name, expected, value) => ({ argument: name, expected, value }),
  },
);

export const E_QUEUE_CONFIG_INVALID = defineError(
  'E_QUEUE_CONFIG_INVALID',
  (path: string, reason: string) => `Invalid queue config at "${path}": ${reason}`,
  {
    status: 500,
    help: 'Fix config/queue.ts (or QUEUE_CONNECTION); see docs/queue.md for every option.',
    details: (path) => ({ path }),
  },
);

export const E_QUEUE_WORKER_LOST = defineError(
  'E_QUEUE_WORKER_LOST',
  (name: string, attempts: number) =>
    `Job "${name.slice(0, 100)}" was reclaimed after its worker stopped heartbeating, with no tries left (${attempts} attempts made)`,
  {
    status: 500,
    help: 'A worker died or stalled mid-job (killed, out of memory, event loop blocked past the lease): check the worker logs, then `keel queue:retry` the job.',
    details: (name, attempts) => ({ job: name.slice(0, 200), attempts }),
  },
);

export const E_QUEUE_INVALID_MIDDLEWARE = defineError(
  'E_QUEUE_INVALID_MIDDLEWARE',
  (middleware: string, reason: string) => `Invalid job middleware ${middleware}: ${reason}`,
  {
    status: 500,
    help: 'Give rateLimited a whole max from 1 to 1000 and a positive per; give durations as ms or strings such as "10s"; give keys as non-empty strings or functions returning one.',
    details: (middleware, reason) => ({ middleware, reason }),
  },
);

export const E_QUEUE_MIDDLEWARE_NEEDS_LOCKS = defineError(
  'E_QUEUE_MIDDLEWARE_NEEDS_LOCKS',
  (middleware: string, job: string) =>
    `Job middleware ${middleware} of job "${job.slice(0, 100)}" needs locks, and this worker has none`,
  {
    status: 500,
    help: "Run the worker in an app with the LockProvider (app.make('locks')), or pass `locks` to new Worker(); for several processes use the database or redis lock driver.",
    details: (middleware, job) => ({ middleware, job: job.slice(0, 200) }),
  },
);
