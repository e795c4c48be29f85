import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';
import { type BodyOptions, type ResolvedBodyOptions, resolveBodyOptions } from './body-options.js';
import { abandonRequest, collectBody, contentLength, hasBody, pumpBody } from './body-stream.js';
import {
  type BodyKind,
  bodyKindOf,
  bufferEncodingOf,
  MEDIA_TYPES,
  parseContentType,
} from './content-type.js';
import {
  E_MALFORMED_MULTIPART,
  E_UNSUPPORTED_CHARSET,
  E_UNSUPPORTED_MEDIA_TYPE,
} from './errors.js';
import { parseJsonText } from './json-body.js';
import { type BodyFeed, parseMultipart } from './multipart-parser.js';
import { addQueryPairs, QueryBuilder } from './query-parser.js';
import type { UploadedFile } from './uploaded-file.js';

/** A parsed request body, told apart by `kind`. */
export type ParsedBody =
  | { kind: 'none' }
  | { kind: 'json'; data: unknown }
  | { kind: 'form'; data: Record<string, unknown> }
  | { kind: 'text'; data: string }
  | { kind: 'raw'; data: Buffer }
  | { kind: 'multipart'; fields: Record<string, unknown>; files: UploadedFile[] };

/** How a body will be read, decided from its headers before any byte is. */
export interface BodyPlan {
  readonly kind: BodyKind;
  /** How text bodies are decoded. */
  readonly encoding: 'utf8' | 'latin1' | 'ascii';
}

/** The body of a request that has none. */
export const NO_BODY: ParsedBody = Object.freeze({ kind: 'none' });

function shown(header: string): string {
  return header.length > 100 ? `${header.slice(0, 100)}…` : header;
}

/**
 * Decide how to read a body from its Content-Type, or throw the 415 (or 400 for a
 * boundary-less multipart type) that refuses it. A body without Content-Type is taken as
 * `application/octet-stream` (RFC 9110 §8.3), so only routes allowing `raw` accept it.
 */
export function planBody(headers: IncomingHttpHeaders, options: ResolvedBodyOptions): BodyPlan {
  const accepted = (): string[] => options.allowed.map((kind) => MEDIA_TYPES[kind]);
  const header = headers['content-type'];
  if (header === undefined || header.trim() === '') {
    if (options.allowed.includes('raw')) return { kind: 'raw', encoding: 'utf8' };
    throw new E_UNSUPPORTED_MEDIA_TYPE('', accepted());
  }
  const contentType = parseContentType(header);
  if (contentType === undefined) throw new E_UNSUPPORTED_MEDIA_TYPE(shown(header), accepted());
  const kind = bodyKindOf(contentType.type);
  if (kind === undefined || !options.allowed.includes(kind)) {
    throw new E_UNSUPPORTED_MEDIA_TYPE(contentType.type, accepted());
  }
  const charset = contentType.params.charset;
  if (kind === 'text') {
    const encoding = bufferEncodingOf(charset ?? 'utf-8');
    if (encoding === undefined) throw new E_UNSUPPORTED_CHARSET(charset!, contentType.type);
    return { kind, encoding };
  }
  // RFC 8259 §8.1: JSON exchanged between systems is UTF-8; urlencoded forms are too.
  if ((kind === 'json' || kind === 'form') && charset !== undefined) {
    if (bufferEncodingOf(charset) !== 'utf8') {
      throw new E_UNSUPPORTED_CHARSET(charset, contentType.type);
    }
  }
  if (kind === 'multipart' && !contentType.params.boundary) {
    throw new E_MALFORMED_MULTIPART('the Content-Type header has no boundary parameter');
  }
  return { kind, encoding: 'utf8' };
}

/**
 * {@link planBody}, but a refusal also stops reading the request (draining a little of it
 * so that a small body leaves the connection usable).
 */
export function planOrRefuse(req: IncomingMessage, options: ResolvedBodyOptions): BodyPlan {
  try {
    return planBody(req.headers, options);
  } catch (error) {
    abandonRequest(req, true, contentLength(req));
    throw error;
  }
}

/** Parse the bytes of a non-streamed body (and of multipart bodies read whole). */
export async function decodeBody(
  plan: BodyPlan,
  bytes: Buffer,
  headers: IncomingHttpHeaders,
  options: ResolvedBodyOptions,
): Promise<ParsedBody> {
  if (plan.kind === 'multipart' && bytes.length > 0) {
    return parseMultipartFrom(headers, options, (sink) => {
      sink.end(bytes);
      return finished(sink);
    });
  }
  return decodeBufferedBody(plan, bytes, options);
}

/** {@link decodeBody} for every kind but multipart, synchronously (no promise per body). */
export function decodeBufferedBody(
  plan: BodyPlan,
  bytes: Buffer,
  options: ResolvedBodyOptions,
): ParsedBody {
  if (bytes.length === 0) return NO_BODY;
  switch (plan.kind) {
    case 'json':
      return { kind: 'json', data: parseJsonText(bytes.toString('utf8')) };
    case 'form': {
      const builder = new QueryBuilder(options.formLimits);
      addQueryPairs(builder, bytes.toString('utf8'));
      return { kind: 'form', data: builder.result() };
    }
    case 'text':
      return { kind: 'text', data: bytes.toString(plan.encoding) };
    case 'raw':
      return { kind: 'raw', data: bytes };
    default:
      throw new TypeError(`decodeBufferedBody cannot decode ${plan.kind}`);
  }
}

type MultipartBody = Extract<ParsedBody, { kind: 'multipart' }>;

async function parseMultipartFrom(
  headers: IncomingHttpHeaders,
  options: ResolvedBodyOptions,
  feed: BodyFeed,
): Promise<MultipartBody> {
  const result = await parseMultipart(headers, options.limits.multipart, options.formLimits, feed);
  return { kind: 'multipart', fields: result.fields, files: result.files };
}

/** Stream a multipart request body straight from the socket into busboy. */
export function parseMultipartRequest(
  req: IncomingMessage,
  options: ResolvedBodyOptions,
): Promise<MultipartBody> {
  const read = options.reads.multipart;
  return parseMultipartFrom(req.headers, options, (sink) => pumpBody(req, sink, read));
}

/** {@link parseBody} with resolved options: multipart streams, every other kind is buffered. */
export async function parseRequest(
  req: IncomingMessage,
  options: ResolvedBodyOptions,
): Promise<ParsedBody> {
  if (!hasBody(req)) return NO_BODY;
  const plan = planOrRefuse(req, options);
  if (plan.kind === 'multipart') return parseMultipartRequest(req, options);
  const bytes = await collectBody(req, options.reads[plan.kind]);
  return decodeBody(plan, bytes, req.headers, options);
}

/**
 * Read and parse a request body by its Content-Type, within per-kind limits and a
 * deadline. Every failure is a catalogued error with an HTTP status (413, 415, 400, 408).
 * The body can be read only once: use {@link BodyReader} to share one result.
 *
 * @example
 * ```ts
 * const body = await parseBody(req, { allowed: ['json'], limits: { json: 64 * 1024 } });
 * if (body.kind === 'json') console.log(body.data);
 * ```
 */
export function parseBody(req: IncomingMessage, options?: BodyOptions): Promise<ParsedBody> {
  let resolved: ResolvedBodyOptions;
  try {
    resolved = resolveBodyOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return parseRequest(req, resolved);
}
