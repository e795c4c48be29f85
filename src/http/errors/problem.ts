import { E_INTERNAL_SERVER_ERROR } from './errors.js';
import { isPlainStatusCode, statusCode } from './http-error.js';
import { isErrorStatus, reasonPhrase } from './http-exception.js';
import {
  type CauseSummary,
  causeChain,
  describeThrown,
  safeGet,
  safeIsKeelError,
  safeString,
  stackLines,
  stringProp,
  toJsonSafe,
  truncate,
} from './safe-error.js';

/** The media type of every error answer (RFC 9457 §3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The default base of `type` URIs: the error-code reference. */
export const DEFAULT_TYPE_BASE_URL = 'https://keel.dev/errors';

/** One failed field in a validation problem's `errors` member. */
export interface ProblemFieldError {
  /** Dotted path from the request part (`'body.items.0.sku'`); `''` for the root. */
  path: string;
  message: string;
  rule?: string;
  code?: string;
}

/**
 * An RFC 9457 problem details document, with Keel's members (`code`, `requestId`) and the
 * extensions it adds (`errors`, `allow`, `retryAfter`; in debug `help`, `stack`, `cause`).
 */
export interface ProblemDocument {
  /** A URI naming the problem type; `about:blank` when the status says it all. */
  type: string;
  title: string;
  /** Always the HTTP status of the response. */
  status: number;
  detail: string;
  /** The request path (without its query string). */
  instance: string;
  code: string;
  requestId: string;
  errors?: ProblemFieldError[];
  allow?: string[];
  /** Seconds to wait before retrying. */
  retryAfter?: number;
  help?: string;
  stack?: string[];
  cause?: CauseSummary[];
  [extension: string]: unknown;
}

/** The request a problem answers. */
export interface ProblemRequest {
  method: string;
  path: string;
  requestId: string;
  /** The matched route pattern (`/users/:id`), when one matched. */
  route?: string;
}

export interface ProblemOptions {
  /** Development: the real message, `help`, `stack` and `cause` chain. Never in production. */
  debug: boolean;
  /** Base of `type` URIs (`${typeBaseUrl}#${code}`); default {@link DEFAULT_TYPE_BASE_URL}. */
  typeBaseUrl?: string;
}

/** An error answer, ready to write. Header names are lower-case. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: ProblemDocument;
}

// Members Keel owns; `details` keys with these names are not copied over them.
const RESERVED = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'code',
  'requestId',
  'errors',
  'allow',
  'retryAfter',
  'help',
  'stack',
  'cause',
]);

// RFC 9110 §5.1 token, and a value without CR, LF or NUL (header injection).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters
const HEADER_VALUE = /^[^\u0000\r\n]*$/;
const METHOD_TOKEN = /^[A-Za-z]+$/;
/** RFC 9110 §10.2.3 allows Retry-After on 503, and §15.5.14/§6 of RFC 6585 on 413 and 429. */
const RETRY_STATUSES = new Set([413, 429, 503]);

/**
 * The HTTP status a thrown value answers with: a KeelError's own status when it is 400–599,
 * otherwise 500. Errors that are not KeelErrors are always 500, whatever they claim.
 *
 * @example
 * ```ts
 * statusOf(new E_NOT_FOUND()); // 404
 * statusOf(new TypeError('x')); // 500
 * ```
 */
export function statusOf(error: unknown): number {
  if (!safeIsKeelError(error)) return 500;
  const status = safeGet(error, 'status');
  return isErrorStatus(status) ? status : 500;
}

/**
 * Whether the error's own message, code and details may reach the client outside debug: a
 * KeelError with a 4xx status, or an `HttpException` unless it says `expose: false`.
 */
export function isExposed(error: unknown, status: number): boolean {
  if (!safeIsKeelError(error)) return false;
  const expose = safeGet(error, 'expose');
  if (typeof expose === 'boolean') return expose;
  return status < 500;
}

/**
 * Turn anything thrown during a request into an RFC 9457 `application/problem+json` answer.
 * Outside debug, a 5xx error that is not an `HttpException` says only what its status says:
 * no message, stack, SQL or details. Never throws.
 *
 * @example
 * ```ts
 * const problem = toProblem(error, { method, path, requestId }, { debug: app.inDev });
 * res.writeHead(problem.status, problem.headers).end(JSON.stringify(problem.body));
 * ```
 */
export function toProblem(
  error: unknown,
  request: ProblemRequest,
  options: ProblemOptions,
): ProblemResponse {
  try {
    return buildProblem(error, request, options);
  } catch {
    // Every read above is guarded; this is the belt to those braces.
    return fallbackProblem(request);
  }
}

