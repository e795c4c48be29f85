import type { TLSSocket } from 'node:tls';
import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type {
  HttpContext,
  RequestInstrument,
  RequestOutcome,
  TerminatingMiddleware,
} from '../../http/index.js';
import { executionContext } from '../../kernel/index.js';
import { activateSpanInScope } from './execution-context-manager.js';
import { recordFailure } from './spans.js';

/** The request id every request span carries, to find its log lines. */
export const ATTR_KEEL_REQUEST_ID = 'keel.request_id';

export interface RequestTracingOptions {
  tracer: Tracer;
  /** Reads an incoming `traceparent`/`tracestate` (W3C Trace Context). */
  propagator: TextMapPropagator;
}

// The methods HTTP semantic conventions name; anything else is reported as `_OTHER`.
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** `GET /users/:id`; the method alone without a route; `HTTP` for a method outside the list. */
function spanName(method: string, route: string | undefined): string {
  const known = KNOWN_METHODS.has(method) ? method : 'HTTP';
  return route === undefined ? known : `${known} ${route}`;
}

/** The caller's trace context, when the request carries one; else the root. */
function incoming(ctx: HttpContext, propagator: TextMapPropagator): Context {
  const headers = ctx.req.headers;
  if (headers.traceparent === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** A server span for `ctx`, named by its method until the route is known. */
function startRequestSpan(ctx: HttpContext, options: RequestTracingOptions, parent: Context): Span {
  const method = KNOWN_METHODS.has(ctx.method) ? ctx.method : '_OTHER';
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: ctx.path,
    [ATTR_URL_SCHEME]: (ctx.req.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http',
    [ATTR_CLIENT_ADDRESS]: ctx.ip,
    [ATTR_KEEL_REQUEST_ID]: ctx.requestId,
  };
  if (method === '_OTHER') attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = ctx.method.slice(0, 64);
  const agent = ctx.req.headers['user-agent'];
  if (agent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = agent;
  const route = ctx.route?.record.path;
  if (route !== undefined) attributes[ATTR_HTTP_ROUTE] = route;
  return options.tracer.startSpan(
    spanName(ctx.method, route),
    { kind: SpanKind.SERVER, attributes },
    parent,
  );
}

/** Status, route, and the error of a 5xx, then the end of the span. */
function endRequestSpan(
  ctx: HttpContext,
  span: Span,
  status: number,
  error: unknown,
  aborted: boolean,
): void {
  const route = ctx.route?.record.path;
  if (route !== undefined) {
    span.setAttribute(ATTR_HTTP_ROUTE, route);
    span.updateName(spanName(ctx.method, route));
  }
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  // Semantic conventions: a server span is an error for 5xx only (4xx is the client's).
  if (status >= 500) recordFailure(span, error, String(status));
  else if (aborted) {
    span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
  }
  span.end();
}

/**
 * The request instrument of `tracing.http: 'global'`: a server span per request, continuing
 * an incoming `traceparent`, made active in the request's execution scope (so queries,
 * cache calls and dispatched jobs nest under it) and its ids added to the scope's log
 * fields as `trace_id` and `span_id`.
 */
export function requestTracingInstrument(
  options: RequestTracingOptions,
): RequestInstrument<Span | undefined> {
  return {
    name: 'tracing',
    begin(ctx, scope) {
      const parent = incoming(ctx, options.propagator);
      const span = startRequestSpan(ctx, options, parent);
      if (scope !== undefined) activateSpanInScope(scope, parent, span);
      return span;
    },
    end(ctx, span, outcome: RequestOutcome) {
      if (span !== undefined)
        endRequestSpan(ctx, span, outcome.status, outcome.error, outcome.aborted);
    },
  };
}

/**
 * The `tracing` middleware (`tracing.http: 'middleware'`): a server span for the routes
 * that list it. It ends once the response is sent (a terminating middleware); a response
 * the client abandoned leaves its span unsent.
 */
export function requestTracingMiddleware(options: RequestTracingOptions): TerminatingMiddleware {
  const spans = new WeakMap<HttpContext, Span>();
  return {
    handle(ctx, next) {
      const parent = incoming(ctx, options.propagator);
      const span = startRequestSpan(ctx, options, parent);
      spans.set(ctx, span);
      return context.with(trace.setSpan(parent, span), () => {
        const ids = span.spanContext();
        executionContext.annotate({ trace_id: ids.traceId, span_id: ids.spanId });
        return next();
      });
    },
    terminate(ctx) {
      const span = spans.get(ctx);
      if (span === undefined) return;
      spans.delete(ctx);
      // The response is finished: reading `ctx.res` no longer moves buffered headers.
      endRequestSpan(ctx, span, ctx.res.statusCode, ctx.failure, false);
    },
  };
}
