import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type SerializeOptions, serialize } from 'cookie';
import { E_FILE_NOT_FOUND, E_PATH_TRAVERSAL } from './errors.js';

export interface CookieOptions extends SerializeOptions {
  /** Sign the value with the app key (HMAC-SHA256) so tampering is detected. */
  signed?: boolean;
}

/** One server-sent events stream. */
export interface SseStream {
  /** Send one event; objects are JSON-encoded. */
  send(data: unknown, options?: { event?: string; id?: string; retry?: number }): boolean;
  comment(text: string): boolean;
  close(): void;
  readonly closed: boolean;
}

const TEXT = 'text/plain; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Header names `setHeader` has already checked, each with its lower-cased form and the
 * last string value that passed the value check. Names are nearly always constants
 * (security headers, CORS, a request id), and so are most values: after the first request
 * a constant header costs one lookup and one comparison instead of a token check, a
 * lower-casing and a scan of the value (which Node repeats when it writes the head).
 * Bounded: a name made per request (rare) is checked every time once the map is full.
 * A value is remembered only when short, so the map never holds a large string alive;
 * it holds one value per name until the next value for that name replaces it.
 */
interface CheckedName {
  readonly key: string;
  value: string | undefined;
}
const checkedNames = new Map<string, CheckedName>();
const CHECKED_NAMES_MAX = 512;
const REMEMBERED_VALUE_MAX = 256;

/** `name`'s entry, once `validateHeaderName` accepted it (it throws otherwise). */
function checkedHeaderName(name: string): CheckedName {
  let checked = checkedNames.get(name);
  if (checked === undefined) {
    validateHeaderName(name);
    checked = { key: name.toLowerCase(), value: undefined };
    if (checkedNames.size < CHECKED_NAMES_MAX) checkedNames.set(name, checked);
  }
  return checked;
}

/** Throws as Node does for a value with a control character (CR, LF, NUL) or none at all. */
function checkHeaderValue(name: string, value: OutgoingHttpHeader, checked: CheckedName): void {
  if (value === checked.value) return;
  validateHeaderValue(name, value as string);
  if (typeof value === 'string' && value.length <= REMEMBERED_VALUE_MAX) checked.value = value;
}

/** Sign `name=value` so a cookie cannot be forged or swapped to another name. */
export function signCookieValue(name: string, value: string, secret: Buffer): string {
  const mac = createHmac('sha256', secret).update(`${name}=${value}`).digest('base64url');
  return `${value}.${mac}`;
}

/** The value of a signed cookie, or undefined when the signature does not match any secret. */
export function unsignCookieValue(
  name: string,
  signed: string,
  secrets: readonly Buffer[],
): string | undefined {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(
      createHmac('sha256', secret).update(`${name}=${value}`).digest('base64url'),
    );
    // Constant-time comparison: a timing side channel must not reveal the MAC.
    if (expected.length === given.length && timingSafeEqual(expected, given)) return value;
  }
  return undefined;
}

/**
 * The response half of the context. Headers set through it are buffered and go out with
 * the status line in one `writeHead` (Node's per-header bookkeeping costs more than the
 * rest of a small JSON response). Reading `ctx.res` hands the buffered headers over to the
 * Node response first, so code that writes to it directly still sends them. Each text type
 * carries its charset, and `X-Powered-By` is never sent.
 */
