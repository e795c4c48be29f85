import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A response as the client is about to receive it. */
export interface CapturedResponse {
  status: number;
  /** Every header of the response, lower-case names. */
  headers: OutgoingHttpHeaders;
  /** The body, or null when it grew past the capture limit. */
  body: Buffer | null;
}

/** The handle {@link captureResponse} returns. */
export interface ResponseCapture {
  /** True once `end()` was called on the response (its delivery may still be pending). */
  readonly ended: boolean;
}

type WriteHead = ServerResponse['writeHead'];
type Write = ServerResponse['write'];
type End = ServerResponse['end'];
type Callback = (error?: Error | null) => void;

/**
 * Watch a response on its way out: its status and headers at `writeHead`, its body at each
 * `write`, and at `end()` hand everything to `onEnd` and finish the response only after
 * `onEnd` settled. Whatever writes the response (the context's `json()`, a stream piped
 * into it, the kernel's problem+json for a thrown error) goes through these three methods
 * of the Node response, so all of it is seen.
 *
 * Holding the end back means a client that has the response can count on the record being
 * stored: a retry sent after it is replayed, never answered "in flight". The head is
 * written at once (so `ctx.sent` is true and nobody writes a second response); only the last
 * chunk and the end of the message wait.
 *
 * @example
 * ```ts
 * captureResponse(ctx.res, 1_048_576, async (captured) => { await store(captured); });
 * ```
 */
export function captureResponse(
  res: ServerResponse,
  maxBytes: number,
  onEnd: (captured: CapturedResponse) => Promise<void>,
): ResponseCapture {
  const writeHead = res.writeHead as WriteHead;
  const write = res.write as Write;
  const end = res.end as End;
  let status: number | undefined;
  let headers: OutgoingHttpHeaders = {};
  let chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  let ended = false;

  const keep = (chunk: unknown, encoding: unknown): void => {
    if (over || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    // Copied: a caller may reuse its buffer once write() returns.
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk as Uint8Array);
    size += bytes.length;
    if (size > maxBytes) {
      over = true;
      chunks = [];
      return;
    }
    chunks.push(bytes);
  };

  res.writeHead = function (this: ServerResponse, code: number, ...rest: unknown[]) {
    if (status === undefined) {
      status = code;
      headers = { ...this.getHeaders() };
      for (const arg of rest)
        if (typeof arg === 'object' && arg !== null) mergeHeaders(headers, arg);
    }
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, code, ...rest);
  } as WriteHead;

  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Write;

  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (ended) return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    ended = true;
    let [chunk, encoding, callback] = args;
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    keep(chunk, encoding);
    if (!this.headersSent) {
      // What Node would do for a body given to end() alone: a length, not chunked framing.
      if (chunk !== undefined && chunk !== null && !this.hasHeader('content-length'))
        this.setHeader(
          'content-length',
          typeof chunk === 'string'
            ? Buffer.byteLength(chunk, (encoding as BufferEncoding | undefined) ?? 'utf8')
            : (chunk as Uint8Array).byteLength,
        );
      this.writeHead(this.statusCode);
    }
    const captured: CapturedResponse = {
      status: status ?? this.statusCode,
      headers,
      body: over ? null : Buffer.concat(chunks),
    };
    chunks = [];
    const finish = () => {
      const rest: unknown[] = [];
      if (chunk !== undefined) rest.push(chunk);
      if (encoding !== undefined) rest.push(encoding);
      if (callback !== undefined) rest.push(callback as Callback);
      (end as (...a: unknown[]) => ServerResponse).apply(this, rest);
    };
    onEnd(captured).then(finish, finish);
    return this;
  } as End;

  return {
    get ended() {
      return ended;
    },
  };
}

/** Merge writeHead's headers (an object, or a flat or paired array) over `into`. */
function mergeHeaders(into: OutgoingHttpHeaders, given: object): void {
  if (!Array.isArray(given)) {
    for (const [name, value] of Object.entries(given))
      if (value !== undefined) into[name.toLowerCase()] = value as OutgoingHttpHeader;
    return;
  }
  if (given.length > 0 && Array.isArray(given[0])) {
    for (const pair of given as unknown[][])
      into[String(pair[0]).toLowerCase()] = pair[1] as string;
    return;
  }
  for (let i = 0; i + 1 < given.length; i += 2)
    into[String(given[i]).toLowerCase()] = given[i + 1] as string;
}
