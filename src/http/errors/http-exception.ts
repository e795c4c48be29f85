import { STATUS_CODES } from 'node:http';
import { KeelError, type KeelErrorClass } from '../../support/index.js';

/**
 * Reason phrases as RFC 9110 §15 names them. Node's table still has the RFC 7231 wording for
 * 413 and 422 ("Payload Too Large", "Unprocessable Entity"), so Keel keeps its own for the
 * statuses it catalogues and falls back to Node's for the rest.
 */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The reason phrase of an HTTP status (`404` → `'Not Found'`); `'Error'` for a status no
 * table names, so a title is never empty.
 *
 * @example
 * ```ts
 * reasonPhrase(422); // 'Unprocessable Content'
 * ```
 */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? STATUS_CODES[status] ?? 'Error';
}

/** True for an integer status a thrown error may answer with: 400–599. */
export function isErrorStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}

/** What `httpError()`, `abort()` and the catalogued HTTP errors accept besides the detail. */
export interface HttpErrorOptions {
  /** The `E_*` code; defaults to the status's catalogued code (`E_NOT_FOUND` for 404). */
  code?: string;
  /** A short, human summary of the problem type (RFC 9457 `title`); default: reason phrase. */
  title?: string;
  /** Response headers to send with the problem (`WWW-Authenticate`, `Location`, ...). */
  headers?: Record<string, string>;
  cause?: unknown;
  /** Extension members of the problem+json body (never secrets). */
  details?: Record<string, unknown>;
  /** What to do about it; shown in development and in logs. */
  help?: string;
  /** A problem type URI of the app's own, instead of Keel's. */
  type?: string;
  /**
   * Whether the message may be shown to the client outside development. Default `true`: an
   * error thrown on purpose with a status is meant for the client, 5xx included.
   */
  expose?: boolean;
  /** Seconds (or a date) after which to retry; sent as `Retry-After` on 413, 429 and 503. */
  retryAfter?: number | Date;
  /** The methods the resource allows; sent as `Allow` on 405. */
  allow?: readonly string[];
}

/**
 * An error meant to become an HTTP answer: a status, a detail for the client, and optional
 * title, headers, `Retry-After` and `Allow`. Every catalogued HTTP error and every
 * `httpError()`/`abort()` result is one.
 *
 * @example
 * ```ts
 * throw new HttpException(409, 'Invoice 42 is already paid', {
 *   code: 'E_INVOICE_PAID',
 *   help: 'Reload the invoice before paying it.',
 * });
 * ```
 */
export class HttpException extends KeelError {
  /** The problem `title`: the one given, else the status's reason phrase. */
  readonly title: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly type: string | undefined;
  readonly expose: boolean;
  readonly retryAfter: number | Date | undefined;
  readonly allow: readonly string[] | undefined;

  constructor(status: number, message: string, options: HttpErrorOptions & { code: string }) {
    super(options.code, message, {
      status,
      help: options.help ?? '',
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.details === undefined ? {} : { details: options.details }),
    });
    this.title = options.title ?? reasonPhrase(status);
    this.headers = { ...options.headers };
    this.type = options.type;
    this.expose = options.expose ?? true;
    this.retryAfter = options.retryAfter;
    this.allow = options.allow === undefined ? undefined : [...options.allow];
  }
}

/** A catalogued HTTP error class: `new E_NOT_FOUND(detail?, options?)`. */
export interface HttpErrorClass<A extends unknown[] = [detail?: string, options?: HttpErrorOptions]>
  extends KeelErrorClass<A> {
  new (...args: A): HttpException;
  /** The problem `title` its instances get by default. */
  readonly title: string;
}

/**
 * Define a catalogued error for one HTTP status whose message is the detail given (or the
 * reason phrase). The catalogue in `errors.ts` uses it for `E_NOT_FOUND`, `E_CONFLICT`, ...
 *
 * @example
 * ```ts
 * export const E_GONE = defineHttpError('E_GONE', 410, { help: 'The resource was removed.' });
 * throw new E_GONE('Invoice 7 was archived');
 * ```
 */
export function defineHttpError(
  code: string,
  status: number,
  options: { help: string; title?: string },
): HttpErrorClass {
  const title = options.title ?? reasonPhrase(status);
  const help = options.help;
  const cls = class extends HttpException {
    static readonly code = code;
    static readonly status = status;
    static readonly help = help;
    static readonly title = title;
    constructor(detail?: string, extra: HttpErrorOptions = {}) {
      super(status, detail ?? title, { help, title, ...extra, code });
    }
    static is(error: unknown): error is KeelError {
      return error instanceof KeelError && error.code === code;
    }
  };
  Object.defineProperty(cls, 'name', { value: code });
  return cls;
}
