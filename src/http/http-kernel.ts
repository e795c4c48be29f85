import type { IncomingMessage, ServerResponse } from 'node:http';
// light-my-request is loaded on first use: servers never need it.
import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import type { Container } from '../container/index.js';
import { type ExecutionScope, executionContext, type Logger } from '../kernel/index.js';
import { deepMerge } from '../support/index.js';
import type { ViewEngine } from '../view/index.js';
import { type BodyOptions, mustCloseConnection } from './body/index.js';
import type { HttpClient } from './client/index.js';
import { type ContextServices, HttpContext } from './context.js';
import type { ErrorReporterRegistry } from './errors/index.js';
import { E_METHOD_NOT_ALLOWED, E_ROUTE_NOT_FOUND, toProblem } from './errors/index.js';
import type { RequestInstrument, RequestOutcome } from './instrument.js';
import { type CompiledRoute, MiddlewareRegistry } from './pipeline.js';
import { releaseEmptyRequest } from './response.js';
import { Router, RouteTable } from './router/index.js';
import { kContext, kObserved } from './server/slots.js';
import type { RouteRecord } from './types.js';

export interface HttpKernelOptions {
  container: Container;
  logger: Logger;
  /** Show error details (message, stack, cause) in problem+json bodies. Development only. */
  debug?: boolean;
  clientIp?: (req: IncomingMessage) => string;
  /** The client's scheme honouring trusted proxies (`ctx.protocol`); the socket's otherwise. */
  protocol?: (req: IncomingMessage) => 'http' | 'https';
  /** The requested host honouring trusted proxies (`ctx.host`); the Host header otherwise. */
  host?: (req: IncomingMessage) => string | undefined;
  cookieSecrets?: readonly Buffer[];
  reporters?: ErrorReporterRegistry;
  views?: () => ViewEngine;
  httpClient?: () => HttpClient;
  /** Body limits and deadline for every route; a route's own `.body({...})` wins per key. */
  body?: BodyOptions;
  /** Build a controller instance for resource and decorator routes (the container by default). */
  controllerFactory?: (controller: new (...args: never[]) => unknown) => unknown;
}

/** What the instruments began with, until the response closes. */
interface Observation {
  readonly started: number;
  readonly states: unknown[];
}

type TrackedResponse = ServerResponse & {
  [kContext]?: HttpContext | undefined;
  [kObserved]?: Observation | undefined;
};

/**
 * The request kernel: route lookup, the route's pre-composed pipeline, the response, and
 * errors as problem+json. One instance serves the Node server, `fetch()` and `inject()`.
 */
export class HttpKernel {
  /** The application-level router; modules add their own routers with `addRoutes`. */
  readonly router: Router;
  readonly middleware = new MiddlewareRegistry();
  readonly #records: RouteRecord[] = [];
  readonly #services: ContextServices;
  readonly #debug: boolean;
  readonly #reporters: ErrorReporterRegistry | undefined;
  readonly #body: BodyOptions | undefined;
  #table: RouteTable<CompiledRoute> | undefined;
  #instruments: RequestInstrument[] = [];
  /** Whether an instrument needs the execution scope (see RequestInstrument.scope). */
  #scoped = false;
  /** Hooks that may answer a request before routing (CORS preflight, HTTPS redirect). */
  #early: ((ctx: HttpContext) => boolean) | undefined;

  readonly #controllerFactory: HttpKernelOptions['controllerFactory'];

