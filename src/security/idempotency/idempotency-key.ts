import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { E_IDEMPOTENCY_KEY_INVALID } from './errors.js';

/** Longest key a client may send (the IETF draft leaves it open; Stripe uses 255). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

// Printable ASCII, space included: what every HTTP stack carries unchanged in a header.
const PRINTABLE = /^[\x20-\x7E]+$/;

/**
 * The client's key from header `name` (lower-case), or undefined when it is absent. Throws
 * `E_IDEMPOTENCY_KEY_INVALID` for an empty, too long or non-printable key, and for a
 * header sent more than once (Node would join the copies into one value with `, `).
 * The key itself is never echoed in the error.
 *
 * @example
 * ```ts
 * readIdempotencyKey(ctx.req, 'idempotency-key', 'Idempotency-Key'); // 'order-7f3a...' or undefined
 * ```
 */
export function readIdempotencyKey(
  req: IncomingMessage,
  name: string,
  label: string,
): string | undefined {
  const values: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) continue;
    const value = raw[i + 1] as unknown;
    if (Array.isArray(value)) values.push(...value.map(String));
    else values.push(String(value));
  }
  if (values.length === 0) {
    // Requests built without rawHeaders (a hand-made IncomingMessage) still carry headers.
    const header = req.headers[name];
    if (header === undefined) return undefined;
    if (Array.isArray(header)) values.push(...header);
    else values.push(header);
  }
  if (values.length > 1)
    throw new E_IDEMPOTENCY_KEY_INVALID(label, `the header was sent ${values.length} times`);
  const key = values[0]!;
  if (key.length === 0) throw new E_IDEMPOTENCY_KEY_INVALID(label, 'it is empty');
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw new E_IDEMPOTENCY_KEY_INVALID(
      label,
      `it has ${key.length} characters, more than ${MAX_IDEMPOTENCY_KEY_LENGTH}`,
    );
  if (!PRINTABLE.test(key))
    throw new E_IDEMPOTENCY_KEY_INVALID(
      label,
      'it contains a character outside printable ASCII (control characters and non-ASCII are refused)',
    );
  return key;
}

/**
 * The key a record is stored under: SHA-256 hex of the client identity, the method and
 * route pattern, and the client's key. Hashing bounds its length and keeps hostile keys out
 * of SQL and Redis key names; the JSON array keeps the parts from running into each other.
 */
export function scopedKey(identity: string, method: string, route: string, key: string): string {
  return createHash('sha256')
    .update(JSON.stringify([identity, method, route, key]))
    .digest('hex');
}

/** What a request's fingerprint covers. */
export interface FingerprintInput {
  method: string;
  /** The request path (not the route pattern: `/orders/5` and `/orders/6` differ). */
  path: string;
  /** The raw query string, without `?`. */
  search: string;
  /** The media type of the body, lower-case, without parameters ('' when none). */
  mediaType: string;
  /** The body's bytes (decompressed). */
  body: Buffer;
}

/**
 * SHA-256 hex of method, path, query, media type and the canonical body: a JSON body is
 * re-serialized with sorted keys and no whitespace (so a client that re-encodes the same
 * value on retry matches), any other body counts byte for byte.
 *
 * @example
 * ```ts
 * requestFingerprint({ method: 'POST', path: '/orders', search: '', mediaType: 'application/json', body });
 * ```
 */
export function requestFingerprint(input: FingerprintInput): string {
  const body = canonicalBody(input.mediaType, input.body);
  // Tagged, so bytes that fail to parse can never equal the canonical form of a JSON value.
  return createHash('sha256')
    .update(JSON.stringify([input.method, input.path, input.search, input.mediaType]))
    .update(typeof body === 'string' ? '\nJ' : '\nB')
    .update(body)
    .digest('hex');
}

/** Deepest JSON value canonicalized; deeper bodies count byte for byte. */
const MAX_CANONICAL_DEPTH = 256;

/** The body as compared: canonical JSON (a string) for JSON media types that parse, else the bytes. */
export function canonicalBody(mediaType: string, body: Buffer): Buffer | string {
  if (body.length === 0) return body;
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) return body;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  const out = stableJson(value, 0);
  return out ?? body;
}

/** JSON with object keys sorted; undefined when the value nests deeper than the limit. */
function stableJson(value: unknown, depth: number): string | undefined {
  if (depth > MAX_CANONICAL_DEPTH) return undefined;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const item of value) {
      const part = stableJson(item, depth + 1);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    return `[${parts.join(',')}]`;
  }
  const parts: string[] = [];
  // Own keys only (JSON.parse makes `__proto__` an own key, never a prototype).
  for (const key of Object.keys(value).sort()) {
    const part = stableJson((value as Record<string, unknown>)[key], depth + 1);
    if (part === undefined) return undefined;
    parts.push(`${JSON.stringify(key)}:${part}`);
  }
  return `{${parts.join(',')}}`;
}
