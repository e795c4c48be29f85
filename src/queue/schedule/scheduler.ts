import { performance } from 'node:perf_hooks';
import type { Logger } from '../../kernel/logger.js';
import type { LockManager } from '../../locks/index.js';
import { isKeelError } from '../../support/index.js';
import type { Job } from '../job.js';
import type { CommandRunner } from './command-runner.js';
import { MINUTE_MS, startOfMinute } from './cron-expression.js';
import { E_SCHEDULE_NO_DISPATCHER, E_SCHEDULE_NO_LOCKS } from './errors.js';
import type { Schedule } from './schedule.js';
import { buildJob, type ScheduledTask } from './scheduled-task.js';

/** Hands a job to the queue (the queue's `dispatch`, once it exists). */
export type JobDispatcher = (job: Job<unknown>) => unknown;

export interface SchedulerOptions {
  schedule: Schedule;
  logger: Logger;
  /** Runs command tasks (see commandRunner); without it command tasks fail. */
  runCommand?: CommandRunner;
  /** Dispatches job tasks; settable later with useDispatcher(). */
  dispatch?: JobDispatcher;
  /** Locks for withoutOverlapping() and onOneServer() (a getter: locks may be bound later). */
  locks?: LockManager | (() => LockManager | undefined);
  /** The app's environment, for `environments()` filters. */
  environment?: string;
  /** The clock (tests inject one); default `() => new Date()`. */
  now?: () => Date;
}

/** How one due task went. */
export interface TaskRunResult {
  readonly name: string;
  /** `skipped` when a filter, the overlap lock or another server took the run. */
  readonly status: 'ran' | 'failed' | 'skipped';
  readonly reason?: 'filtered' | 'overlapping' | 'other-server' | 'environment';
  readonly durationMs: number;
  readonly error?: unknown;
}

/** The next run of a task, for `schedule:list`. */
export interface TaskSchedule {
  readonly task: ScheduledTask;
  readonly nextRun: Date | null;
}

/**
 * Runs the tasks of a {@link Schedule}: `due(now)` picks the tasks due in that minute,
 * `runDue(now)` runs them side by side, each isolated (a failing task is logged and the
 * others go on), with the overlap and one-server locks. `app.make('scheduler')`.
 *
 * onOneServer takes a lock named after the task and the minute, and keeps it for an hour
 * without releasing it: a server whose clock or tick lags behind cannot take the minute
 * again after a fast run released it. withoutOverlapping takes a lock named after the task,
 * released when the run ends (or after its ttl, if the process died).
 *
 * @example
 * ```ts
 * const scheduler = app.make('scheduler');
 * const results = await scheduler.runDue(); // the tasks due this minute
 * ```
 */
export class Scheduler {
  readonly schedule: Schedule;
  readonly #logger: Logger;
  readonly #runCommand: CommandRunner | undefined;
  readonly #locks: () => LockManager | undefined;
  readonly #environment: string | undefined;
  readonly #now: () => Date;
  #dispatch: JobDispatcher | undefined;

  constructor(options: SchedulerOptions) {
    this.schedule = options.schedule;
    this.#logger = options.logger;
    this.#runCommand = options.runCommand;
    this.#dispatch = options.dispatch;
    const locks = options.locks;
    this.#locks = typeof locks === 'function' ? locks : () => locks;
    this.#environment = options.environment;
    this.#now = options.now ?? (() => new Date());
  }

  /** The clock's current time. */
  now(): Date {
    return this.#now();
  }

  /** Set the function that dispatches job tasks (the queue provider calls it). */
  useDispatcher(dispatch: JobDispatcher): this {
    this.#dispatch = dispatch;
    return this;
  }

  /** The tasks due in the minute containing `now`, in definition order. */
  due(now: Date = this.#now()): ScheduledTask[] {
    return this.schedule.tasks().filter((task) => task.compiled.isDue(now));
  }

