import type { IncomingMessage } from 'node:http';
import { type ExecutionScope, executionContext } from '../../kernel/index.js';
import { type BodyOptions, type ResolvedBodyOptions, resolveBodyOptions } from './body-options.js';
import {
  type BodyPlan,
  decodeBody,
  decodeBufferedBody,
  NO_BODY,
  type ParsedBody,
  parseMultipartRequest,
  planOrRefuse,
} from './body-parser.js';
import { collectBody, hasBody } from './body-stream.js';
import { type BodyKind, bodyKindOf, parseContentType } from './content-type.js';
import { E_BODY_CONSUMED } from './errors.js';
import { cleanupUploads, type UploadedFile } from './uploaded-file.js';

/**
 * One request's body, read at most once. `parse()` and `raw()` cache their promise, so the
 * request context can hand the same reader to every middleware; `raw()` then `parse()`
 * parses the bytes already read (a webhook can verify a signature, then use the JSON).
 *
 * @example
 * ```ts
 * const body = new BodyReader(req, { allowed: ['json', 'multipart'] });
 * res.on('close', () => void body.cleanup());
 * const parsed = await body.parse();
 * ```
 */
export class BodyReader {
  readonly #req: IncomingMessage;
  readonly #options: ResolvedBodyOptions;
  #parsed: Promise<ParsedBody> | undefined;
  #value: Promise<unknown> | undefined;
  #settled: unknown;
  #bytes: Promise<Buffer> | undefined;
  #streamed = false;
  #files: UploadedFile[] = [];
  // The single-promise path of `read()`: the read in flight, and what it has produced.
  #reading: Promise<unknown> | undefined;
  #buffer: Buffer | undefined;
  #decoded: ParsedBody | undefined;
  #plan: BodyPlan | undefined;
  #then: ((value: unknown, arg: unknown) => unknown) | undefined;
  #thenArg: unknown;
  #scope: ExecutionScope | undefined;

  /** Throws `E_INVALID_BODY_OPTIONS` at once for a bad limit, before any request is read. */
  constructor(req: IncomingMessage, options?: BodyOptions) {
    this.#req = req;
    this.#options = resolveBodyOptions(options);
  }

