import { E_HTTP_CLIENT_INVALID_URL } from './errors.js';

/** A value of the `query` option; `null` and `undefined` entries are left out. */
export type QueryValue = string | number | boolean | null | undefined;

/** Query parameters appended to a request URL; arrays repeat the key (`?id=1&id=2`). */
export type QueryParams = Record<string, QueryValue | readonly QueryValue[]>;

const SCHEME = /^[A-Za-z][A-Za-z\d+.-]*:/;

/**
 * The URL a request goes to. An absolute URL is used as is; anything else is a path joined
 * to `baseUrl` with exactly one slash (unlike `new URL(path, base)`, which would drop the
 * base's last segment: `new URL('users', 'https://api.x/v1')` is `https://api.x/users`).
 *
 * @example
 * ```ts
 * buildUrl('https://api.x/v1', '/users', { page: 2 }).href; // 'https://api.x/v1/users?page=2'
 * ```
 */
export function buildUrl(baseUrl: string | undefined, url: string | URL, query?: QueryParams): URL {
  let target: URL;
  if (url instanceof URL) {
    target = new URL(url.href);
  } else if (typeof url !== 'string') {
    throw new E_HTTP_CLIENT_INVALID_URL(String(url), 'expected a string or URL');
  } else if (SCHEME.test(url)) {
    target = parse(url);
  } else if (baseUrl !== undefined) {
    const path = url.replace(/^\/+/, '');
    target = parse(path === '' ? baseUrl : `${baseUrl.replace(/\/+$/, '')}/${path}`);
  } else {
    throw new E_HTTP_CLIENT_INVALID_URL(redactText(url), 'a relative URL needs the baseUrl option');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new E_HTTP_CLIENT_INVALID_URL(redactUrl(target), 'only http and https are supported');
  }
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null) target.searchParams.append(key, String(item));
    }
  }
  return target;
}

/**
 * A URL fit for an error message or a log: scheme, host, port and path only. Credentials,
 * the query string (where API keys and signatures travel) and the fragment are dropped.
 *
 * @example
 * ```ts
 * redactUrl(new URL('https://u:p@api.x/a?key=secret#f')); // 'https://api.x/a'
 * ```
 */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function parse(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new E_HTTP_CLIENT_INVALID_URL(redactText(text), 'not a valid URL');
  }
}

// For text that did not parse as a URL: apply the same redaction by hand, and clip it.
function redactText(text: string): string {
  const stripped = text.replace(/[?#].*$/s, '').replace(/\/\/[^/?#]*@/, '//');
  return stripped.length > 200 ? `${stripped.slice(0, 200)}…` : stripped;
}