export class ResponseBuilder {
  readonly #res: ServerResponse;
  #status = 200;
  /** Body bytes written through the builder (undefined when streamed or written directly). */
  bodyBytes: number | undefined;
  #cookies: string[] | undefined;
  /**
   * Headers not yet on the Node response: `[name, value, name, value, ...]`, lower-case
   * names, each once. A flat list is what `writeHead` walks fastest, and a response has
   * a handful of headers, so a lookup is a short scan.
   */
  #pending: (string | OutgoingHttpHeader)[] | undefined;
  /** Once the raw response was handed out, headers go straight to it. */
  #direct = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  /**
   * The Node response. Reading it moves the buffered headers onto it, so direct writes
   * (`ctx.res.write(...)`, piping) carry them; later `setHeader` calls write through.
   */
  get res(): ServerResponse {
    if (!this.#direct) this.#handOver();
    return this.#res;
  }

  protected cookieSecrets(): readonly Buffer[] | undefined {
    return undefined;
  }

  /** True once the response head was written. */
  get sent(): boolean {
    return this.#res.headersSent || this.#res.writableEnded;
  }

  get statusCode(): number {
    return this.#status;
  }

  /** Set the status for the response about to be sent. */
  status(code: number): this {
    this.#status = code;
    return this;
  }

  /**
   * Set a response header. Names and values are checked at once (a CR/LF in a value
   * throws here, not when the response is sent); a repeated name replaces the value. A
   * number is stored as its decimal text, which is what goes out.
   */
  setHeader(name: string, value: OutgoingHttpHeader): this {
    if (this.#direct || this.#res.headersSent) {
      this.#res.setHeader(name, value);
      return this;
    }
    const checked = checkedHeaderName(name);
    // Numbers go out as their text anyway; kept as strings, every value Node checks is one
    // (see #send), and getHeader answers the same before and after the head is written.
    const text = typeof value === 'number' ? `${value}` : value;
    checkHeaderValue(name, text, checked);
    this.#buffer(checked.key, text);
    return this;
  }

  /**
   * Buffer a header whose name (lower-case) and value are known to be valid, skipping
   * the checks of {@link setHeader}: for the kernel's own headers on every request
   * (`x-request-id`, already a UUID or a checked incoming id). Node still checks both
   * when the head is written.
   *
   * @internal
   */
  setTrustedHeader(name: string, value: string): this {
    if (this.#direct || this.#res.headersSent) this.#res.setHeader(name, value);
    else this.#buffer(name, value);
    return this;
  }

  #buffer(key: string, value: OutgoingHttpHeader): void {
    const pending = this.#pending;
    if (pending === undefined) {
      this.#pending = [key, value];
      return;
    }
    const at = indexOfHeader(pending, key);
    if (at === -1) pending.push(key, value);
    else pending[at + 1] = value;
  }

  /** A header set for this response (buffered or already on the Node response). */
  getHeader(name: string): OutgoingHttpHeader | undefined {
    const key = name.toLowerCase();
    const pending = this.#pending;
    if (pending !== undefined) {
      const at = indexOfHeader(pending, key);
      if (at !== -1) return pending[at + 1] as OutgoingHttpHeader;
    }
    const value = this.#res.getHeader(key);
    return typeof value === 'number' ? String(value) : value;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  removeHeader(name: string): this {
    const key = name.toLowerCase();
    const pending = this.#pending;
    if (pending !== undefined) {
      const at = indexOfHeader(pending, key);
      if (at !== -1) pending.splice(at, 2);
    }
    if (!this.#res.headersSent) this.#res.removeHeader(key);
    return this;
  }

  /** Append a `Set-Cookie`. */
  cookie(name: string, value: string, options: CookieOptions = {}): this {
    const { signed, ...rest } = options;
    let stored = value;
    if (signed) {
      const secret = this.cookieSecrets()?.[0];
      if (!secret) throw new TypeError('Signed cookies need APP_KEY to be set');
      stored = signCookieValue(name, value, secret);
    }
    const header = serialize(name, stored, { path: '/', httpOnly: true, sameSite: 'lax', ...rest });
    this.#cookies ??= [];
    this.#cookies.push(header);
    return this.setHeader('set-cookie', this.#cookies);
  }

  /** Expire a cookie. */
  clearCookie(name: string, options: SerializeOptions = {}): this {
    return this.cookie(name, '', { ...options, expires: new Date(0), maxAge: 0 });
  }

  /** Send JSON. */
  json(data: unknown, status?: number): void {
    this.#send(status ?? this.#status, JSON_TYPE, JSON.stringify(data) ?? 'null');
  }

  /**
   * Send a success envelope, `{ data, meta? }`, for APIs that want one shape for every
   * success response (errors already share problem+json).
   */
  success(data: unknown, meta?: Record<string, unknown>, status?: number): void {
    this.json(meta ? { data, meta } : { data }, status);
  }

  text(body: string, status?: number): void {
    this.#send(status ?? this.#status, TEXT, body);
  }

  html(body: string, status?: number): void {
    this.#send(status ?? this.#status, HTML, body);
  }

  /** Send `body` (bytes or text) with `contentType` unless one was set. */
  send(body: string | Uint8Array, contentType: string, status?: number): void {
    this.#send(status ?? this.#status, this.getHeader('content-type') ?? contentType, body);
  }

  /** 204 No Content. */
  noContent(): void {
    this.#send(204, undefined, undefined);
  }

  /** End the response without a body, with the status set by `status()` (200 by default). */
  end(): void {
    this.#send(this.#status, undefined, undefined);
  }

  /** Redirect (302 by default; 301/303/307/308 accepted). */
  redirect(location: string, status = 302): void {
    this.setHeader('location', encodeURI(decodeURISafe(location)));
    this.#send(status, TEXT, `Redirecting to ${location}`);
  }

  /** Status line, buffered headers and body in one write. */
  #send(
    status: number,
    contentType: OutgoingHttpHeader | undefined,
    body: string | Uint8Array | undefined,
  ): void {
    const res = this.#res;
    if (contentType !== undefined) this.#buffer('content-type', contentType);
    // Written before `end()`, the head must carry the length itself (else Node chunks).
    if (status !== 204 && status !== 304 && status >= 200) {
      const length =
        body === undefined
          ? 0
          : typeof body === 'string'
            ? Buffer.byteLength(body)
            : body.byteLength;
      // As a string: Node checks every head value with a regular expression, whose fast
      // path takes strings only. One number among the values sends every check of the
      // process down the slow path.
      this.#buffer('content-length', `${length}`);
      this.bodyBytes = length;
    }
    const headers = this.#pending;
    this.#pending = undefined;
    releaseEmptyRequest(res.req);
    res.writeHead(status, headers as OutgoingHttpHeader[] | undefined);
    res.end(body);
  }

  /** Move the buffered headers onto the Node response (before it is written to directly). */
  #handOver(): void {
    this.#direct = true;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined || this.#res.headersSent) return;
    for (let i = 0; i < pending.length; i += 2)
      this.#res.setHeader(pending[i] as string, pending[i + 1] as OutgoingHttpHeader);
  }

  /** Pipe a readable stream with the given content type. */
  async stream(
    source: NodeJS.ReadableStream,
    contentType = 'application/octet-stream',
    status?: number,
  ): Promise<void> {
    this.res.statusCode = status ?? this.#status;
    this.res.setHeader('content-type', withCharset(contentType));
    await pipeline(source, this.res);
  }

  /** Start a server-sent events stream (`text/event-stream`). */
  sse(): SseStream {
    const res = this.res;
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    let closed = false;
    // `on`: a stream that lives long must not register a `once` (see body-stream.ts).
    res.on('close', () => {
      closed = true;
    });
    return {
      send(data, options = {}) {
        if (closed) return false;
        let frame = '';
        if (options.event) frame += `event: ${oneLine(options.event)}\n`;
        if (options.id) frame += `id: ${oneLine(options.id)}\n`;
        if (options.retry !== undefined) frame += `retry: ${Math.trunc(options.retry)}\n`;
        const text = typeof data === 'string' ? data : JSON.stringify(data);
        for (const line of text.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
        return res.write(`${frame}\n`);
      },
      comment(text) {
        return closed ? false : res.write(`: ${oneLine(text)}\n\n`);
      },
      close() {
        if (!closed) res.end();
        closed = true;
      },
      get closed() {
        return closed;
      },
    };
  }

  /**
   * Send a file from within `root`. The path is resolved against root and refused when it
   * escapes it (`..`, absolute paths, NUL bytes), so user input can name a file safely.
   */
  async file(
    path: string,
    options: { root: string; maxAge?: number; download?: string } = { root: '.' },
  ): Promise<void> {
    const full = safeJoin(options.root, path);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) throw new E_FILE_NOT_FOUND(path);
    const res = this.res;
    res.statusCode = this.#status;
    // mime-types loads a large database: only file responses pay for it.
    const { default: mime } = await import('mime-types');
    res.setHeader('content-type', withCharset(mime.lookup(full) || 'application/octet-stream'));
    res.setHeader('content-length', `${info.size}`);
    res.setHeader('last-modified', info.mtime.toUTCString());
    res.setHeader('cache-control', `public, max-age=${options.maxAge ?? 0}`);
    res.setHeader('x-content-type-options', 'nosniff');
    if (options.download !== undefined) {
      const name = options.download || basename(full);
      res.setHeader(
        'content-disposition',
        `attachment; filename="${name.replace(/["\\\r\n]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      );
    }
    if (this.res.req?.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(createReadStream(full), res);
  }

  /** Send a file as an attachment. */
  download(path: string, options: { root: string; filename?: string }): Promise<void> {
    return this.file(path, { root: options.root, download: options.filename ?? '' });
  }
}

/** The index of `key` among the names of a flat header list, or -1. */
function indexOfHeader(pending: readonly unknown[], key: string): number {
  for (let i = 0; i < pending.length; i += 2) if (pending[i] === key) return i;
  return -1;
}

/** Resolve `path` under `root`, refusing anything that would leave it. */
export function safeJoin(root: string, path: string): string {
  if (path.includes('\0')) throw new E_PATH_TRAVERSAL(path);
  const base = resolve(root);
  const decoded = decodeURISafe(path);
  if (isAbsolute(decoded) || /^[a-zA-Z]:/.test(decoded)) throw new E_PATH_TRAVERSAL(path);
  const full = resolve(base, decoded);
  const rel = relative(base, full);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
    throw new E_PATH_TRAVERSAL(path);
  return full;
}

function decodeURISafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]/g, ' ');
}

function withCharset(type: string): string {
  return /^text\/|\/json$|\/javascript$|\+json$|\/xml$/.test(type) && !type.includes('charset')
    ? `${type}; charset=utf-8`
    : type;
}

/**
 * Tell Node's server that a request without a body needs no draining. Once a response
 * finishes, Node "dumps" every request nobody read: it resumes the stream, reads its end,
 * emits 'end', destroys it and emits 'close' (seven `process.nextTick`s and the stream
 * machinery behind them, on every GET). A request that declares no body (neither
 * `Content-Length` above 0 nor `Transfer-Encoding`) has nothing to pull off the wire, so
 * when nothing listens for its events Keel marks it as consumed (`_consuming`, the flag
 * Node sets on the first read) and Node skips the dump. Any other request is dumped as
 * Node always does.
 *
 * @internal
 */
export function releaseEmptyRequest(req: IncomingMessage | undefined): void {
  if (req === undefined || req.readableLength !== 0) return;
  const headers = req.headers;
  const length = headers['content-length'];
  if ((length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined)
    return;
  if (
    req.listenerCount('end') !== 0 ||
    req.listenerCount('close') !== 0 ||
    req.listenerCount('data') !== 0 ||
    req.listenerCount('readable') !== 0
  )
    return;
  (req as IncomingMessage & { _consuming: boolean })._consuming = true;
}
