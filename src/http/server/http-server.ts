import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseDuration } from '../../support/index.js';
import {
  type ClientErrorLike,
  classifyClientError,
  problemDocument,
  responseStarted,
  writeRawProblem,
} from './client-error-response.js';
import {
  E_INVALID_SERVER_OPTIONS,
  E_REQUEST_HANDLER_FAILED,
  E_SERVER_LISTEN_FAILED,
  E_SERVER_STATE,
} from './errors.js';
import {
  type HttpServerOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from './server-options.js';
import {
  declareSocketSlots,
  KeelIncomingMessage,
  KeelServerResponse,
  kLatestResponse,
} from './slots.js';

/** What the server calls for each request; the request kernel's dispatch. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Where a listening server can be reached. */
export interface ListenAddress {
  port: number;
  /** The bound address (`127.0.0.1`, `::`, ...). */
  host: string;
  /** A URL for the server; unspecified addresses (`0.0.0.0`, `::`) are shown as `localhost`. */
  url: string;
}

/** Options for {@link HttpServer.close}. */
export interface CloseOptions {
  /** How long in-flight requests may take before their connections are destroyed. Default 10 s. */
  timeout?: number | string;
}

type State = 'idle' | 'starting' | 'listening' | 'closing' | 'closed';

/**
 * Keel's HTTP/1.1 transport: a `node:http` server with timeouts that are always on, strict
 * parsing, problem+json answers for requests Node's parser rejects, and a graceful close.
 * It hands every well-formed request to one listener and knows nothing of routing.
 *
 * @example
 * ```ts
 * const server = new HttpServer((req, res) => res.end('hi'), { port: 3000 });
 * const { url } = await server.listen();
 * process.once('SIGTERM', () => server.close({ timeout: '10s' }));
 * ```
 */
export class HttpServer {
  readonly #listener: RequestListener;
  readonly #options: ResolvedServerOptions;
  readonly #server: http.Server;
  readonly #sockets = new Set<TrackedSocket>();
  /** Sockets answered on `clientError`: their requests never reach the listener. */
  readonly #rejected = new WeakSet<Duplex>();
  /** In-flight responses per connection. */
  /** Requests seen per connection, for `maxRequestsPerSocket`. */
  readonly #served = new WeakMap<Duplex, number>();
  #state: State = 'idle';
  #address: ListenAddress | undefined;
  #closing: Promise<void> | undefined;

  constructor(listener: RequestListener, options: HttpServerOptions) {
    this.#listener = listener;
    this.#options = resolveServerOptions(options);
    const o = this.#options;
    this.#server = http.createServer(
      {
        requestTimeout: o.requestTimeout,
        headersTimeout: o.headersTimeout,
        keepAliveTimeout: o.keepAliveTimeout,
        maxHeaderSize: o.maxHeaderSize,
        connectionsCheckingInterval: o.connectionsCheckingInterval,
        // Explicit so that `--insecure-http-parser` on the command line cannot relax it.
        insecureHTTPParser: false,
        // Node's classes with Keel's slots declared: one V8 map per kind (see slots.ts).
        IncomingMessage: KeelIncomingMessage,
        ServerResponse: KeelServerResponse,
      },
      this.#onRequest,
    );
    if (o.maxRequestsPerSocket !== undefined) {
      this.#server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    }
    this.#server.on('connection', this.#onConnection);
    this.#server.on('clientError', this.#onClientError);
  }

  /** The address once listening, `undefined` before `listen()` and after `close()`. */
  get address(): ListenAddress | undefined {
    return this.#address;
  }

  /** The underlying `node:http` server, for upgrades (WebSocket) and diagnostics. */
  get nodeServer(): http.Server {
    return this.#server;
  }

  /**
   * Connections whose newest response has not finished yet: the requests in flight (a
   * pipelined request waiting behind another on its connection is not counted).
   */
  inFlight(): number {
    let count = 0;
    for (const socket of this.#sockets) if (inFlightOn(socket) !== undefined) count++;
    return count;
  }

  /** Open connections, idle keep-alive and upgraded ones included. */
  connections(): number {
    return this.#sockets.size;
  }

  /**
   * Start accepting connections. Resolves with the bound address (the real port when
   * `port` is 0); rejects with `E_SERVER_LISTEN_FAILED` when the port is taken.
   */
  listen(): Promise<ListenAddress> {
    if (this.#state !== 'idle') return Promise.reject(new E_SERVER_STATE('listen', this.#state));
    this.#state = 'starting';
    const { port, host, backlog } = this.#options;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        this.#state = 'idle';
        reject(
          new E_SERVER_LISTEN_FAILED(host, port, error.code ?? error.message).withCause(error),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen({ port, host, ...(backlog === undefined ? {} : { backlog }) }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (error) =>
          this.#options.logger.error({ err: error }, 'HTTP server error'),
        );
        this.#state = 'listening';
        this.#address = toListenAddress(this.#server.address() as AddressInfo);
        this.#options.logger.info({ url: this.#address.url }, 'HTTP server listening');
        resolve(this.#address);
      });
    });
  }

  /**
   * Graceful shutdown: stop accepting connections, close idle keep-alive connections at
   * once, let in-flight requests finish (their responses carry `Connection: close`), and
   * destroy whatever is still open when `timeout` expires. Safe to call more than once.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === 'idle' || this.#state === 'closed') {
      this.#state = 'closed';
      return;
    }
    if (this.#state === 'starting') {
      throw new E_SERVER_STATE('close', 'still starting; await listen() first');
    }
    const timeout = closeTimeout(options.timeout);
    this.#state = 'closing';
    this.#closing = this.#shutdown(timeout);
    return this.#closing;
  }

  async #shutdown(timeout: number): Promise<void> {
    const { logger } = this.#options;
    const started = Date.now();
    logger.info(
      { inFlight: this.inFlight(), connections: this.#sockets.size, timeout },
      'HTTP server closing',
    );
    // Node's close() stops accepting and destroys connections that are idle right now.
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // A connection's newest response is the last one it sends: making it announce
    // `Connection: close` ends the connection once every response before it is out too.
    for (const socket of this.#sockets) {
      const res = inFlightOn(socket);
      if (res !== undefined) this.#closeAfter(res);
    }
    let forced = 0;
    const deadline = setTimeout(() => {
      forced = this.#sockets.size;
      logger.warn(
        { inFlight: this.inFlight(), connections: forced, timeout },
        'HTTP server close deadline reached; destroying open connections',
      );
      this.#server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy();
    }, timeout);
    await closed;
    clearTimeout(deadline);
    // Node counts a connection gone when it is destroyed, before its 'close' event: wait
    // for those so that connections() and inFlight() read 0 once close() resolves.
    await Promise.all(
      [...this.#sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve))),
    );
    this.#state = 'closed';
    this.#address = undefined;
    logger.info({ ms: Date.now() - started, forced }, 'HTTP server closed');
  }

  readonly #onConnection = (socket: Socket): void => {
    declareSocketSlots(socket);
    this.#sockets.add(socket);
    // `on`: a socket closes once. A long-lived `once` per connection is what teaches V8 to
    // pretenure Node's `once` wrappers (see collectPlain in body-stream.ts).
    socket.on('close', () => this.#sockets.delete(socket));
  };

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as TrackedSocket;
    // In-flight tracking without a set per request: the connection keeps its newest
    // response, which close() and inFlight() look at, until that response finishes.
    socket[kLatestResponse] = res;
    res.on('finish', releaseLatest);
    // Node announces `Connection: close` on the last allowed request but keeps the socket
    // open for a client that ignores it; making the response the last closes it for real.
    const max = this.#options.maxRequestsPerSocket;
    if (max !== undefined) {
      const served = (this.#served.get(socket) ?? 0) + 1;
      this.#served.set(socket, served);
      if (served >= max) this.#closeAfter(res);
    }
    if (this.#state === 'closing') this.#closeAfter(res);
    // llhttp reports a request as soon as its headers parse, then may reject a chunked body
    // in the same read (bad chunk size, oversized chunk extensions). Deferring to a
    // microtask lets that `clientError` land first, so the listener never sees a rejected
    // request. Only chunked bodies can be rejected after the headers, so only they wait.
    if (req.headers['transfer-encoding'] === undefined) {
      this.#invoke(req, res);
      return;
    }
    queueMicrotask(() => {
      if (this.#rejected.has(socket)) return;
      this.#invoke(req, res);
    });
  };

  #invoke(req: IncomingMessage, res: ServerResponse): void {
    try {
      const result = this.#listener(req, res);
      if (result instanceof Promise) result.catch((error) => this.#handlerFailed(error, req, res));
    } catch (error) {
      this.#handlerFailed(error, req, res);
    }
  }

  /** Last resort: the listener threw instead of answering. */
  #handlerFailed(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    this.#options.logger.error(
      { err: error, method: req.method, url: req.url },
      'HTTP request listener failed',
    );
    if (res.headersSent || res.writableEnded) {
      res.destroy();
      return;
    }
    const problem = new E_REQUEST_HANDLER_FAILED();
    const body = JSON.stringify(problemDocument(problem));
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(problem.status, {
      'content-type': 'application/problem+json',
      'content-length': `${Buffer.byteLength(body)}`,
      'cache-control': 'no-store',
    });
    res.end(body);
  }

  /** Make this response the last on its connection. */
  #closeAfter(res: ServerResponse): void {
    if (!res.headersSent) {
      res.shouldKeepAlive = false;
      res.setHeader('Connection', 'close');
      return;
    }
    // Already streaming with keep-alive: once it finishes, the connection is idle; close it.
    res.once('finish', () => setImmediate(() => this.#server.closeIdleConnections()));
  }

  readonly #onClientError = (error: ClientErrorLike, socket: Duplex): void => {
    if (this.#rejected.has(socket)) return;
    this.#rejected.add(socket);
    const problem = classifyClientError(error, socket, this.#options);
    if (!problem || !socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    this.#options.logger.info(
      { code: problem.code, status: problem.status, parserCode: error.code },
      'HTTP request rejected by the parser',
    );
    writeRawProblem(socket, problem);
  };
}

function closeTimeout(value: number | string | undefined): number {
  if (value === undefined) return 10_000;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new E_INVALID_SERVER_OPTIONS(
      'close.timeout',
      value,
      'a duration such as 10000 or "10s"',
    ).withCause(error);
  }
}

function toListenAddress(info: AddressInfo): ListenAddress {
  const unspecified = info.address === '0.0.0.0' || info.address === '::';
  const shown = unspecified
    ? 'localhost'
    : info.family === 'IPv6'
      ? `[${info.address}]`
      : info.address;
  return { port: info.port, host: info.address, url: `http://${shown}:${info.port}` };
}

type TrackedSocket = Duplex & { [kLatestResponse]?: ServerResponse };

/**
 * A finished response leaves its connection's slot, so an idle keep-alive connection does
 * not hold the request it carried (its body, its listeners and what they close over, up to
 * the whole request context) until the next request or the socket's close. Kept while the
 * request's body is still arriving: the body layer looks the response up to close the
 * connection when it gives up on that body.
 */
function releaseLatest(this: ServerResponse): void {
  const req = this.req;
  if (!req.complete) return;
  const socket = req.socket as TrackedSocket;
  if (socket[kLatestResponse] === this) socket[kLatestResponse] = undefined;
}

/** The connection's newest response when it has not finished, else undefined. */
function inFlightOn(socket: TrackedSocket): ServerResponse | undefined {
  const res = socket[kLatestResponse];
  return res === undefined || res.writableFinished || socket.destroyed ? undefined : res;
}
