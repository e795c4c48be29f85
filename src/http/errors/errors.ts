import { defineError, KeelError } from '../../support/index.js';
import {
  defineHttpError,
  type HttpErrorOptions,
  HttpException,
  reasonPhrase,
} from './http-exception.js';

/**
 * The HTTP error catalogue: the errors the router raises (`E_ROUTE_NOT_FOUND`,
 * `E_METHOD_NOT_ALLOWED`), one plain error per standard status for `httpError()`/`abort()`
 * (`E_NOT_FOUND`, `E_CONFLICT`, ...), `E_HTTP_ERROR` for any other status, and the errors of
 * the error layer itself. Plain status errors answer with `type: about:blank`; see
 * docs/http-errors.md.
 */

// Paths come from the client: keep them printable and short in messages and logs.
function printable(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters
  const clean = String(text).replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const ROUTE_NOT_FOUND_HELP =
  'Check the method and path against `keel routes:list`; a module that is disabled serves no routes.';

/** No route matches the request's path (for any method). Raised by the router. */
export class E_ROUTE_NOT_FOUND extends HttpException {
  static readonly code = 'E_ROUTE_NOT_FOUND';
  static readonly status = 404;
  static readonly help = ROUTE_NOT_FOUND_HELP;
  static readonly title = 'Route Not Found';

  constructor(method: string, path: string, options: HttpErrorOptions = {}) {
    super(404, `No route for ${printable(method, 20)} ${printable(path)}`, {
      help: ROUTE_NOT_FOUND_HELP,
      title: E_ROUTE_NOT_FOUND.title,
      ...options,
      code: E_ROUTE_NOT_FOUND.code,
    });
  }

  static is(error: unknown): error is KeelError {
    return error instanceof KeelError && error.code === E_ROUTE_NOT_FOUND.code;
  }
}

const METHOD_NOT_ALLOWED_HELP =
  'Send one of the methods listed in `allow` (also in the Allow header), or add a route for this method.';

/** The path exists but not for this method; carries the allowed methods for the `Allow` header. */
export class E_METHOD_NOT_ALLOWED extends HttpException {
  static readonly code = 'E_METHOD_NOT_ALLOWED';
  static readonly status = 405;
  static readonly help = METHOD_NOT_ALLOWED_HELP;
  static readonly title = 'Method Not Allowed';

  constructor(
    method: string,
    path: string,
    allow: readonly string[],
    options: HttpErrorOptions = {},
  ) {
    super(
      405,
      `Method ${printable(method, 20)} is not allowed on ${printable(path)}; allowed: ${allow.join(', ') || '(none)'}`,
      {
        help: METHOD_NOT_ALLOWED_HELP,
        title: E_METHOD_NOT_ALLOWED.title,
        ...options,
        allow,
        code: E_METHOD_NOT_ALLOWED.code,
      },
    );
  }

  static is(error: unknown): error is KeelError {
    return error instanceof KeelError && error.code === E_METHOD_NOT_ALLOWED.code;
  }
}

const HTTP_ERROR_HELP =
  'The application answered with this status on purpose; the detail says why.';

/** A status the catalogue has no plain error for (418, 507, ...): `httpError(507)`. */
export class E_HTTP_ERROR extends HttpException {
  static readonly code = 'E_HTTP_ERROR';
  static readonly status = 500;
  static readonly help = HTTP_ERROR_HELP;
  static readonly title = 'Error';

  constructor(status: number, detail?: string, options: HttpErrorOptions = {}) {
    super(status, detail ?? reasonPhrase(status), {
      help: HTTP_ERROR_HELP,
      ...options,
      code: E_HTTP_ERROR.code,
    });
  }

  static is(error: unknown): error is KeelError {
    return error instanceof KeelError && error.code === E_HTTP_ERROR.code;
  }
}

// 408 and 431 have no plain error here: the server raises its own E_REQUEST_TIMEOUT and
// E_HEADERS_TOO_LARGE (src/http/server), and `httpError(408)` answers with E_HTTP_ERROR.
export const E_BAD_REQUEST = defineHttpError('E_BAD_REQUEST', 400, {
  help: 'Fix the request as the detail says; the server cannot process it as sent.',
});
export const E_UNAUTHORIZED = defineHttpError('E_UNAUTHORIZED', 401, {
  help: 'Authenticate (log in or send valid credentials) and retry.',
});
export const E_PAYMENT_REQUIRED = defineHttpError('E_PAYMENT_REQUIRED', 402, {
  help: 'The account needs a paid plan or credit for this; see the detail.',
});
export const E_FORBIDDEN = defineHttpError('E_FORBIDDEN', 403, {
  help: 'The authenticated user lacks the permission; ask an administrator for access.',
});
export const E_NOT_FOUND = defineHttpError('E_NOT_FOUND', 404, {
  help: 'Check the identifier in the URL; the resource does not exist or is not visible to you.',
});
export const E_NOT_ACCEPTABLE = defineHttpError('E_NOT_ACCEPTABLE', 406, {
  help: 'Ask for a representation the endpoint produces (usually Accept: application/json).',
});
export const E_CONFLICT = defineHttpError('E_CONFLICT', 409, {
  help: 'Reload the resource to get its current state, then retry the change.',
});
export const E_GONE = defineHttpError('E_GONE', 410, {
  help: 'The resource was removed for good; drop links and references to it.',
});
export const E_LENGTH_REQUIRED = defineHttpError('E_LENGTH_REQUIRED', 411, {
  help: 'Send a Content-Length header with the body.',
});
export const E_PRECONDITION_FAILED = defineHttpError('E_PRECONDITION_FAILED', 412, {
  help: 'The resource changed since you read it (If-Match/If-Unmodified-Since failed); reload and retry.',
});
export const E_CONTENT_TOO_LARGE = defineHttpError('E_CONTENT_TOO_LARGE', 413, {
  help: 'Send a smaller request body.',
});
export const E_URI_TOO_LONG = defineHttpError('E_URI_TOO_LONG', 414, {
  help: 'Shorten the URL; move long data into a request body.',
});
// E_UNSUPPORTED_MEDIA_TYPE belongs to the body parser (with the accepted types as arguments).
export const E_MEDIA_TYPE_UNSUPPORTED = defineHttpError('E_MEDIA_TYPE_UNSUPPORTED', 415, {
  help: 'Send the body in a format the endpoint accepts (see its Content-Type requirements).',
});
export const E_RANGE_NOT_SATISFIABLE = defineHttpError('E_RANGE_NOT_SATISFIABLE', 416, {
  help: 'Request a byte range inside the resource size (see Content-Range).',
});
export const E_EXPECTATION_FAILED = defineHttpError('E_EXPECTATION_FAILED', 417, {
  help: 'Drop the Expect header or send the body without waiting for 100 Continue.',
});
export const E_MISDIRECTED_REQUEST = defineHttpError('E_MISDIRECTED_REQUEST', 421, {
  help: 'Send the request to a host this server answers for (check Host and TLS SNI).',
});
export const E_UNPROCESSABLE_CONTENT = defineHttpError('E_UNPROCESSABLE_CONTENT', 422, {
  help: 'The request is well-formed but its content cannot be processed; correct it as the detail says.',
});
export const E_LOCKED = defineHttpError('E_LOCKED', 423, {
  help: 'The resource is locked by another operation; retry once it is released.',
});
export const E_FAILED_DEPENDENCY = defineHttpError('E_FAILED_DEPENDENCY', 424, {
  help: 'An earlier part of the same request failed; fix that first.',
});
export const E_TOO_EARLY = defineHttpError('E_TOO_EARLY', 425, {
  help: 'Retry the request after the TLS handshake completes (not as early data).',
});
export const E_UPGRADE_REQUIRED = defineHttpError('E_UPGRADE_REQUIRED', 426, {
  help: 'Switch to the protocol named in the Upgrade header.',
});
export const E_PRECONDITION_REQUIRED = defineHttpError('E_PRECONDITION_REQUIRED', 428, {
  help: 'Send the change conditionally, with If-Match carrying the ETag you read.',
});
export const E_TOO_MANY_REQUESTS = defineHttpError('E_TOO_MANY_REQUESTS', 429, {
  help: 'Slow down: wait for the Retry-After delay before sending more requests.',
});
export const E_UNAVAILABLE_FOR_LEGAL_REASONS = defineHttpError(
  'E_UNAVAILABLE_FOR_LEGAL_REASONS',
  451,
  { help: 'The resource is withheld for legal reasons in your jurisdiction.' },
);
export const E_INTERNAL_SERVER_ERROR = defineHttpError('E_INTERNAL_SERVER_ERROR', 500, {
  help: 'The server failed unexpectedly; quote the requestId when reporting it, and look it up in the logs.',
});
export const E_NOT_IMPLEMENTED = defineHttpError('E_NOT_IMPLEMENTED', 501, {
  help: 'The server does not support this functionality yet.',
});
export const E_BAD_GATEWAY = defineHttpError('E_BAD_GATEWAY', 502, {
  help: 'An upstream service answered badly; retry later, and check that service if it persists.',
});
export const E_SERVICE_UNAVAILABLE = defineHttpError('E_SERVICE_UNAVAILABLE', 503, {
  help: 'The service is down for maintenance or overloaded; retry after the Retry-After delay.',
});
export const E_GATEWAY_TIMEOUT = defineHttpError('E_GATEWAY_TIMEOUT', 504, {
  help: 'An upstream service did not answer in time; retry later.',
});

export const E_INVALID_HTTP_STATUS = defineError(
  'E_INVALID_HTTP_STATUS',
  (status: unknown) => `httpError() needs an integer status from 400 to 599, got ${String(status)}`,
  {
    status: 500,
    help: 'Answer successes and redirects by returning a response; throw only 4xx and 5xx statuses.',
  },
);

export const E_ERROR_SNAPSHOT_INVALID = defineError(
  'E_ERROR_SNAPSHOT_INVALID',
  (file: string, reason: string) => `Cannot read the error snapshot ${file}: ${reason}`,
  {
    status: 500,
    help: 'Delete the file: the running server writes a fresh one within seconds of the next error.',
    details: (file, reason) => ({ file, reason }),
  },
);
