import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import { suggest } from '../../support/index.js';
import { HTTP_METHODS, type HttpMethod, type MiddlewareRef, type RouteRecord } from '../types.js';
import {
  E_DUPLICATE_ROUTE,
  E_DUPLICATE_ROUTE_NAME,
  E_INVALID_ROUTE,
  E_ROUTE_NAME_NOT_FOUND,
} from './errors.js';
import { expandOptional, parseRoutePath, trimTrailingSlash } from './route-path.js';
import { type UrlParams, type UrlQuery, UrlTemplate } from './url-builder.js';

export interface RouteTableOptions<T> {
  /** `/products/` finds `/products` (and a route declared `/products/`). Default true. */
  ignoreTrailingSlash?: boolean;
  /** Static path parts match case-sensitively. Default true. */
  caseSensitive?: boolean;
  /** A longer parameter value does not match (404). Default 500. */
  maxParamLength?: number;
  /** Build each route's payload once (the kernel's composed pipeline). */
  compile?: (record: RouteRecord) => T;
  /**
   * Leave find-my-way's code-generated matcher for later (`optimize()`): lookups walk the
   * route tree until then. Servers use it to answer the first request sooner and compile
   * once idle; generating code for 500 routes costs tens of milliseconds.
   */
  deferCompile?: boolean;
}

/** What `lookup` found. `params` values are percent-decoded (`%2F` → `/`). */
export type RouteMatch<T> =
  | { kind: 'found'; route: RouteRecord; payload: T; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/** One row of `routes:list` and of the compiled `var/cache/routes.json`. */
export interface RouteListEntry {
  /** The declared methods joined with `|` (`PUT|PATCH`), or `ANY`; GET routes also answer HEAD. */
  method: string;
  path: string;
  name: string | null;
  module: string | null;
  middleware: string[];
  groups: string[];
  source: string | null;
  mount: boolean;
}

interface Entry<T> {
  readonly record: RouteRecord;
  payload: T;
  /** The concrete paths registered (optional parameters expanded, trailing slash trimmed). */
  readonly paths: readonly string[];
  /** Parameter names checked for NUL bytes, or null when the route has none. */
  readonly checked: readonly string[] | null;
  /** The parameter ending the path, when it has no pattern: it must not be empty. */
  readonly lastPlain: string | undefined;
}

type Found = Extract<RouteMatch<unknown>, { kind: 'found' }>;

// Methods in the order an Allow header lists them.
const ALLOW_ORDER: readonly HttpMethod[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
];
const NOT_FOUND: RouteMatch<never> = Object.freeze({ kind: 'not-found' });
const EMPTY_QUERY = Object.freeze({});
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});

/**
 * Called by find-my-way with the matched route's store; the result is what `lookup`
 * returns. Parameters arrive decoded, so an encoded NUL (`%00`) would reach handlers, SQL
 * and file names: a route with parameters does not match it. Neither does an empty plain
 * parameter at the end (`/users/` for `/users/:id`), which lets the trailing-slash retry
 * find `/users` instead. Returning null is a miss, like find-my-way's own.
 */
function onMatch(
  req: { url: string },
  _res: unknown,
  params: Record<string, string>,
  entry: Entry<unknown>,
): Found | null {
  if (entry.checked !== null) {
    // Only a `%` or a trailing `/` can produce those values. Two cheap tests keep the
    // common path fast; a `//` scan would double the lookup's cost, so `/users//posts`
    // still gives an empty `id` (documented).
    const url = req.url;
    if (
      (url.charCodeAt(url.length - 1) === 47 || url.indexOf('%') !== -1) &&
      !acceptable(entry, params)
    ) {
      return null;
    }
  }
  return { kind: 'found', route: entry.record, payload: entry.payload, params };
}

function acceptable(entry: Entry<unknown>, params: Record<string, string>): boolean {
  for (const name of entry.checked!) {
    const value = params[name];
    if (value?.includes('\u0000')) return false;
  }
  const last = entry.lastPlain;
  return last === undefined || params[last] !== '';
}

function describe(record: RouteRecord, withRoute = false): string {
  const where = [
    record.module === undefined ? '' : `module "${record.module}"`,
    record.source === undefined ? '' : `at ${record.source}`,
  ]
    .filter(Boolean)
    .join(' ');
  const route = withRoute ? `${record.methods.join('|')} ${record.path} ` : '';
  return `${route}${where === '' ? '(declared at an unknown place)' : `in ${where}`}`;
}

/** How `routes:list` shows a middleware: its alias, or its function's name. */
export function middlewareName(ref: MiddlewareRef): string {
  if (typeof ref === 'string') return ref;
  if (typeof ref === 'function') return ref.name || '<anonymous>';
  const ctor = (ref as object).constructor;
  if (ctor && ctor !== Object && ctor.name) return ctor.name;
  // An object literal's `handle` method is named "handle" by inference: no information.
  const name = ref.handle.name;
  return name === '' || name === 'handle' ? '<anonymous>' : name;
}

