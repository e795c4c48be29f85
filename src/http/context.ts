import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Container } from '../container/index.js';
import type { Logger } from '../kernel/index.js';
import { uuid } from '../support/uuid.js';
import type { ViewEngine } from '../view/index.js';
import {
  BodyReader,
  type CookieMap,
  parseCookies,
  parseQuery,
  type QueryObject,
} from './body/index.js';
import { createHttpClient, type HttpClient } from './client/index.js';
import { E_VIEWS_NOT_CONFIGURED } from './errors.js';
import type { CompiledRoute } from './pipeline.js';
import { ResponseBuilder, unsignCookieValue } from './response.js';

/** Services a context needs from the kernel, shared by every request. */
export interface ContextServices {
  container: Container;
  logger: Logger;
  /** Client address resolution honouring trusted proxies. */
  clientIp(req: IncomingMessage): string;
  /** The scheme the client used, honouring `X-Forwarded-Proto` from trusted proxies. */
  protocol?(req: IncomingMessage): 'http' | 'https';
  /** The host the client asked for, honouring `X-Forwarded-Host` from trusted proxies. */
  host?(req: IncomingMessage): string | undefined;
  /** Keys verifying signed cookies (first signs). */
  cookieSecrets?: readonly Buffer[];
  /** The view engine, resolved on first `ctx.view()`. */
  views?: () => ViewEngine;
  /** The application's outgoing HTTP client. */
  httpClient?: () => HttpClient;
}

// Shared empty defaults: most requests never fill them, so they are not allocated per request.
const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_INPUT = Object.freeze({}) as HttpContext['validated'];

// An incoming X-Request-Id is echoed only when it is short and plain, so it cannot inject
// into logs or headers.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * One request and its response. Everything is parsed lazily: a route that never reads the
 * query, cookies or body does not pay for them.
 *
 * @example
 * ```ts
 * router.get('/users/:id', (ctx) => ({ id: ctx.params.id, fields: ctx.query.fields }));
 * ```
 */
