import {
  context,
  DiagLogLevel,
  diag,
  propagation,
  ROOT_CONTEXT,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './config.js';
import { E_TRACING_SDK_MISSING } from './errors.js';
import { ExecutionContextManager } from './execution-context-manager.js';

/** What the tracing runtime needs to know about the application. */
export interface TracingRuntimeOptions {
  config: TracingConfig;
  serviceName: string;
  serviceVersion: string;
  /** Resource attributes from the app (`deployment.environment.name`, `process.pid`). */
  resource?: Record<string, string | number>;
  logger: { warn(fields: object, message: string): void };
}

/**
 * The OpenTelemetry side of tracing, loaded (with the SDK) only when tracing is on: the
 * tracer provider with its exporter, sampler and resource, and the process-wide API
 * registrations (context manager, tracer provider, W3C propagator) undone by `stop()`.
 */
export interface TracingRuntime {
  readonly tracer: Tracer;
  /** W3C Trace Context (`traceparent`, `tracestate`). */
  readonly propagator: TextMapPropagator;
  /** The spans ended so far (the `memory` driver; empty otherwise). */
  finishedSpans(): readonly ReadableSpan[];
  /** Forget the memory driver's finished spans. */
  resetSpans(): void;
  /** Export every ended span now. */
  flush(): Promise<void>;
  /** Flush, shut the exporter down and unregister the API globals this runtime set. */
  stop(): Promise<void>;
}

const KEEL_TRACER = 'keel';

/** Import an SDK package, naming it when it is not installed. */
async function load<T>(driver: string, name: string, loader: () => Promise<T>): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new E_TRACING_SDK_MISSING(driver, name).withCause(error);
    throw error;
  }
}

/**
 * Build the tracer provider for `options.config.driver` and register it, the execution
 * context manager and the W3C propagator with the OpenTelemetry API.
 *
 * @example
 * ```ts
 * const runtime = await startTracing({ config, serviceName: 'shop', serviceVersion: '1.2.0', logger });
 * runtime.tracer.startActiveSpan('work', (span) => span.end());
 * await runtime.stop();
 * ```
 */
export async function startTracing(options: TracingRuntimeOptions): Promise<TracingRuntime> {
  const { config } = options;
  const driver = config.driver;
  const sdk = await load(
    driver,
    '@opentelemetry/sdk-trace-base',
    () => import('@opentelemetry/sdk-trace-base'),
  );
  const { resourceFromAttributes } = await load(
    driver,
    '@opentelemetry/resources',
    () => import('@opentelemetry/resources'),
  );
  const { W3CTraceContextPropagator } = await load(
    driver,
    '@opentelemetry/core',
    () => import('@opentelemetry/core'),
  );

  let processor: SpanProcessor;
  let memory: InstanceType<typeof sdk.InMemorySpanExporter> | undefined;
  if (driver === 'otel') {
    const { OTLPTraceExporter } = await load(
      driver,
      '@opentelemetry/exporter-trace-otlp-http',
      () => import('@opentelemetry/exporter-trace-otlp-http'),
    );
    const exporter: SpanExporter = new OTLPTraceExporter({
      url: config.otlp.url,
      headers: { ...config.otlp.headers },
      timeoutMillis: config.otlp.timeoutMs,
    });
    processor = new sdk.BatchSpanProcessor(exporter, {
      maxQueueSize: config.batch.maxQueueSize,
      maxExportBatchSize: config.batch.maxExportBatchSize,
      scheduledDelayMillis: config.batch.scheduledDelayMs,
      exportTimeoutMillis: config.otlp.timeoutMs,
    });
  } else if (driver === 'console') {
    processor = new sdk.SimpleSpanProcessor(new sdk.ConsoleSpanExporter());
  } else {
    memory = new sdk.InMemorySpanExporter();
    processor = new sdk.SimpleSpanProcessor(memory);
  }

  const root =
    config.sampleRatio >= 1
      ? new sdk.AlwaysOnSampler()
      : new sdk.TraceIdRatioBasedSampler(config.sampleRatio);
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({
      ...options.resource,
      ...config.resource,
      'service.name': options.serviceName,
      'service.version': options.serviceVersion,
    }),
    sampler: new sdk.ParentBasedSampler({ root }),
    spanProcessors: [processor],
  });
  const propagator = new W3CTraceContextPropagator();

  // One AsyncLocalStorage: the active OTel context lives on Keel's execution scope.
  const manager = new ExecutionContextManager(ROOT_CONTEXT).enable();
  const ownsContext = context.setGlobalContextManager(manager);
  if (!ownsContext)
    options.logger.warn(
      {},
      'tracing: another OpenTelemetry context manager is registered; spans may not nest',
    );
  // Application code using `trace.getTracer()` joins the same traces and exporter.
  const ownsTracer = trace.setGlobalTracerProvider(provider);
  const ownsPropagation = propagation.setGlobalPropagator(propagator);
  // The SDK reports failed exports (a collector down or refusing) through `diag`: to the log.
  const report = (message: string, ...args: unknown[]) =>
    options.logger.warn(
      { details: args.map(String).join(' ').slice(0, 500) },
      `tracing: ${message}`,
    );
  const ownsDiag = diag.setLogger(
    { error: report, warn: report, info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );

  let stopped: Promise<void> | undefined;
  return {
    tracer: provider.getTracer(KEEL_TRACER),
    propagator,
    finishedSpans: () => memory?.getFinishedSpans() ?? [],
    resetSpans: () => memory?.reset(),
    flush: () => provider.forceFlush(),
    stop() {
      stopped ??= (async () => {
        try {
          // shutdown() flushes the processor first: the spans of the last requests and
          // jobs (ended while the app stopped) are exported before the process exits.
          await provider.shutdown();
        } catch (error) {
          // A collector down at shutdown must not fail the shutdown: say what was lost.
          options.logger.warn({ err: error }, 'tracing: the last spans could not be exported');
        } finally {
          if (ownsDiag) diag.disable();
          if (ownsPropagation) propagation.disable();
          if (ownsTracer) trace.disable();
          if (ownsContext) {
            manager.disable();
            context.disable();
          }
        }
      })();
      return stopped;
    },
  };
}
