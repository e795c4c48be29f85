import { statusOf } from './problem.js';
import { describeThrown, safeIsError, truncate } from './safe-error.js';

/** What a reporter receives for one error. */
export interface ErrorEvent {
  error: unknown;
  /** The HTTP status the error answered with (500 outside requests). */
  status: number;
  /** `'request'`, `'unhandledRejection'`, `'uncaughtException'`, or the app's own (`'job'`). */
  source: string;
  requestId?: string;
  method?: string;
  path?: string;
  /** The matched route pattern (`/users/:id`). */
  route?: string;
  userId?: string | number;
  /** True when the caller already wrote the error to the log (the logger reporter skips it). */
  logged?: boolean;
}

/** Where reported errors go: a log, Sentry, the aggregator. May be async; may not throw (it is caught). */
export type ErrorReporter = (event: ErrorEvent) => void | Promise<void>;

/** What `report()` takes besides the error; `status` defaults to the error's own. */
export type ReportContext = Partial<Omit<ErrorEvent, 'error'>>;

/**
 * The logger shape the error layer writes to: pino's, or anything with `error(obj, msg)`.
 * `warn` and `fatal` are used when present.
 */
export interface ErrorLogger {
  error(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  fatal?(obj: object, msg?: string): void;
}

/**
 * Marks an error once reported. `Symbol.for` so that two copies of Keel in one process (a
 * linked package) agree; frozen errors that cannot be marked are remembered in a WeakSet.
 */
const REPORTED = Symbol.for('keel.error.reported');
const reportedFrozen = new WeakSet<object>();

function isReported(error: unknown): boolean {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return false;
  try {
    return (error as { [REPORTED]?: boolean })[REPORTED] === true || reportedFrozen.has(error);
  } catch {
    return false;
  }
}

function markReported(error: unknown): void {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return;
  try {
    Object.defineProperty(error, REPORTED, { value: true, enumerable: false, configurable: true });
  } catch {
    try {
      reportedFrozen.add(error);
    } catch {
      // not even a WeakSet key: it will be reported again if thrown again
    }
  }
}

/** Console fallback used when no logger is given. */
const consoleLogger: ErrorLogger = {
  error: (obj, msg) => console.error(msg ?? '', obj),
};

/**
 * Sends each error to every registered reporter, once. The same error rethrown through
 * middleware layers is reported the first time only; errors under the reporting threshold
 * (4xx by default) are not reported; a reporter that throws or rejects is logged and never
 * breaks the response.
 *
 * @example
 * ```ts
 * const reporters = new ErrorReporterRegistry({ logger });
 * reporters.add(loggerReporter(logger));
 * await reporters.report(error, { requestId, method: 'GET', path: '/x', status: 500 });
 * ```
 */
export class ErrorReporterRegistry {
  readonly #reporters = new Set<ErrorReporter>();
  readonly #pending = new Set<Promise<void>>();
  readonly #logger: ErrorLogger;
  #minStatus = 500;

  constructor(options: { logger?: ErrorLogger; minStatus?: number } = {}) {
    this.#logger = options.logger ?? consoleLogger;
    if (options.minStatus !== undefined) this.reportStatuses(options.minStatus);
  }

  /** Add a reporter; returns a function removing it. */
  add(reporter: ErrorReporter): () => void {
    this.#reporters.add(reporter);
    return () => {
      this.#reporters.delete(reporter);
    };
  }

  /** How many reporters are registered. */
  get size(): number {
    return this.#reporters.size;
  }

  /** Report errors whose status is `min` or more (default 500; 400 to include client errors). */
  reportStatuses(min: number): this {
    this.#minStatus = Number.isFinite(min) ? min : 500;
    return this;
  }

  /** The current reporting threshold. */
  get minStatus(): number {
    return this.#minStatus;
  }

  /** True when `report(error)` would reach the reporters (threshold, not yet reported). */
  shouldReport(error: unknown, status = statusOf(error)): boolean {
    return status >= this.#minStatus && !isReported(error);
  }

  /**
   * Report an error: resolves `true` once every reporter settled, `false` when the error was
   * skipped (under the threshold, or already reported). Never rejects. Synchronous
   * reporters have run when it returns, so the response need not wait for the promise.
   */
  report(error: unknown, context: ReportContext = {}): Promise<boolean> {
    const status = context.status ?? statusOf(error);
    if (!this.shouldReport(error, status)) return Promise.resolve(false);
    markReported(error);
    const event: ErrorEvent = { source: 'request', ...context, error, status };
    const runs: Array<Promise<void>> = [];
    for (const reporter of this.#reporters) {
      try {
        const result = reporter(event);
        if (result && typeof result.then === 'function') {
          runs.push(Promise.resolve(result).catch((failure) => this.#failed(reporter, failure)));
        }
      } catch (failure) {
        this.#failed(reporter, failure);
      }
    }
    if (runs.length === 0) return Promise.resolve(true);
    const settled = Promise.all(runs).then(() => undefined);
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
    return settled.then(() => true);
  }

  /**
   * Wait for reports still in flight (async reporters sending over the network), at most
   * `timeoutMs`. Call before the process exits.
   */
  async flush(timeoutMs = 5000): Promise<void> {
    if (this.#pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.all(this.#pending), deadline]);
    clearTimeout(timer);
  }

  #failed(reporter: ErrorReporter, failure: unknown): void {
    try {
      this.#logger.error(
        { err: loggable(failure), reporter: reporter.name || 'anonymous' },
        'Error reporter failed',
      );
    } catch {
      // the logger itself is broken: nothing left to tell
    }
  }
}

/**
 * What to hand a logger as `err`: the error itself when it reads cleanly (so pino's
 * serializer keeps its cause chain and own fields), else a plain description of it.
 */
export function loggable(error: unknown): unknown {
  if (!safeIsError(error)) return describeThrown(error);
  try {
    void error.message;
    void error.stack;
    void (error as { cause?: unknown }).cause;
    JSON.stringify(error);
    return error;
  } catch {
    return describeThrown(error);
  }
}

/**
 * The default reporter: one log line per reported error, `error` level for 5xx and `warn`
 * below, with the request's id, method, path, route, status and user.
 *
 * @example
 * ```ts
 * reporters.add(loggerReporter(app.logger));
 * // {"level":50,"err":{...},"request_id":"r1","method":"GET","path":"/x","status":500,"msg":"GET /x failed: boom"}
 * ```
 */
export function loggerReporter(logger: ErrorLogger): ErrorReporter {
  return function loggerReporter(event: ErrorEvent): void {
    if (event.logged) return;
    const { message, code } = describeThrown(event.error);
    const fields: Record<string, unknown> = { err: loggable(event.error), status: event.status };
    // Log fields are snake_case like the ids the log mixin adds (the event keeps its API names).
    if (event.requestId !== undefined) fields.request_id = event.requestId;
    for (const key of ['method', 'path', 'route'] as const) {
      if (event[key] !== undefined) fields[key] = event[key];
    }
    if (event.userId !== undefined) fields.user_id = event.userId;
    if (event.source !== undefined) fields.source = event.source;
    if (code !== undefined) fields.code = code;
    const where = event.method && event.path ? `${event.method} ${event.path}` : event.source;
    const line = `${where} failed: ${truncate(message, 500)}`;
    if (event.status < 500 && logger.warn) logger.warn(fields, line);
    else logger.error(fields, line);
  };
}
