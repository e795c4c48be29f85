import { Buffer } from 'node:buffer';
import { E_CACHE_INVALID_VALUE, E_CACHE_VALUE_TOO_LARGE } from './errors.js';

/**
 * The text form of cached values for stores that keep bytes (file, database, Redis).
 *
 * JSON alone loses types (a Date comes back a string, `undefined` inside an array becomes
 * null, a Map becomes `{}`), so values that JSON cannot carry are written as tagged
 * objects `{"$t": tag, "v": data}` — the superjson idea in ~150 lines, without its
 * dependency (superjson 2 is ESM-only and fine on Node 20, but it keeps the types beside
 * the value in a second tree, which doubles the work for the common case of plain data).
 * A plain object's own key `$t` (or `$$t`, ...) is escaped with one more `$`, so no user
 * data is mistaken for a tag. Plain numbers stay plain JSON (`42`): Redis INCRBY and the
 * database store's increment read them as integers.
 */

const TAG = '$t';
const TAG_KEY = /^\$+t$/;
const MAX_DEPTH = 512;

/** Encode `value` as text; throws E_CACHE_INVALID_VALUE for functions, symbols, cycles. */
export function serialize(key: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return String(value);
      break;
  }
  if (value === null) return 'null';
  return JSON.stringify(encode(key, value, 0));
}

/** Serialize and refuse a text longer than `maxBytes` (UTF-8) with E_CACHE_VALUE_TOO_LARGE. */
export function serializeBounded(key: string, value: unknown, maxBytes: number): string {
  const text = serialize(key, value);
  // A UTF-16 unit is at most 3 UTF-8 bytes: only near the limit is counting worth it.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxBytes) throw new E_CACHE_VALUE_TOO_LARGE(key, bytes, maxBytes);
  }
  return text;
}

/** Decode a text written by {@link serialize}. */
export function deserialize(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null ? decode(parsed) : parsed;
}

function tagged(tag: string, v?: unknown): Record<string, unknown> {
  return v === undefined ? { [TAG]: tag } : { [TAG]: tag, v };
}

function encode(key: string, value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH)
    throw new E_CACHE_INVALID_VALUE(key, `nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return tagged('f', Object.is(value, -0) ? '-0' : String(value));
    case 'undefined':
      return tagged('u');
    case 'bigint':
      return tagged('n', value.toString());
    case 'function':
    case 'symbol':
      throw new E_CACHE_INVALID_VALUE(key, `a ${typeof value} cannot be cached`);
  }
  if (value === null) return null;
  const next = depth + 1;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = encode(key, value[i], next);
    return out;
  }
  if (value instanceof Date) return tagged('D', value.getTime());
  if (Buffer.isBuffer(value)) return tagged('B', value.toString('base64'));
  if (value instanceof Uint8Array) return tagged('U', Buffer.from(value).toString('base64'));
  if (value instanceof Map)
    return tagged(
      'M',
      [...value].map(([k, v]) => [encode(key, k, next), encode(key, v, next)]),
    );
  if (value instanceof Set)
    return tagged(
      'S',
      [...value].map((v) => encode(key, v, next)),
    );
  if (value instanceof RegExp) return tagged('R', [value.source, value.flags]);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(value as object)) {
    const encoded = encode(key, (value as Record<string, unknown>)[name], next);
    define(out, TAG_KEY.test(name) ? `$${name}` : name, encoded);
  }
  return out;
}

function decode(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decode(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (typeof tag === 'string') return decodeTag(tag, record.v);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(record)) {
    define(out, TAG_KEY.test(name) ? name.slice(1) : name, decode(record[name]));
  }
  return out;
}

function decodeTag(tag: string, v: unknown): unknown {
  switch (tag) {
    case 'u':
      return undefined;
    case 'f':
      return Number(v);
    case 'n':
      return BigInt(v as string);
    case 'D':
      return new Date(v as number);
    case 'B':
      return Buffer.from(v as string, 'base64');
    case 'U':
      return new Uint8Array(Buffer.from(v as string, 'base64'));
    case 'M':
      return new Map((v as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]));
    case 'S':
      return new Set((v as unknown[]).map(decode));
    case 'R': {
      const [source, flags] = v as [string, string];
      return new RegExp(source, flags);
    }
  }
  return undefined;
}

/** Assign without invoking the `__proto__` setter: a cached `{"__proto__": ...}` stays data. */
function define(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(target, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else target[name] = value;
}
