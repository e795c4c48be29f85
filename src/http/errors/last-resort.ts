import type { Awaitable } from '../../support/index.js';
import { type ErrorLogger, type ErrorReporterRegistry, loggable } from './error-reporter.js';
import { describeThrown, truncate } from './safe-error.js';

/** The part of `process` the handlers attach to (a plain EventEmitter in tests). */
export type LastResortTarget = Pick<NodeJS.EventEmitter, 'on' | 'off'>;

export interface LastResortOptions {
  logger: ErrorLogger;
  /** Where the errors are reported (Sentry, the aggregator) besides the log line. */
  reporters?: ErrorReporterRegistry;
  /**
   * What to do after an uncaught exception was logged and reported. Default: run `shutdown`
   * (bounded by `fatalTimeoutMs`), then `exit(1)`. A custom one must end the process itself.
   */
  onFatal?: (error: unknown) => Awaitable<void>;
  /** The graceful shutdown the default `onFatal` runs, usually `() => app.shutdown('fatal')`. */
  shutdown?: () => Promise<void>;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
  /** Longest the default `onFatal` waits for reports and shutdown before exiting. Default 10 s. */
  fatalTimeoutMs?: number;
  /** Treat an unhandled rejection as fatal, like an uncaught exception. Default `false`. */
  exitOnUnhandledRejection?: boolean;
  /** Default `process`. */
  process?: LastResortTarget;
}

/**
 * Catch what escaped everything else. An `uncaughtException` is logged, reported, then
 * `onFatal` runs (default: graceful shutdown, exit 1): after a synchronous throw nobody
 * caught, the process state is unknown and it must not keep serving. An `unhandledRejection`
 * is logged and reported but does not stop the process (unless `exitOnUnhandledRejection`):
 * it is almost always a forgotten `await` on a side task, and crashing would drop every
 * request in flight. Returns a function removing both handlers.
 *
 * @example
 * ```ts
 * const uninstall = installLastResortHandlers({
 *   logger: app.logger,
 *   reporters,
 *   shutdown: () => app.shutdown('uncaught exception'),
 * });
 * ```
 */
export function installLastResortHandlers(options: LastResortOptions): () => void {
  const target: LastResortTarget = options.process ?? process;
  const { logger, reporters } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.fatalTimeoutMs ?? 10_000;
  let fatal = false;

  const log = (level: 'error' | 'fatal', error: unknown, msg: string, extra = {}): void => {
    try {
      const write = level === 'fatal' && logger.fatal ? logger.fatal : logger.error;
      write.call(logger, { err: loggable(error), ...extra }, msg);
    } catch {
      // a broken logger must not turn the last resort into another uncaught exception
    }
  };

  const report = (error: unknown, source: string): void => {
    void reporters?.report(error, { source, status: 500, logged: true });
  };

  const defaultOnFatal = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    // Referenced on purpose: it keeps the process alive until exit even if shutdown hangs
    // with nothing else on the event loop (an empty loop would end the process with code 0).
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log('error', new Error(`shutdown did not finish within ${timeoutMs} ms`), 'Forcing exit');
        resolve();
      }, timeoutMs);
    });
    const work = (async () => {
      await reporters?.flush(timeoutMs);
      await options.shutdown?.();
    })().catch((error: unknown) => log('error', error, 'Shutdown after a fatal error failed'));
    await Promise.race([work, deadline]);
    clearTimeout(timer);
    exit(1);
  };

  const runFatal = (error: unknown): void => {
    fatal = true;
    const onFatal = options.onFatal ?? defaultOnFatal;
    Promise.resolve()
      .then(() => onFatal(error))
      .catch((failure: unknown) => {
        log('fatal', failure, 'The fatal error handler failed');
        exit(1);
      });
  };

  const onUncaught = (error: unknown, origin?: string): void => {
    const message = truncate(describeThrown(error).message, 500);
    if (fatal) {
      log('error', error, `Another uncaught exception while stopping: ${message}`, { origin });
      return;
    }
    log('fatal', error, `Uncaught exception: ${message}`, { origin });
    report(error, 'uncaughtException');
    runFatal(error);
  };

  const onRejection = (reason: unknown): void => {
    const message = truncate(describeThrown(reason).message, 500);
    if (options.exitOnUnhandledRejection && !fatal) {
      log('fatal', reason, `Unhandled promise rejection: ${message}`);
      report(reason, 'unhandledRejection');
      runFatal(reason);
      return;
    }
    log('error', reason, `Unhandled promise rejection: ${message}`);
    report(reason, 'unhandledRejection');
  };

  target.on('uncaughtException', onUncaught);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onUncaught);
    target.off('unhandledRejection', onRejection);
  };
}