function checkRecord(record: RouteRecord): void {
  const path = typeof record?.path === 'string' ? record.path : String(record?.path);
  if (!Array.isArray(record?.methods) || record.methods.length === 0) {
    throw new E_INVALID_ROUTE(path, 'the route has no methods');
  }
  for (const method of record.methods) {
    if (!HTTP_METHODS.includes(method)) {
      throw new E_INVALID_ROUTE(path, `unknown method ${JSON.stringify(method)}`);
    }
  }
  if (typeof record.handler !== 'function') {
    throw new E_INVALID_ROUTE(path, 'the handler is not a function');
  }
}

/**
 * Every route of the application, compiled once into a find-my-way tree. Lookups return
 * the route's record, its payload (the kernel stores the composed pipeline there) and the
 * decoded parameters; misses say whether another method would have matched (405).
 *
 * @example
 * ```ts
 * const table = new RouteTable(router.routes(), { compile: (r) => pipeline.compile(r) });
 * const match = table.lookup('GET', '/products/42');
 * if (match.kind === 'found') await match.payload.run(ctx);
 * table.url('products.show', { id: 42 }); // '/products/42'
 * ```
 */
export class RouteTable<T = undefined> {
  /** The records, in the order given. */
  readonly records: readonly RouteRecord[];
  readonly #fmw: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  // One request-shaped object reused by every lookup: find-my-way reads `method`, `url`
  // and, for host/version constraints, `headers`. Lookups are synchronous, so sharing it
  // is safe and saves an allocation per request.
  readonly #req: { method: string; url: string; headers: IncomingHttpHeaders };
  readonly #entries: Entry<T>[] = [];
  readonly #named = new Map<string, Entry<T>>();
  readonly #templates = new Map<string, UrlTemplate>();
  readonly #methods: HttpMethod[];
  readonly #trailing: boolean;

  #optimized = false;