export class HttpContext extends ResponseBuilder {
  readonly req: IncomingMessage;
  readonly method: string;
  /** The pathname, without the query string. */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly search: string;
  params: Record<string, string>;
  /** The matched route; undefined for 404/405. */
  route: CompiledRoute | undefined;
  /** Validated input when the route declares schemas. */
  validated: { params?: unknown; query?: unknown; body?: unknown; headers?: unknown } = NO_INPUT;
  /** The error this request failed with, once it became a problem response. */
  failure: unknown;
  #state: Record<string, unknown> | undefined;
  readonly #services: ContextServices;
  #query: QueryObject | undefined;
  #cookies: CookieMap | undefined;
  #requestId: string | undefined;
  #ip: string | undefined;
  #scope: Container | undefined;
  #logger: Logger | undefined;
  #body: BodyReader | undefined;
  #viewLocals: Record<string, unknown> | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, services: ContextServices) {
    super(res);
    this.req = req;
    this.#services = services;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.search = q === -1 ? '' : url.slice(q + 1);
    this.params = NO_PARAMS;
  }

  /** Request-scoped values (middleware → handler), e.g. the authenticated user. */
  get state(): Record<string, unknown> {
    this.#state ??= {};
    return this.#state;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  /** A request header (lower-case name); the first value when repeated. */
  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** The parsed query string, bounded in depth and count. */
  get query(): QueryObject {
    this.#query ??=
      this.search === '' ? (Object.create(null) as QueryObject) : parseQuery(this.search);
    return this.#query;
  }

  get cookies(): CookieMap {
    this.#cookies ??= parseCookies(this.req.headers.cookie);
    return this.#cookies;
  }

  /** The request id: a well-formed incoming `X-Request-Id`, else a new UUID. */
  get requestId(): string {
    if (this.#requestId === undefined) {
      const incoming = this.req.headers['x-request-id'];
      this.#requestId =
        typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : uuid();
    }
    return this.#requestId;
  }

  /** The client address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy. */
  get ip(): string {
    this.#ip ??= this.#services.clientIp(this.req);
    return this.#ip;
  }

  /**
   * `https` when the client reached the first trusted proxy (or this server) over TLS:
   * `X-Forwarded-Proto` counts only from a trusted peer.
   */
  get protocol(): 'http' | 'https' {
    const resolve = this.#services.protocol;
    if (resolve !== undefined) return resolve(this.req);
    return (this.req.socket as { encrypted?: boolean } | null)?.encrypted === true
      ? 'https'
      : 'http';
  }

  /** Whether the request came over HTTPS ({@link protocol}). */
  get secure(): boolean {
    return this.protocol === 'https';
  }

  /** `host[:port]` the client asked for (`X-Forwarded-Host` from a trusted peer); undefined when invalid. */
  get host(): string | undefined {
    const resolve = this.#services.host;
    return resolve !== undefined ? resolve(this.req) : this.req.headers.host;
  }

  /** A container scope for this request: `scoped` bindings live until the response ends. */
  get container(): Container {
    if (!this.#scope) {
      this.#scope = this.#services.container.createScope('request');
      this.#scope.value('ctx', this);
    }
    return this.#scope;
  }

  /**
   * The application logger bound to this request (`request_id`, method, path). The id is
   * bound even where the kernel serves the request in a scope (the log mixin then leaves it
   * out, so a line never carries it twice): a line logged from outside the request's async
   * context (a shared connection's event) still names its request.
   */
  get logger(): Logger {
    this.#logger ??= this.#services.logger.child({
      request_id: this.requestId,
      method: this.method,
      path: this.path,
    });
    return this.#logger;
  }

  /** The request body reader (parsed once, on first use). */
  get bodyReader(): BodyReader {
    this.#body ??= new BodyReader(this.req, this.route?.record.body);
    return this.#body;
  }

  /** The parsed body: JSON value, form fields, text, bytes, or multipart fields. */
  body<T = unknown>(): Promise<T> {
    return this.bodyReader.value() as Promise<T>;
  }

  /**
   * One input value by key, from validated input when the route has schemas, else from
   * params, then query, then a parsed object body.
   */
  input<T = unknown>(key: string): T | undefined {
    const v = this.validated;
    for (const source of [v.params, v.query, v.body]) {
      if (source && typeof source === 'object' && Object.hasOwn(source, key)) {
        return (source as Record<string, unknown>)[key] as T;
      }
    }
    if (Object.hasOwn(this.params, key)) return this.params[key] as T;
    const query = this.query;
    if (Object.hasOwn(query, key)) return query[key] as T;
    const body = this.#body?.settledValue;
    if (body && typeof body === 'object' && Object.hasOwn(body, key)) {
      return (body as Record<string, unknown>)[key] as T;
    }
    return undefined;
  }

  /**
   * Render a view (`'catalog::products/index'` for a module's views) and send it as HTML.
   *
   * @example
   * ```ts
   * router.get('/products', (ctx) => ctx.view('catalog::products/index', { products }));
   * ```
   */
  async view(name: string, data?: object, options?: { layout?: string }): Promise<void> {
    const engine = this.#services.views?.();
    if (!engine) throw new E_VIEWS_NOT_CONFIGURED(name);
    let shared: Record<string, unknown> | undefined;
    if (this.#viewLocals !== undefined) {
      shared = {};
      for (const [key, value] of Object.entries(this.#viewLocals))
        shared[key] = typeof value === 'function' ? (value as () => unknown)() : value;
    }
    this.html(
      await engine.render(name, { ...shared, ...data, requestId: this.requestId }, options),
    );
  }

  /**
   * Values every view this request renders receives (`it.csrfToken`), under the handler's
   * own data: middleware shares what pages need (the CSRF token, the CSP nonce). A function
   * is called when a view renders, so its value is the one current then.
   *
   * @example
   * ```ts
   * ctx.shareWithViews({ user: ctx.state.user, csrfToken: () => ctx.csrfToken() });
   * ```
   */
  shareWithViews(values: Record<string, unknown>): this {
    this.#viewLocals = { ...this.#viewLocals, ...values };
    return this;
  }

  /** The app's HTTP client, sending this request's id (`x-request-id`) on every call. */
  get client(): HttpClient {
    const base = this.#services.httpClient?.() ?? createHttpClient();
    return base.withOptions({ headers: { 'x-request-id': this.requestId } });
  }

  /** The value of a signed cookie, or undefined when missing or tampered with. */
  signedCookie(name: string): string | undefined {
    const raw = this.cookies[name];
    const secrets = this.#services.cookieSecrets;
    return raw === undefined || !secrets ? undefined : unsignCookieValue(name, raw, secrets);
  }

  /** Release request resources: the scope's disposables and uploaded temp files. */
  async dispose(): Promise<void> {
    const scope = this.#scope;
    const body = this.#body;
    this.#scope = undefined;
    this.#body = undefined;
    await Promise.allSettled([scope?.dispose(), body?.cleanup()]);
  }

  /**
   * True when something must be released after the response: a request scope, or a
   * multipart body whose uploads sit in temp files. JSON and form bodies need nothing.
   */
  get hasResources(): boolean {
    if (this.#scope !== undefined) return true;
    if (this.#body === undefined) return false;
    const type = this.req.headers['content-type'];
    return (
      type !== undefined && type.charCodeAt(0) === 109 /* m */ && type.startsWith('multipart/')
    );
  }

  /** Signed cookie secrets for `ResponseBuilder.cookie(..., { signed: true })`. */
  protected override cookieSecrets(): readonly Buffer[] | undefined {
    return this.#services.cookieSecrets;
  }
}