  /** Each task with its next run strictly after `now`'s minute has begun. */
  upcoming(now: Date = this.#now()): TaskSchedule[] {
    const from = new Date(startOfMinute(now).getTime() + MINUTE_MS - 1000);
    return this.schedule.tasks().map((task) => ({ task, nextRun: task.compiled.nextRun(from) }));
  }

  /**
   * Run the tasks due in the minute containing `now`. Resolves once every one has finished,
   * never rejects: each result says whether its task ran, failed or was skipped.
   */
  async runDue(now: Date = this.#now()): Promise<TaskRunResult[]> {
    const minute = startOfMinute(now);
    const due = this.due(minute);
    return Promise.all(due.map((task) => this.run(task, minute)));
  }

  /** Run one task now, as due at `scheduledAt` (filters and locks apply). Never rejects. */
  async run(
    task: ScheduledTask,
    scheduledAt: Date = startOfMinute(this.#now()),
  ): Promise<TaskRunResult> {
    const info = task.info;
    const logger = this.#logger.child({ task: info.name });
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
    const skipped = (reason: NonNullable<TaskRunResult['reason']>): TaskRunResult => {
      logger.debug({ reason }, `schedule: ${info.name} skipped (${reason})`);
      return { name: info.name, status: 'skipped', reason, durationMs: elapsed() };
    };
    let release: (() => Promise<unknown>) | undefined;
    try {
      if (info.environments && !info.environments.includes(this.#environment ?? ''))
        return skipped('environment');
      for (const filter of task.filters)
        if (Boolean(await filter.fn(scheduledAt)) === filter.skip) return skipped('filtered');
      if (info.onOneServer) {
        const locks = this.#requireLocks(info.name, 'onOneServer()');
        // Held past the run on purpose (see the class comment); expires after an hour.
        const lock = locks.lock(`schedule:server:${info.name}:${scheduledAt.toISOString()}`, '1h');
        if ((await lock.acquire()) === null) return skipped('other-server');
      }
      if (info.withoutOverlapping !== undefined) {
        const locks = this.#requireLocks(info.name, 'withoutOverlapping()');
        const lock = locks.lock(`schedule:overlap:${info.name}`, info.withoutOverlapping);
        if ((await lock.acquire()) === null) return skipped('overlapping');
        release = () => lock.release();
      }
      logger.info({ scheduledAt }, `schedule: ${info.name} started`);
      await this.#execute(task, scheduledAt, logger);
      const durationMs = elapsed();
      logger.info({ durationMs }, `schedule: ${info.name} finished in ${durationMs} ms`);
      return { name: info.name, status: 'ran', durationMs };
    } catch (error) {
      const durationMs = elapsed();
      const message = isKeelError(error)
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
      logger.error(
        { err: error, durationMs },
        `schedule: ${info.name} failed after ${durationMs} ms: ${message}`,
      );
      return { name: info.name, status: 'failed', durationMs, error };
    } finally {
      // A failed release only means the lease already ran out; its ttl cleans up.
      await release?.().catch(() => false);
    }
  }

  async #execute(task: ScheduledTask, scheduledAt: Date, logger: Logger): Promise<void> {
    const target = task.target;
    const name = task.info.name;
    if (target.kind === 'call') {
      await target.fn({ name, scheduledAt, logger });
      return;
    }
    if (target.kind === 'command') {
      if (!this.#runCommand)
        throw new Error(`no command runner: the scheduler was created without runCommand`);
      await this.#runCommand(target.command, target.argv, logger);
      return;
    }
    if (!this.#dispatch) throw new E_SCHEDULE_NO_DISPATCHER(name);
    await this.#dispatch(buildJob(target));
  }

  #requireLocks(task: string, feature: string): LockManager {
    const locks = this.#locks();
    if (!locks) throw new E_SCHEDULE_NO_LOCKS(task, feature);
    return locks;
  }
}
