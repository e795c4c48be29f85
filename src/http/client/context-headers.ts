import { executionContext } from '../../kernel/index.js';

// What a Keel server accepts as an incoming X-Request-Id (src/http/context.ts): an id the
// next service would throw away is not worth sending, and the shape cannot split a header.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// A field value that stays one header line: visible ASCII with inner spaces (RFC 9110
// §5.5), so no CR, LF or NUL can end the header and start another. fetch would throw on
// those anyway; dropping the field keeps a hostile scope value from failing the request.
const FIELD_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The propagator fields that are HTTP headers (W3C Trace Context). Other fields of
 * `executionContext.capture()` (the job meta's `requestId`, an app's own) are not sent: a
 * carrier key is not a header name, and an unknown field may not be meant for other services.
 */
const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * Add the current execution scope to an outgoing request's headers: `x-request-id` with the
 * scope's request id, and `traceparent`/`tracestate` from the registered propagators
 * (tracing's). A header the caller set is kept; outside a scope nothing is added, and a value
 * that could not be sent as one header line is left out.
 *
 * @example
 * ```ts
 * const headers = new Headers({ accept: 'application/json' });
 * executionContext.run({ request_id: 'r1' }, () => addContextHeaders(headers));
 * headers.get('x-request-id'); // 'r1'
 * ```
 */
export function addContextHeaders(headers: Headers): void {
  const scope = executionContext.current();
  if (scope === undefined) return;
  const id = scope.request_id;
  if (typeof id === 'string' && REQUEST_ID.test(id) && !headers.has('x-request-id')) {
    headers.set('x-request-id', id);
  }
  const carrier = executionContext.capture(scope);
  for (const name of TRACE_HEADERS) {
    const value = carrier[name];
    if (typeof value === 'string' && FIELD_VALUE.test(value) && !headers.has(name)) {
      headers.set(name, value);
    }
  }
}
