import { type Context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

/** An exception for `recordException` (a thrown string or object becomes a message). */
function exceptionOf(error: unknown): Error | string {
  if (error instanceof Error) return error;
  return typeof error === 'string' ? error : String(error);
}

/** `error.type`: a Keel error's code (`E_DB_UNIQUE_VIOLATION`), else the error's class name. */
export function errorType(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof Error) return error.name;
  return '_OTHER';
}

/**
 * Mark `span` as failed: the exception recorded as an event (when there is one), `error.type`
 * (the error's code or class, else `fallbackType`), and an error status with its message.
 *
 * @example
 * ```ts
 * recordFailure(span, new TypeError('boom'), '500'); // error.type TypeError, status ERROR
 * ```
 */
export function recordFailure(span: Span, error: unknown, fallbackType = '_OTHER'): void {
  if (error !== undefined) span.recordException(exceptionOf(error));
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error) ?? fallbackType);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    ...(error instanceof Error ? { message: error.message } : {}),
  });
}

/**
 * Whether work running in `parent` gets a span of its own. Not without a parent span when
 * `requireParent` (boot-time queries, warmers); not under a local span the sampler dropped
 * (its children would be dropped too: skip building them). A remote parent (a job's caller)
 * is never recording here, yet its children may be sampled.
 *
 * @example
 * ```ts
 * if (!traces(context.active(), true)) return run();
 * ```
 */
export function traces(parent: Context, requireParent: boolean): boolean {
  const span = trace.getSpan(parent);
  if (span === undefined) return !requireParent;
  return span.isRecording() || span.spanContext().isRemote === true;
}
