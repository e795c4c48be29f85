/** A parsed `Content-Type` header: the lower-cased `type/subtype` and its parameters. */
export interface ContentType {
  /** `type/subtype`, lower-cased, without parameters: `'application/json'`. */
  readonly type: string;
  /** Parameters with lower-cased names; values as sent, quotes removed. */
  readonly params: Readonly<Record<string, string>>;
}

/** The body kinds Keel parses. */
export type BodyKind = 'json' | 'form' | 'text' | 'multipart' | 'raw';

// RFC 9110 §5.6.2 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA
const TOKEN = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~") TOKEN[char.charCodeAt(0)] = 1;
for (let code = 48; code <= 57; code++) TOKEN[code] = 1;
for (let code = 65; code <= 90; code++) TOKEN[code] = 1;
for (let code = 97; code <= 122; code++) TOKEN[code] = 1;

function tokenEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code >= 128 || TOKEN[code] === 0) break;
    i++;
  }
  return i;
}

function skipSpace(text: string, start: number): number {
  let i = start;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  return i;
}

/**
 * Parsed headers by their text (null: malformed), so an API that sees the same few
 * `Content-Type` values all day parses each once. Bounded: when full it starts over, so
 * a client sending endless distinct values costs a parse each, never memory. Multipart
 * types are left out: their boundary makes each request's header unique.
 */
const parsedTypes = new Map<string, ContentType | null>();
const PARSED_TYPES_MAX = 256;

/**
 * Parse a `Content-Type` header per RFC 9110 §8.3. Returns undefined when the header is
 * not a well-formed media type, so a caller can refuse it rather than guess. The result is
 * frozen: one object may answer many requests.
 *
 * @example
 * ```ts
 * parseContentType('text/plain; charset="UTF-8"');
 * // { type: 'text/plain', params: { charset: 'UTF-8' } }
 * ```
 */
export function parseContentType(header: string): ContentType | undefined {
  const known = parsedTypes.get(header);
  if (known !== undefined) return known ?? undefined;
  const parsed = parse(header);
  if (parsed === undefined || !parsed.type.startsWith('multipart/')) {
    if (parsedTypes.size >= PARSED_TYPES_MAX) parsedTypes.clear();
    parsedTypes.set(header, parsed ?? null);
  }
  return parsed;
}

function parse(header: string): ContentType | undefined {
  let i = skipSpace(header, 0);
  const typeEnd = tokenEnd(header, i);
  if (typeEnd === i || header.charCodeAt(typeEnd) !== 47 /* / */) return undefined;
  const subtypeEnd = tokenEnd(header, typeEnd + 1);
  if (subtypeEnd === typeEnd + 1) return undefined;
  const type = header.slice(i, subtypeEnd).toLowerCase();
  const params: Record<string, string> = Object.create(null);
  i = skipSpace(header, subtypeEnd);
  while (i < header.length) {
    if (header.charCodeAt(i) !== 59 /* ; */) return undefined;
    i = skipSpace(header, i + 1);
    if (i === header.length) break;
    if (header.charCodeAt(i) === 59) continue; // empty parameter: "a/b;;c=d" is allowed
    const nameEnd = tokenEnd(header, i);
    if (nameEnd === i || header.charCodeAt(nameEnd) !== 61 /* = */) return undefined;
    const name = header.slice(i, nameEnd).toLowerCase();
    let value: string;
    i = nameEnd + 1;
    if (header.charCodeAt(i) === 34 /* " */) {
      value = '';
      i++;
      for (;;) {
        if (i >= header.length) return undefined;
        const code = header.charCodeAt(i);
        if (code === 34) break;
        if (code === 92 /* \ */) i++;
        if (i >= header.length) return undefined;
        value += header[i];
        i++;
      }
      i++;
    } else {
      const valueEnd = tokenEnd(header, i);
      if (valueEnd === i) return undefined;
      value = header.slice(i, valueEnd);
      i = valueEnd;
    }
    // The first occurrence wins, so a later duplicate cannot swap the boundary or charset.
    if (!(name in params)) params[name] = value;
    i = skipSpace(header, i);
  }
  return Object.freeze({ type, params: Object.freeze(params) });
}

/** The body kind a media type is parsed as, or undefined when Keel has no parser for it. */
export function bodyKindOf(type: string): BodyKind | undefined {
  switch (type) {
    case 'application/json':
      return 'json';
    case 'application/x-www-form-urlencoded':
      return 'form';
    case 'multipart/form-data':
      return 'multipart';
    case 'application/octet-stream':
      return 'raw';
  }
  if (type.endsWith('+json')) return 'json';
  if (type.startsWith('text/')) return 'text';
  return undefined;
}

/** The media types accepted for each kind, as named in 415 responses. */
export const MEDIA_TYPES: Readonly<Record<BodyKind, string>> = Object.freeze({
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
  text: 'text/*',
  multipart: 'multipart/form-data',
  raw: 'application/octet-stream',
});

/**
 * The Node `BufferEncoding` for a charset label, or undefined when unsupported. Only
 * charsets Node decodes natively: anything else would need iconv tables.
 */
export function bufferEncodingOf(charset: string): 'utf8' | 'latin1' | 'ascii' | undefined {
  switch (charset.toLowerCase()) {
    case 'utf-8':
    case 'utf8':
      return 'utf8';
    case 'iso-8859-1':
    case 'latin1':
    case 'l1':
    case 'iso_8859-1':
      return 'latin1';
    case 'us-ascii':
    case 'ascii':
      return 'ascii';
    default:
      return undefined;
  }
}

/** The content codings Keel decodes. */
export type ContentCoding = 'gzip' | 'deflate' | 'br';

/**
 * Parse `Content-Encoding` into the codings to undo, in the order they were applied.
 * `identity` is dropped; an unknown coding is returned as a string for the caller to refuse.
 */
export function parseContentEncoding(header: string | undefined): Array<ContentCoding | string> {
  if (header === undefined) return [];
  const codings: string[] = [];
  for (const part of header.split(',')) {
    const coding = part.trim().toLowerCase();
    if (coding === '' || coding === 'identity') continue;
    codings.push(coding === 'x-gzip' ? 'gzip' : coding);
  }
  return codings;
}