function buildProblem(
  error: unknown,
  request: ProblemRequest,
  options: ProblemOptions,
): ProblemResponse {
  const status = statusOf(error);
  const debug = options.debug === true;
  const reveal = debug || isExposed(error, status);
  const ownCode = safeIsKeelError(error) ? stringProp(error, 'code') : undefined;
  const code = reveal && ownCode ? truncate(ownCode, 200) : statusCode(status);
  const phrase = reasonPhrase(status);
  const ownTitle = reveal ? stringProp(error, 'title') : undefined;
  const title = ownTitle ? truncate(ownTitle, 200) : phrase;

  let detail = phrase;
  if (reveal) detail = describeThrown(error).message;

  const body: ProblemDocument = {
    type: problemType(error, code, status, title, reveal, options.typeBaseUrl),
    title,
    status,
    detail,
    instance: instanceOf(request),
    code,
    requestId: truncate(typeof request.requestId === 'string' ? request.requestId : '', 200),
  };
  const headers: Record<string, string> = {};

  if (reveal) {
    const details = safeGet(error, 'details');
    copyExtensions(body, details);
    const errors = fieldErrors(safeGet(error, 'errors')) ?? fieldErrors(safeGet(details, 'errors'));
    if (errors) body.errors = errors;
  }

  // Allow, Retry-After and the error's own headers are meant for the client even when its
  // message is not: they describe what to do next, not what went wrong inside.
  if (status === 405) {
    const allow = methodList(
      safeGet(error, 'allow') ?? safeGet(safeGet(error, 'details'), 'allow'),
    );
    if (allow) {
      body.allow = allow;
      headers.allow = allow.join(', ');
    }
  }
  if (RETRY_STATUSES.has(status)) {
    const seconds = retrySeconds(
      safeGet(error, 'retryAfter') ?? safeGet(safeGet(error, 'details'), 'retryAfter'),
    );
    if (seconds !== undefined) {
      body.retryAfter = seconds;
      headers['retry-after'] = String(seconds);
    }
  }
  if (safeIsKeelError(error)) copyHeaders(headers, safeGet(error, 'headers'));

  if (debug) {
    const help = stringProp(error, 'help');
    if (help) body.help = help;
    const stack = stackLines(error);
    if (stack) body.stack = stack;
    const cause = causeChain(error);
    if (cause.length > 0) body.cause = cause;
  }

  headers['content-type'] = PROBLEM_CONTENT_TYPE;
  return { status, headers, body };
}

function problemType(
  error: unknown,
  code: string,
  status: number,
  title: string,
  reveal: boolean,
  typeBaseUrl: string | undefined,
): string {
  const own = reveal ? stringProp(error, 'type') : undefined;
  if (own) return truncate(own, 2000);
  // RFC 9457 §4.2.1: about:blank means "nothing beyond the status", so its title must be the
  // reason phrase; a custom title makes it a type of its own.
  if (isPlainStatusCode(code, status) && title === reasonPhrase(status)) return 'about:blank';
  const base = (typeBaseUrl ?? DEFAULT_TYPE_BASE_URL).replace(/#+$/, '');
  return `${base}#${code.toLowerCase()}`;
}

// The query string can carry tokens and personal data; the path alone identifies the resource.
function instanceOf(request: ProblemRequest): string {
  const path = typeof request.path === 'string' ? request.path : '';
  const end = path.search(/[?#]/);
  return truncate(end === -1 ? path : path.slice(0, end), 2000);
}

function copyExtensions(body: ProblemDocument, details: unknown): void {
  if (details === null || typeof details !== 'object') return;
  const safe = toJsonSafe(details);
  if (safe === null || typeof safe !== 'object' || Array.isArray(safe)) return;
  for (const [key, value] of Object.entries(safe)) {
    if (!RESERVED.has(key)) body[key] = value;
  }
}

// A hostile Proxy can throw from Array.isArray, slice or instanceof: such a member is dropped.
function guard<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function fieldErrors(value: unknown): ProblemFieldError[] | undefined {
  return guard(() => readFieldErrors(value));
}

function readFieldErrors(value: unknown): ProblemFieldError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: ProblemFieldError[] = [];
  for (const item of value.slice(0, 1000)) {
    const path = safeGet(item, 'path');
    const message = safeGet(item, 'message');
    const rule = stringProp(item, 'rule');
    const code = stringProp(item, 'code');
    out.push({
      path: typeof path === 'string' ? path : Array.isArray(path) ? path.join('.') : '',
      message: typeof message === 'string' ? truncate(message, 1000) : safeString(message),
      ...(rule === undefined ? {} : { rule }),
      ...(code === undefined ? {} : { code }),
    });
  }
  return out;
}

function methodList(value: unknown): string[] | undefined {
  return guard(() => {
    if (!Array.isArray(value)) return undefined;
    const methods = value
      .slice(0, 50)
      .filter((m): m is string => typeof m === 'string' && METHOD_TOKEN.test(m))
      .map((m) => m.toUpperCase());
    return [...new Set(methods)];
  });
}

function retrySeconds(value: unknown): number | undefined {
  return guard(() => {
    let seconds: number | undefined;
    if (typeof value === 'number' && Number.isFinite(value)) seconds = value;
    else if (value instanceof Date && !Number.isNaN(value.getTime())) {
      seconds = (value.getTime() - Date.now()) / 1000;
    }
    return seconds === undefined ? undefined : Math.max(0, Math.ceil(seconds));
  });
}

function copyHeaders(headers: Record<string, string>, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  let entries: Array<[string, unknown]>;
  try {
    entries = Object.entries(value);
  } catch {
    return;
  }
  for (const [name, raw] of entries) {
    const lower = name.toLowerCase();
    if (lower === 'content-type' || lower === 'content-length' || !HEADER_NAME.test(name)) continue;
    const text = typeof raw === 'number' ? String(raw) : raw;
    if (typeof text === 'string' && HEADER_VALUE.test(text)) headers[lower] = text;
  }
}

function fallbackProblem(request: ProblemRequest): ProblemResponse {
  let requestId = '';
  let instance = '';
  try {
    requestId = typeof request.requestId === 'string' ? truncate(request.requestId, 200) : '';
    instance = instanceOf(request);
  } catch {
    // the request object itself is unreadable: answer without it
  }
  return {
    status: 500,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE },
    body: {
      type: 'about:blank',
      title: reasonPhrase(500),
      status: 500,
      detail: reasonPhrase(500),
      instance,
      code: E_INTERNAL_SERVER_ERROR.code,
      requestId,
    },
  };
}
