import type { EventEmitter } from 'node:events';
import type { Logger } from '../../kernel/logger.js';
import { abortableWait } from '../../support/abortable-wait.js';
import { MINUTE_MS, startOfMinute } from './cron-expression.js';
import type { Scheduler, TaskRunResult } from './scheduler.js';

export interface ScheduleWorkerOptions {
  scheduler: Scheduler;
  logger: Logger;
  /** Where SIGTERM and SIGINT come from (default `process`); tests pass an emitter. */
  signals?: Pick<EventEmitter, 'on' | 'off'>;
  /** Wait `ms` or until `signal` aborts (default: a timer); tests pass a fake. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called with each minute's results. */
  onTick?: (minute: Date, results: TaskRunResult[]) => void;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function sleepUntilAborted(ms: number, signal: AbortSignal): Promise<void> {
  return abortableWait(ms, signal);
}

/**
 * The `schedule:work` loop: sleeps to the next minute boundary (by the scheduler's clock),
 * runs the tasks due in that minute, and again. Ticks do not wait for each other: a task
 * that runs for five minutes does not delay the next minute's tasks (withoutOverlapping
 * keeps it from running twice). SIGTERM or SIGINT stops the loop; `run()` resolves once
 * the tasks already started have finished.
 *
 * @example
 * ```ts
 * await new ScheduleWorker({ scheduler: app.make('scheduler'), logger: app.logger }).run();
 * ```
 */
export class ScheduleWorker {
  readonly #scheduler: Scheduler;
  readonly #logger: Logger;
  readonly #signals: Pick<EventEmitter, 'on' | 'off'>;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #onTick: ScheduleWorkerOptions['onTick'];
  readonly #stopping = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #stopSignal: string | undefined;

  constructor(options: ScheduleWorkerOptions) {
    this.#scheduler = options.scheduler;
    this.#logger = options.logger;
    this.#signals = options.signals ?? process;
    this.#sleep = options.sleep ?? sleepUntilAborted;
    this.#onTick = options.onTick;
  }

  /** The signal (or `'stop()'`) that stopped the loop, once stopped. */
  get stoppedBy(): string | undefined {
    return this.#stopSignal;
  }

  /** Stop waiting for the next minute; tasks already running finish. */
  stop(reason = 'stop()'): void {
    if (this.#stopping.signal.aborted) return;
    this.#stopSignal = reason;
    this.#stopping.abort();
  }

  /** Run until stopped; resolves after the last started task has finished. */
  async run(): Promise<void> {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.#logger.info({ signal }, `schedule: ${signal} received, finishing running tasks`);
      this.stop(signal);
    };
    for (const name of STOP_SIGNALS) this.#signals.on(name, onSignal);
    try {
      // The minute being run: the first tick is the next boundary, never the current minute
      // (schedule:run exists for that), so a restart does not run a minute twice.
      let minute = startOfMinute(this.#scheduler.now()).getTime();
      while (!this.#stopping.signal.aborted) {
        const next = minute + MINUTE_MS;
        const wait = next - this.#scheduler.now().getTime();
        if (wait > 0) await this.#sleep(wait, this.#stopping.signal);
        if (this.#stopping.signal.aborted) break;
        // Timers may fire a little early: sleep again until the clock has reached the minute.
        const current = startOfMinute(this.#scheduler.now()).getTime();
        if (current < next) continue;
        // After a long pause (a suspended machine), run the current minute and skip the
        // missed ones, as cron does.
        if (current > next)
          this.#logger.warn(
            { missed: (current - next) / MINUTE_MS },
            'schedule: the clock jumped; missed minutes are not run',
          );
        minute = current;
        this.#tick(new Date(minute));
      }
    } finally {
      for (const name of STOP_SIGNALS) this.#signals.off(name, onSignal);
      await Promise.all(this.#running);
    }
  }

  #tick(minute: Date): void {
    const run = this.#scheduler
      .runDue(minute)
      .then((results) => this.#onTick?.(minute, results))
      .catch((error: unknown) => this.#logger.error({ err: error }, 'schedule: tick failed'));
    const tracked = run.finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
  }
}
