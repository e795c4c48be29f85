import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ContextPropagator } from '../../kernel/index.js';
import { executionContext } from '../../kernel/index.js';
import type { ClaimedJob, JobInstrument, JobOutcome } from '../../queue/index.js';
import { activateInScope, activateSpanInScope, scopeContext } from './execution-context-manager.js';
import { recordFailure } from './spans.js';

// Messaging semantic conventions (still incubating, so spelt out rather than imported).
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_KEEL_JOB_NAME = 'keel.job.name';
export const ATTR_KEEL_JOB_ATTEMPT = 'keel.job.attempt';
export const ATTR_KEEL_JOB_OUTCOME = 'keel.job.outcome';

/**
 * Carries the trace context into a job: at dispatch, `inject` writes W3C `traceparent` (and
 * `tracestate`) of the active span into the job's meta; in the worker, `extract` puts the
 * caller's span context back on the job's scope, so the job span continues its trace.
 */
export function traceContextPropagator(w3c: TextMapPropagator): ContextPropagator {
  return {
    inject(scope, carrier) {
      const active = scopeContext(scope);
      if (active !== undefined && trace.getSpan(active) !== undefined)
        w3c.inject(active, carrier, defaultTextMapSetter);
    },
    extract(carrier, scope) {
      if (typeof carrier.traceparent !== 'string') return;
      const remote = w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
      if (trace.getSpanContext(remote) !== undefined) activateInScope(scope, remote);
    },
  };
}

/**
 * The job instrument: a consumer span per attempt (`process orders:send-invoice`), a child
 * of the dispatching request's span when the job meta carries its `traceparent`, active for
 * the whole attempt; its ids join the scope's log fields as `trace_id` and `span_id`.
 */
export function jobTracingInstrument(tracer: Tracer): JobInstrument<Span | undefined> {
  return {
    name: 'tracing',
    begin(job: ClaimedJob) {
      const scope = executionContext.current();
      const parent: Context = context.active();
      const span = tracer.startSpan(
        `process ${job.name}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            [ATTR_MESSAGING_SYSTEM]: 'keel',
            [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
            [ATTR_MESSAGING_OPERATION_NAME]: 'process',
            [ATTR_MESSAGING_DESTINATION_NAME]: job.queue,
            [ATTR_MESSAGING_MESSAGE_ID]: job.id,
            [ATTR_KEEL_JOB_NAME]: job.name,
            [ATTR_KEEL_JOB_ATTEMPT]: job.attempt,
          },
        },
        parent,
      );
      if (scope !== undefined) activateSpanInScope(scope, parent, span);
      return span;
    },
    end(_job, span, outcome: JobOutcome) {
      if (span === undefined) return;
      span.setAttribute(ATTR_KEEL_JOB_OUTCOME, outcome.status);
      const failed = outcome.status === 'failed' || outcome.status === 'retried';
      if (failed || outcome.status === 'lost') recordFailure(span, outcome.error, outcome.status);
      span.end();
    },
  };
}