  /**
   * The parsed body's value (JSON value, form or multipart fields, text, bytes, or
   * undefined): what `ctx.body()` returns, without a second promise on top of `parse()`.
   */
  value(): Promise<unknown> {
    this.#value ??= this.parse().then((parsed) => {
      this.#settled = bodyValueOf(parsed);
      return this.#settled;
    });
    return this.#value;
  }

  /** The body's value once `value()` has resolved (for synchronous lookups), else undefined. */
  get settledValue(): unknown {
    return this.#settled;
  }

  /**
   * Read and decode the body, then call `then` with its value, all in one promise: the
   * request pipeline's path, where a body, its validation and a synchronous handler cost a
   * single promise. `then`'s throw or rejection rejects the result, not later `parse()`s.
   * `arg` is handed to `then` as its second argument, so a caller can pass one shared
   * function instead of a closure per request.
   */
  read<T, A = undefined>(then: (value: unknown, arg: A) => T | Promise<T>, arg?: A): Promise<T> {
    if (this.#parsed || this.#bytes || this.#reading) return this.#valueThen(then, arg as A);
    const req = this.#req;
    let plan: BodyPlan | undefined;
    if (hasBody(req)) {
      try {
        plan = planOrRefuse(req, this.#options);
      } catch (error) {
        return Promise.reject(error);
      }
      if (plan.kind === 'multipart') return this.#valueThen(then, arg as A);
    }
    const kind = plan?.kind ?? 'raw';
    this.#plan = plan;
    this.#then = then as (value: unknown, arg: unknown) => unknown;
    this.#thenArg = arg;
    this.#scope = executionContext.current();
    const reading = collectBody(req, this.#options.reads[kind], BodyReader.#received, this);
    this.#reading = reading;
    return reading as Promise<T>;
  }

  /** `read()` for a body already read, or multipart (streamed by `parse()`): one more promise. */
  #valueThen<T, A>(then: (value: unknown, arg: A) => T | Promise<T>, arg: A): Promise<T> {
    return this.value().then((value) => then(value, arg));
  }

  /**
   * `read()`'s end, called by the body stream from its 'end' event with the reader (a
   * shared function, not a closure per request). The stream calls back in the
   * socket's async context: re-entered, validation and the handler run in the request's
   * scope (its request_id, its span). Not AsyncResource.bind: on Node 20 each bind builds
   * a deprecation wrapper.
   */
  static #received(bytes: Buffer, reader: BodyReader): unknown {
    const scope = reader.#scope;
    if (scope === undefined) return reader.#decodeThen(bytes);
    return executionContext.run(scope, () => reader.#decodeThen(bytes));
  }

  #decodeThen(bytes: Buffer): unknown {
    this.#buffer = bytes;
    const plan = this.#plan;
    const decoded = plan === undefined ? NO_BODY : decodeBufferedBody(plan, bytes, this.#options);
    this.#decoded = decoded;
    this.#settled = bodyValueOf(decoded);
    return this.#then!(this.#settled, this.#thenArg);
  }

  /** The parsed body; the same promise on every call. */
  parse(): Promise<ParsedBody> {
    this.#parsed ??= this.#reading ? this.#afterRead(() => this.#decoded) : this.#parse();
    return this.#parsed;
  }

  /** What `read()` produced for the body itself, whatever its callback did. */
  #afterRead<T>(pick: () => T | undefined): Promise<T> {
    const settle = (error?: unknown): T => {
      const value = pick();
      if (value === undefined) throw error;
      return value;
    };
    return (this.#reading as Promise<unknown>).then(() => settle(), settle);
  }

  /**
   * The body's bytes (decompressed), bounded by the limit of its Content-Type's kind, or
   * the raw limit for types Keel does not parse. Rejects with `E_BODY_CONSUMED` once a
   * multipart body has been streamed by `parse()`: its bytes were never kept.
   */
  raw(): Promise<Buffer> {
    if (this.#bytes) return this.#bytes;
    if (this.#streamed) return Promise.reject(new E_BODY_CONSUMED());
    if (this.#reading) {
      this.#bytes = this.#afterRead(() => this.#buffer);
      return this.#bytes;
    }
    const header = this.#req.headers['content-type'];
    const type = header === undefined ? undefined : parseContentType(header)?.type;
    const kind = (type && bodyKindOf(type)) || 'raw';
    this.#bytes = this.#read(kind);
    return this.#bytes;
  }

  /** Uploaded files from `parse()`, once it has resolved. */
  get files(): readonly UploadedFile[] {
    return this.#files;
  }

  /** Delete the temporary files of uploads not moved; call when the response is done. */
  async cleanup(): Promise<void> {
    if (this.#parsed) await this.#parsed.catch(() => undefined);
    await cleanupUploads(this.#files);
  }

  #read(kind: BodyKind): Promise<Buffer> {
    return collectBody(this.#req, this.#options.reads[kind]);
  }

  #parse(): Promise<ParsedBody> {
    const req = this.#req;
    if (this.#bytes)
      return this.#bytes.then((bytes) => (bytes.length === 0 ? NO_BODY : this.#decode(bytes)));
    if (!hasBody(req)) return Promise.resolve(NO_BODY);
    let plan: BodyPlan;
    try {
      plan = planOrRefuse(req, this.#options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (plan.kind === 'multipart') {
      // Uploads stream to disk rather than sit in memory, so their bytes are not kept.
      this.#streamed = true;
      return parseMultipartRequest(req, this.#options).then((body) => {
        if (body.kind === 'multipart') this.#files = body.files;
        return body;
      });
    }
    // Buffered kinds: one promise for the bytes, then a synchronous decode.
    this.#bytes = this.#read(plan.kind);
    return this.#bytes.then((bytes) => decodeBufferedBody(plan, bytes, this.#options));
  }

  async #decode(bytes: Buffer): Promise<ParsedBody> {
    const plan = planOrRefuse(this.#req, this.#options);
    const body = await decodeBody(plan, bytes, this.#req.headers, this.#options);
    if (body.kind === 'multipart') this.#files = body.files;
    return body;
  }
}

function bodyValueOf(parsed: ParsedBody): unknown {
  switch (parsed.kind) {
    case 'none':
      return undefined;
    case 'multipart':
      return parsed.fields;
    default:
      return parsed.data;
  }
}
