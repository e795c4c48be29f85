/**
 * Tracing: OpenTelemetry spans for requests, SQL statements, cache calls and jobs, in one
 * trace per request, on Keel's execution context (one AsyncLocalStorage). Off by default;
 * see docs/observability/tracing.md.
 */
export {
  defineTracingConfig,
  resolveTracingConfig,
  type TracingConfig,
  type TracingConfigInput,
  type TracingDriver,
  tracingConfigSchema,
} from './config.js';
export { E_TRACING_CONFIG_INVALID, E_TRACING_SDK_MISSING } from './errors.js';
export {
  ExecutionContextManager,
  OTEL_CONTEXT_SLOT,
} from './execution-context-manager.js';
export { Tracing } from './tracing.js';
export { TracingProvider } from './tracing-provider.js';
