import { defineTracingConfig } from 'keel/observability';

// Tracing is off unless the environment turns it on: with these keys left out of this file,
// TRACING_ENABLED, TRACING_DRIVER, TRACING_SAMPLE_RATIO and the OTEL_EXPORTER_OTLP_*
// variables decide (docs/observability/tracing.md).
//
//   TRACING_ENABLED=true TRACING_DRIVER=console npm start   # each span printed as it ends
//   TRACING_ENABLED=true OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm start
//                                                            # to Jaeger, Tempo, a Collector
//
// A request's spans (its SQL statements, cache calls) and the invoice job it queued share
// one trace, and its log lines carry trace_id and span_id.
export default defineTracingConfig({
  resource: { 'service.namespace': 'erp' },
});
