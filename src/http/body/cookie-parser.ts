import { parseCookie } from 'cookie';

/** Cookies by name; the object has no prototype. */
export type CookieMap = { [name: string]: string };

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function decodeValue(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    // A value that is not valid percent-encoding is kept as sent: cookies set by other
    // software on the same domain are often not ours to judge.
    return value;
  }
}

/**
 * Parse a `Cookie` request header into a null-prototype map. Values are percent-decoded
 * when they can be, kept verbatim when they cannot; a malformed header never throws.
 * The first occurrence of a repeated name wins (RFC 6265 §5.4 orders the most specific
 * path first).
 *
 * @example
 * ```ts
 * parseCookies('session=abc; theme=dark'); // { session: 'abc', theme: 'dark' }
 * ```
 */
export function parseCookies(header: string | undefined): CookieMap {
  const cookies: CookieMap = Object.create(null);
  if (typeof header !== 'string' || header === '') return cookies;
  const parsed = parseCookie(header, { decode: decodeValue });
  for (const name in parsed) {
    const value = parsed[name];
    if (value === undefined || name === '' || FORBIDDEN_NAMES.has(name)) continue;
    cookies[name] = value;
  }
  return cookies;
}