  constructor(options: HttpKernelOptions) {
    this.#controllerFactory = options.controllerFactory;
    this.router = this.createRouter('app');
    this.#services = {
      container: options.container,
      logger: options.logger,
      clientIp: options.clientIp ?? ((req) => req.socket?.remoteAddress ?? ''),
      ...(options.protocol ? { protocol: options.protocol } : {}),
      ...(options.host ? { host: options.host } : {}),
      ...(options.cookieSecrets ? { cookieSecrets: options.cookieSecrets } : {}),
      ...(options.views ? { views: options.views } : {}),
      ...(options.httpClient ? { httpClient: options.httpClient } : {}),
    };
    this.#debug = options.debug ?? false;
    this.#body = options.body;
    this.#reporters = options.reporters;
  }

  /** A router for one module, sharing the kernel's controller factory. */
  createRouter(module: string): Router {
    return new Router({
      module,
      ...(this.#controllerFactory ? { controllerFactory: this.#controllerFactory as never } : {}),
    });
  }

  /** Add the routes of a module's (or any) router; they join the table at `build()`. */
  addRoutes(router: Router): this {
    this.#records.push(...router.routes());
    return this;
  }

  /** Compose every route's pipeline and build the lookup table. Call once, at boot. */
  build(options: { deferCompile?: boolean } = {}): RouteTable<CompiledRoute> {
    const global = this.#body;
    const records = [...this.#records, ...this.router.routes()].map((record) =>
      global
        ? {
            ...record,
            body: deepMerge(
              global as Record<string, unknown>,
              record.body as Record<string, unknown> | undefined,
            ) as BodyOptions,
          }
        : record,
    );
    this.#table = new RouteTable(records, {
      compile: (record) => this.middleware.compile(record),
      ...(options.deferCompile ? { deferCompile: true } : {}),
    });
    return this.#table;
  }

  get routes(): RouteTable<CompiledRoute> {
    return this.#table ?? this.build();
  }

  /**
   * Observe every request (logs, metrics, tracing). Unless every instrument says
   * `scope: false`, each request runs in its own execution scope, so everything it logs
   * carries its `request_id`.
   */
  instrument<State>(instrument: RequestInstrument<State>): this {
    this.#instruments = [...this.#instruments, instrument as RequestInstrument];
    this.#scoped = this.#instruments.some((i) => i.scope !== false);
    return this;
  }

  /**
   * Run `hook` for every request before route lookup, so it also sees paths without a
   * route and methods a route does not serve (a CORS preflight, an HTTPS redirect). It
   * returns true when it answered the request itself. Synchronous on purpose: it runs on
   * every request, and a kernel without hooks pays one `undefined` check.
   *
   * @example
   * ```ts
   * kernel.beforeRouting((ctx) => ctx.path === '/ping' && (ctx.text('pong'), true));
   * ```
   */
  beforeRouting(hook: (ctx: HttpContext) => boolean): this {
    const previous = this.#early;
    this.#early =
      previous === undefined ? hook : (ctx) => previous(ctx) || (!ctx.sent && hook(ctx));
    return this;
  }

  /** The Node request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = new HttpContext(req, res, this.#services);
    ctx.setTrustedHeader('x-request-id', ctx.requestId);
    if (this.#instruments.length === 0) this.#dispatch(ctx, req, res);
    else this.#observe(ctx, req, res);
  };

  // `ctx.res` hands the buffered headers over to Node: the kernel keeps its own `res`.
  #observe(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const instruments = this.#instruments;
    const scope: ExecutionScope | undefined = this.#scoped
      ? { request_id: ctx.requestId }
      : undefined;
    const observe = () => {
      const states = new Array<unknown>(instruments.length);
      for (let i = 0; i < instruments.length; i++) {
        const instrument = instruments[i]!;
        if (instrument.begin === undefined) continue;
        try {
          states[i] = instrument.begin(ctx, scope);
        } catch (error) {
          this.#instrumentFailed(instrument, error);
        }
      }
      // 'close' comes once per response: after 'finish', or alone when the client went
      // away. One listener per kernel (no closure per request) finds what it needs on the
      // response; it ends the instruments before running any terminating middleware.
      const tracked = res as TrackedResponse;
      tracked[kContext] = ctx;
      tracked[kObserved] = { started, states };
      res.on('close', this.#onClose);
      this.#dispatch(ctx, req, res);
    };
    if (scope === undefined) observe();
    else executionContext.run(scope, observe);
  }

  #endObservation(ctx: HttpContext, res: ServerResponse, observed: Observation): void {
    const instruments = this.#instruments;
    const length = res.getHeader('content-length');
    const outcome: RequestOutcome = {
      status: res.statusCode,
      durationMs: performance.now() - observed.started,
      bytes: ctx.bodyBytes ?? (length === undefined ? undefined : Number(length)),
      aborted: !res.writableEnded,
      error: ctx.failure,
    };
    for (let i = 0; i < instruments.length; i++) {
      try {
        instruments[i]!.end(ctx, observed.states[i], outcome);
      } catch (error) {
        this.#instrumentFailed(instruments[i]!, error);
      }
    }
  }

  #instrumentFailed(instrument: RequestInstrument, error: unknown): void {
    this.#services.logger.error({ err: error }, `request instrument "${instrument.name}" failed`);
  }

  #dispatch(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): void {
    const table = this.#table ?? this.build();
    if (this.#early !== undefined && this.#runEarly(ctx)) return;
    const found = table.lookup(ctx.method, ctx.path, req.headers);
    if (found.kind === 'found') {
      ctx.params = found.params;
      const route = found.payload;
      ctx.route = route;
      if (route.terminators.length > 0) {
        // A shared listener (no closure per request): the context rides on the response.
        // A server response emits 'close' once, after 'finish' or alone when it never
        // finishes (the client went away, or a failure after the head cut the connection).
        // An observed request's response has the listener already.
        const tracked = res as TrackedResponse;
        if (tracked[kContext] === undefined) {
          tracked[kContext] = ctx;
          res.on('close', this.#onClose);
        }
      }
      let out: void | Promise<void>;
      try {
        out = route.run(ctx);
      } catch (error) {
        this.#fail(ctx, error);
        return;
      }
      if (out instanceof Promise) {
        out.then(
          () => this.#finish(ctx),
          (error: unknown) => this.#fail(ctx, error),
        );
      } else {
        this.#finish(ctx);
      }
      return;
    }
    if (found.kind === 'method-not-allowed' && ctx.method === 'OPTIONS') {
      // OPTIONS without an explicit route: answer with the methods the path supports.
      res.statusCode = 204;
      res.setHeader('allow', found.allow.join(', '));
      res.end();
      return;
    }
    const error =
      found.kind === 'method-not-allowed'
        ? new E_METHOD_NOT_ALLOWED(ctx.method, ctx.path, found.allow)
        : new E_ROUTE_NOT_FOUND(ctx.method, ctx.path);
    this.#fail(ctx, error);
  }

  #runEarly(ctx: HttpContext): boolean {
    try {
      if (!this.#early!(ctx)) return false;
    } catch (error) {
      this.#fail(ctx, error);
      return true;
    }
    this.#finish(ctx);
    return true;
  }

  #finish(ctx: HttpContext): void {
    if (!ctx.sent) ctx.noContent();
    this.#disposeOnClose(ctx, ctx.res);
  }

  /** Release the request's resources (its container scope, uploads) once its response closes. */
  #disposeOnClose(ctx: HttpContext, res: ServerResponse): void {
    // `on`: a response closes once, and `once` would cost a wrapper per request (see
    // collectPlain in body-stream.ts for why the request path registers no `once`).
    if (ctx.hasResources) res.on('close', () => void ctx.dispose());
  }

  // Node calls 'close' listeners with the response as `this`; one function per kernel.
  // Terminators see an abandoned response as `ctx.res.writableFinished === false`.
  readonly #onClose = ((kernel: HttpKernel) =>
    function (this: TrackedResponse): void {
      const ctx = this[kContext];
      const observed = this[kObserved];
      // Once per response, whatever else emits on it.
      this[kContext] = undefined;
      this[kObserved] = undefined;
      if (ctx === undefined) return;
      if (observed !== undefined) kernel.#endObservation(ctx, this, observed);
      const route = ctx.route;
      if (route !== undefined && route.terminators.length > 0) kernel.#terminate(ctx, route);
    })(this);

  #terminate(ctx: HttpContext, route: CompiledRoute): void {
    for (const terminator of route.terminators) {
      try {
        const out = terminator.terminate(ctx);
        if (out instanceof Promise)
          out.catch((error: unknown) =>
            this.#services.logger.error({ err: error }, 'terminating middleware failed'),
          );
      } catch (error) {
        this.#services.logger.error({ err: error }, 'terminating middleware failed');
      }
    }
  }

  /** Render an error as problem+json (once) and report it. */
  #fail(ctx: HttpContext, error: unknown): void {
    const request = {
      method: ctx.method,
      path: ctx.path,
      requestId: ctx.requestId,
      ...(ctx.route ? { route: ctx.route.record.path } : {}),
    };
    const problem = toProblem(error, request, { debug: this.#debug });
    ctx.failure = error;
    this.#reporters?.report(error, { ...request, status: problem.status });
    const res = ctx.res;
    if (ctx.sent) {
      // Too late for a clean error response: the head is out. Cut the connection so the
      // client sees a truncated response instead of a silent success.
      res.destroy();
    } else {
      res.statusCode = problem.status;
      for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
      res.setHeader('content-type', 'application/problem+json; charset=utf-8');
      if (mustCloseConnection(ctx.req)) res.setHeader('connection', 'close');
      const body = JSON.stringify(problem.body);
      ctx.bodyBytes = Buffer.byteLength(body);
      releaseEmptyRequest(ctx.req);
      res.end(body);
    }
    this.#disposeOnClose(ctx, res);
  }

  /**
   * Run a request through the whole pipeline without a socket (the in-process test client).
   *
   * @example
   * ```ts
   * const res = await kernel.inject({ method: 'GET', url: '/products' });
   * expect(res.json()).toEqual([...]);
   * ```
   */
  async inject(options: InjectOptions | string): Promise<InjectResponse> {
    const { default: inject } = await import('light-my-request');
    return inject(this.handle, options);
  }

  /** Serve a web-standard Request through the whole pipeline and return a web Response. */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const { default: inject } = await import('light-my-request');
    const res = await inject(this.handle, {
      method: request.method as InjectOptions['method'],
      url: url.pathname + url.search,
      headers,
      ...(body ? { payload: body } : {}),
      authority: url.host,
    });
    const out = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) out.append(name, v);
      else out.set(name, String(value));
    }
    const noBody = request.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    return new Response(noBody ? null : res.rawPayload, { status: res.statusCode, headers: out });
  }
}
