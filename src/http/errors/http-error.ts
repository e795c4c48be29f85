import {
  E_BAD_GATEWAY,
  E_BAD_REQUEST,
  E_CONFLICT,
  E_CONTENT_TOO_LARGE,
  E_EXPECTATION_FAILED,
  E_FAILED_DEPENDENCY,
  E_FORBIDDEN,
  E_GATEWAY_TIMEOUT,
  E_GONE,
  E_HTTP_ERROR,
  E_INTERNAL_SERVER_ERROR,
  E_INVALID_HTTP_STATUS,
  E_LENGTH_REQUIRED,
  E_LOCKED,
  E_MEDIA_TYPE_UNSUPPORTED,
  E_METHOD_NOT_ALLOWED,
  E_MISDIRECTED_REQUEST,
  E_NOT_ACCEPTABLE,
  E_NOT_FOUND,
  E_NOT_IMPLEMENTED,
  E_PAYMENT_REQUIRED,
  E_PRECONDITION_FAILED,
  E_PRECONDITION_REQUIRED,
  E_RANGE_NOT_SATISFIABLE,
  E_SERVICE_UNAVAILABLE,
  E_TOO_EARLY,
  E_TOO_MANY_REQUESTS,
  E_UNAUTHORIZED,
  E_UNAVAILABLE_FOR_LEGAL_REASONS,
  E_UNPROCESSABLE_CONTENT,
  E_UPGRADE_REQUIRED,
  E_URI_TOO_LONG,
} from './errors.js';
import {
  type HttpErrorClass,
  type HttpErrorOptions,
  HttpException,
  isErrorStatus,
  reasonPhrase,
} from './http-exception.js';

/** The plain catalogued error of each standard status; 405 has its own (router) class. */
const STATUS_ERRORS: ReadonlyMap<number, HttpErrorClass> = new Map(
  [
    E_BAD_REQUEST,
    E_UNAUTHORIZED,
    E_PAYMENT_REQUIRED,
    E_FORBIDDEN,
    E_NOT_FOUND,
    E_NOT_ACCEPTABLE,
    E_CONFLICT,
    E_GONE,
    E_LENGTH_REQUIRED,
    E_PRECONDITION_FAILED,
    E_CONTENT_TOO_LARGE,
    E_URI_TOO_LONG,
    E_MEDIA_TYPE_UNSUPPORTED,
    E_RANGE_NOT_SATISFIABLE,
    E_EXPECTATION_FAILED,
    E_MISDIRECTED_REQUEST,
    E_UNPROCESSABLE_CONTENT,
    E_LOCKED,
    E_FAILED_DEPENDENCY,
    E_TOO_EARLY,
    E_UPGRADE_REQUIRED,
    E_PRECONDITION_REQUIRED,
    E_TOO_MANY_REQUESTS,
    E_UNAVAILABLE_FOR_LEGAL_REASONS,
    E_INTERNAL_SERVER_ERROR,
    E_NOT_IMPLEMENTED,
    E_BAD_GATEWAY,
    E_SERVICE_UNAVAILABLE,
    E_GATEWAY_TIMEOUT,
  ].map((cls) => [cls.status, cls]),
);

/**
 * The code a bare status answers with: `E_NOT_FOUND` for 404, `E_METHOD_NOT_ALLOWED` for 405,
 * `E_HTTP_ERROR` for a status without a plain error of its own.
 */
export function statusCode(status: number): string {
  if (status === 405) return E_METHOD_NOT_ALLOWED.code;
  return STATUS_ERRORS.get(status)?.code ?? E_HTTP_ERROR.code;
}

/** True when `code` is the plain code of `status`: such a problem has `type: about:blank`. */
export function isPlainStatusCode(code: string, status: number): boolean {
  return code === statusCode(status);
}

/**
 * Build (not throw) the HTTP error for a status: the catalogued one (`E_NOT_FOUND` for 404)
 * unless `options.code` names the app's own. Use `throw httpError(...)` so TypeScript sees
 * the branch end, or {@link abort}.
 *
 * @example
 * ```ts
 * if (!invoice) throw httpError(404, `Invoice ${id} not found`);
 * throw httpError(409, 'Invoice already paid', { code: 'E_INVOICE_PAID', help: 'Reload it.' });
 * ```
 */
export function httpError(
  status: number,
  detail?: string,
  options: HttpErrorOptions = {},
): HttpException {
  if (!isErrorStatus(status)) throw new E_INVALID_HTTP_STATUS(status);
  const plain = STATUS_ERRORS.get(status);
  if (options.code === undefined && plain) return new plain(detail, options);
  const code = options.code ?? statusCode(status);
  if (code === E_HTTP_ERROR.code) return new E_HTTP_ERROR(status, detail, options);
  // 405 without a method and path to name, or an app code: a plain HttpException with the
  // catalogued help when the code is Keel's own.
  const help =
    options.help ?? (code === E_METHOD_NOT_ALLOWED.code ? E_METHOD_NOT_ALLOWED.help : '');
  return new HttpException(status, detail ?? reasonPhrase(status), { ...options, help, code });
}

/**
 * Throw the HTTP error for a status: `abort(404)`, `abort(403, 'Only owners may delete')`.
 *
 * @example
 * ```ts
 * const order = await orders.find(id) ?? abort(404, `Order ${id} not found`);
 * abort(429, 'Slow down', { retryAfter: 30 });
 * ```
 */
export function abort(status: number, detail?: string, options: HttpErrorOptions = {}): never {
  throw httpError(status, detail, options);
}