  constructor(records: readonly RouteRecord[], options: RouteTableOptions<T> = {}) {
    this.records = [...records];
    this.#trailing = options.ignoreTrailingSlash ?? true;
    this.#req = { method: 'GET', url: '/', headers: NO_HEADERS };
    // Trailing slashes are handled here, on misses only: find-my-way's own option would
    // disable its fastest (raw URL) compiled matcher for every request.
    this.#fmw = FindMyWay({
      ignoreTrailingSlash: false,
      caseSensitive: options.caseSensitive ?? true,
      maxParamLength: options.maxParamLength ?? 500,
      defaultRoute: () => null,
      querystringParser: () => EMPTY_QUERY,
    });
    const compile = options.compile;
    for (const record of this.records) {
      checkRecord(record);
      const entry = this.#entry(record, compile ? compile(record) : (undefined as T));
      for (const method of record.methods) {
        for (const path of entry.paths) this.#register(method, path, entry);
      }
      if (record.name !== undefined) {
        const first = this.#named.get(record.name);
        if (first) {
          throw new E_DUPLICATE_ROUTE_NAME(
            record.name,
            describe(first.record, true),
            describe(record, true),
          );
        }
        this.#named.set(record.name, entry);
      }
      this.#entries.push(entry);
    }
    // HEAD falls back to GET: registered after every explicit route, so an explicit HEAD
    // route on the same path wins whatever the declaration order.
    for (const entry of this.#entries) {
      const { methods, constraints } = entry.record;
      if (!methods.includes('GET') || methods.includes('HEAD')) continue;
      for (const path of entry.paths) {
        if (this.#fmw.findRoute('HEAD', path, constraints ?? {}) === null) {
          this.#register('HEAD', path, entry);
        }
      }
    }
    const used = new Set(this.#entries.flatMap((e) => e.record.methods));
    if (used.has('GET')) used.add('HEAD');
    this.#methods = ALLOW_ORDER.filter((m) => used.has(m));
    if (!options.deferCompile) this.optimize();
  }

  /** Switch lookups to find-my-way's generated matcher (idempotent). */
  optimize(): void {
    if (this.#optimized) return;
    this.#optimized = true;
    this.#fmw.compile();
  }

  /** The number of routes (records). */
  get size(): number {
    return this.records.length;
  }

  /**
   * Replace every route's payload, e.g. once the middleware pipeline can be composed.
   * Returns the same table, typed with the new payload.
   */
  attach<U>(compile: (record: RouteRecord) => U): RouteTable<U> {
    for (const entry of this.#entries) (entry as Entry<unknown>).payload = compile(entry.record);
    return this as unknown as RouteTable<U>;
  }

  /**
   * Find the route for a request. `path` is the raw pathname (no query string); pass the
   * request headers when routes use host or version constraints. The found case allocates
   * only the params object and the result.
   */
  lookup(method: string, path: string, headers?: IncomingHttpHeaders): RouteMatch<T> {
    const req = this.#req;
    req.method = method;
    req.url = path;
    req.headers = headers ?? NO_HEADERS;
    const found = this.#find(req);
    if (found !== null) return found;
    return this.#miss(method, path);
  }

  #find(req: { method: string; url: string }): RouteMatch<T> | null {
    return this.#fmw.lookup(req as IncomingMessage, null as unknown as ServerResponse);
  }

  #miss(method: string, path: string): RouteMatch<T> {
    const req = this.#req;
    let trimmed: string | undefined;
    if (this.#trailing && path.length > 1 && path.charCodeAt(path.length - 1) === 47) {
      trimmed = path.slice(0, -1);
      req.url = trimmed;
      const found = this.#find(req);
      if (found !== null) return found;
    }
    const allow: string[] = [];
    for (const other of this.#methods) {
      if (other === method) continue;
      req.method = other;
      req.url = path;
      let hit = this.#find(req) !== null;
      if (!hit && trimmed !== undefined) {
        req.url = trimmed;
        hit = this.#find(req) !== null;
      }
      if (hit) allow.push(other);
    }
    if (allow.length === 0) return NOT_FOUND;
    if (!allow.includes('OPTIONS')) allow.push('OPTIONS');
    return { kind: 'method-not-allowed', allow };
  }

  /** True when a route has this name. */
  has(name: string): boolean {
    return this.#named.has(name);
  }

  /** The record of a named route. */
  route(name: string): RouteRecord | undefined {
    return this.#named.get(name)?.record;
  }

  /**
   * The URL of a named route: parameters are percent-encoded, the wildcard is `'*'` and
   * keeps its slashes, `query` becomes the query string.
   *
   * @example
   * ```ts
   * table.url('products.show', { id: 42 }, { tab: 'stock' }); // '/products/42?tab=stock'
   * ```
   */
  url(name: string, params?: UrlParams, query?: UrlQuery): string {
    let template = this.#templates.get(name);
    if (template === undefined) {
      const entry = this.#named.get(name);
      if (entry === undefined) {
        throw new E_ROUTE_NAME_NOT_FOUND(name, suggest(name, this.#named.keys()));
      }
      const path = entry.record.path;
      template = new UrlTemplate(name, this.#trailing ? trimTrailingSlash(path) : path);
      this.#templates.set(name, template);
    }
    return template.build(params, query);
  }

  /** Every route for `routes:list`, sorted by path then method; JSON-serialisable. */
  list(): RouteListEntry[] {
    const rank = (methods: readonly HttpMethod[]): number => ALLOW_ORDER.indexOf(methods[0]!);
    return [...this.#entries]
      .sort((a, b) => {
        const x = a.record;
        const y = b.record;
        if (x.path !== y.path) return x.path < y.path ? -1 : 1;
        return rank(x.methods) - rank(y.methods);
      })
      .map(({ record }) => ({
        method: record.methods.length === HTTP_METHODS.length ? 'ANY' : record.methods.join('|'),
        path: record.path,
        name: record.name ?? null,
        module: record.module ?? null,
        middleware: record.middleware.map(middlewareName),
        groups: [...record.groups],
        source: record.source ?? null,
        mount: record.mount !== undefined,
      }));
  }

  #entry(record: RouteRecord, payload: T): Entry<T> {
    const parsed = parseRoutePath(record.path);
    let paths = expandOptional(record.path, parsed);
    // A mount's `/prefix/*` also serves `/prefix` itself.
    if (record.mount !== undefined && record.path.endsWith('/*')) {
      paths = [...paths, record.path.slice(0, -2) || '/'];
    }
    if (this.#trailing) paths = [...new Set(paths.map(trimTrailingSlash))];
    const names = parsed.params.map((p) => p.name);
    const last = parsed.parts.at(-1);
    if (parsed.wildcard) names.push('*');
    return {
      record,
      payload,
      paths,
      checked: names.length === 0 ? null : names,
      lastPlain: last?.kind === 'param' && last.pattern === undefined ? last.name : undefined,
    };
  }

  #register(method: HttpMethod, path: string, entry: Entry<T>): void {
    const constraints = entry.record.constraints;
    const options = constraints && Object.keys(constraints).length > 0 ? { constraints } : {};
    // find-my-way's own messages (unsafe regex, unknown constraint) become E_INVALID_ROUTE;
    // findRoute normalises the path exactly as on() does, so it finds the first declaration.
    let existing: { store: unknown } | null;
    try {
      existing = this.#fmw.findRoute(method, path, constraints ?? {});
      if (existing === null) this.#fmw.on(method, path, options, onMatch as never, entry);
    } catch (error) {
      throw new E_INVALID_ROUTE(path, (error as Error).message).withCause(error);
    }
    if (existing !== null) {
      const first = (existing.store as Entry<T>).record;
      throw new E_DUPLICATE_ROUTE(method, path, describe(first), describe(entry.record));
    }
  }
}
