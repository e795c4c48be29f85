import { E_ROUTE_PARAM_INVALID, E_ROUTE_PARAM_MISSING } from './errors.js';
import { type PathPart, parseRoutePath } from './route-path.js';

/** Values for a route's path parameters; the wildcard is `'*'`. */
export type UrlParams = Record<string, string | number | bigint | boolean | null | undefined>;

/** Query string values; arrays repeat the key, `null` and `undefined` are left out. */
export type UrlQuery = Record<
  string,
  string | number | boolean | null | undefined | readonly (string | number | boolean)[]
>;

type Piece =
  | { kind: 'static'; text: string }
  | { kind: 'param'; name: string; optional: boolean; pattern: RegExp | undefined; source: string }
  | { kind: 'wildcard' };

// A whole segment of "." or ".." would be resolved away by clients; percent-encoding the
// dots keeps it a value (the router decodes it back to "..").
function encodeSegment(value: string): string {
  if (value === '.' || value === '..') return value.replace(/\./g, '%2E');
  return encodeURIComponent(value);
}

// find-my-way anchors each parameter pattern itself, after trimming the user's ^ and $.
function anchored(pattern: string): RegExp {
  const body = pattern.replace(/^\^/, '').replace(/(?<!\\)\$$/, '');
  return new RegExp(`^(?:${body})$`);
}

/** A route path compiled for URL generation: `/users/:id` + `{ id: 7 }` → `/users/7`. */
export class UrlTemplate {
  readonly #name: string;
  readonly #path: string;
  readonly #pieces: Piece[];

  constructor(name: string, path: string) {
    this.#name = name;
    this.#path = path;
    this.#pieces = parseRoutePath(path).parts.map((part: PathPart): Piece => {
      if (part.kind === 'static') return { kind: 'static', text: encodeURI(part.text) };
      if (part.kind === 'wildcard') return part;
      return {
        kind: 'param',
        name: part.name,
        optional: part.optional,
        pattern: part.pattern === undefined ? undefined : anchored(part.pattern),
        source: part.pattern ?? '',
      };
    });
  }

  /**
   * Build the URL. Missing or empty required parameters throw `E_ROUTE_PARAM_MISSING`, values
   * not matching the parameter's pattern `E_ROUTE_PARAM_INVALID`; extra parameters are ignored.
   */
  build(params: UrlParams = {}, query?: UrlQuery): string {
    let out = '';
    for (const piece of this.#pieces) {
      if (piece.kind === 'static') {
        out += piece.text;
        continue;
      }
      if (piece.kind === 'wildcard') {
        const value = params['*'];
        const text = value === undefined || value === null ? '' : String(value);
        out += text.split('/').map(encodeSegment).join('/');
        continue;
      }
      const value = Object.hasOwn(params, piece.name) ? params[piece.name] : undefined;
      const text = value === undefined || value === null ? '' : String(value);
      if (text === '') {
        if (piece.optional) {
          // Drop the segment's slash too: `/posts/:slug?` without slug is `/posts`.
          out = out.endsWith('/') ? out.slice(0, -1) : out;
          continue;
        }
        throw new E_ROUTE_PARAM_MISSING(this.#name, piece.name, this.#path);
      }
      if (piece.pattern && !piece.pattern.test(text)) {
        throw new E_ROUTE_PARAM_INVALID(this.#name, piece.name, `/${piece.source}/`);
      }
      out += encodeSegment(text);
    }
    if (out === '') out = '/';
    return query ? out + queryString(query) : out;
  }
}

function queryString(query: UrlQuery): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, String(item));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
