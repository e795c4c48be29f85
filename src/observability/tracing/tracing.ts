import type { Tracer } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { executionContext } from '../../kernel/index.js';
import type { TracingConfig, TracingDriver } from './config.js';
import type { TracingRuntime } from './tracing-runtime.js';

/**
 * Tracing as the application sees it: `app.make('tracing')`. Spans themselves are made with
 * `@opentelemetry/api` (`trace.getTracer('my-module')`), which Keel wires to its provider
 * when tracing is on; this service tells whether it is, flushes, and (with the `memory`
 * driver) hands the finished spans to tests.
 *
 * @example
 * ```ts
 * const tracing = app.make('tracing');
 * if (tracing.enabled) logger.info({ trace_id: tracing.traceId() }, 'handled');
 * const spans = tracing.finishedSpans(); // driver 'memory'
 * ```
 */
export class Tracing {
  readonly config: TracingConfig;
  readonly #runtime: TracingRuntime | undefined;

  constructor(config: TracingConfig, runtime?: TracingRuntime) {
    this.config = config;
    this.#runtime = runtime;
  }

  /** Whether spans are recorded (TRACING_ENABLED and a driver other than `noop`). */
  get enabled(): boolean {
    return this.#runtime !== undefined;
  }

  get driver(): TracingDriver {
    return this.config.driver;
  }

  /** Keel's own tracer (undefined when tracing is off). */
  get tracer(): Tracer | undefined {
    return this.#runtime?.tracer;
  }

  /** The trace id of the request or job running now, when it is traced. */
  traceId(): string | undefined {
    return executionContext.current()?.fields?.trace_id as string | undefined;
  }

  /** The spans ended so far, oldest first (the `memory` driver; empty otherwise). */
  finishedSpans(): readonly ReadableSpan[] {
    return this.#runtime?.finishedSpans() ?? [];
  }

  /** Forget the finished spans of the `memory` driver. */
  resetSpans(): void {
    this.#runtime?.resetSpans();
  }

  /** Export every ended span now (a no-op when tracing is off). */
  async flush(): Promise<void> {
    await this.#runtime?.flush();
  }
}
