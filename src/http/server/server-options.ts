import { parseDuration } from '../../support/index.js';
import { E_INVALID_SERVER_OPTIONS } from './errors.js';

/**
 * The logging surface the server needs; a pino logger fits it. Objects first, as pino
 * takes them, so request fields stay structured.
 */
export interface ServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options for {@link HttpServer}. Durations are milliseconds or strings such as `'30s'`. */
export interface HttpServerOptions {
  /** Port to listen on; `0` picks a free one (read it from `listen()`'s result). */
  port: number;
  /** Interface to bind. Default `127.0.0.1`; use `0.0.0.0` or `::` to accept remote clients. */
  host?: string;
  /** Longest time to receive a whole request (headers and body). Default 30 s. */
  requestTimeout?: number | string;
  /** Longest time to receive a request's headers, from its first byte. Default 20 s. */
  headersTimeout?: number | string;
  /** How long an idle keep-alive connection stays open. Default 5 s. */
  keepAliveTimeout?: number | string;
  /** Largest total size of a request's start line and headers, in bytes. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Requests served on one connection before it is closed. Default: no limit. */
  maxRequestsPerSocket?: number;
  /** Length of the queue of pending connections. Default: Node's (511). */
  backlog?: number;
  /**
   * Allow a timeout of `0` (disabled). Off by default: a server without timeouts can be
   * held open by clients that never finish a request.
   */
  allowNoTimeout?: boolean;
  logger?: ServerLogger;
}

/** Options with every default applied and every value checked. */
export interface ResolvedServerOptions {
  port: number;
  host: string;
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  maxRequestsPerSocket: number | undefined;
  backlog: number | undefined;
  /** How often Node checks the request and header deadlines. */
  connectionsCheckingInterval: number;
  logger: ServerLogger;
}

const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} };

function duration(option: string, value: number | string, allowZero: boolean): number {
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new E_INVALID_SERVER_OPTIONS(option, value, 'a duration such as 5000 or "5s"');
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    throw new E_INVALID_SERVER_OPTIONS(option, value, 'a duration such as 5000 or "5s"').withCause(
      error,
    );
  }
  if (!Number.isInteger(ms)) {
    throw new E_INVALID_SERVER_OPTIONS(option, value, 'a whole number of milliseconds');
  }
  if (ms === 0 && !allowZero) {
    throw new E_INVALID_SERVER_OPTIONS(
      option,
      value,
      '0 disables the timeout; set `allowNoTimeout: true` to allow it',
    );
  }
  return ms;
}

function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new E_INVALID_SERVER_OPTIONS(option, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Apply defaults and reject values that would leave the server open to slow clients or
 * that Node would refuse later with a less helpful message.
 */
export function resolveServerOptions(options: HttpServerOptions): ResolvedServerOptions {
  const allowZero = options.allowNoTimeout === true;
  const requestTimeout = duration('requestTimeout', options.requestTimeout ?? 30_000, allowZero);
  const headersTimeout = duration('headersTimeout', options.headersTimeout ?? 20_000, allowZero);
  const keepAliveTimeout = duration(
    'keepAliveTimeout',
    options.keepAliveTimeout ?? 5_000,
    allowZero,
  );
  // Node throws ERR_OUT_OF_RANGE for this pair; a headers deadline past the whole-request
  // deadline could never fire anyway.
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    throw new E_INVALID_SERVER_OPTIONS(
      'headersTimeout',
      options.headersTimeout ?? headersTimeout,
      `must not exceed requestTimeout (${requestTimeout} ms)`,
    );
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) {
    throw new E_INVALID_SERVER_OPTIONS('host', host, 'a host name or IP address');
  }
  const deadlines = [requestTimeout, headersTimeout].filter((ms) => ms > 0);
  return {
    port: integer('port', options.port, 0, 65_535),
    host,
    requestTimeout,
    headersTimeout,
    keepAliveTimeout,
    maxHeaderSize: integer('maxHeaderSize', options.maxHeaderSize ?? 16_384, 1_024, 1_048_576),
    maxRequestsPerSocket:
      options.maxRequestsPerSocket === undefined
        ? undefined
        : integer('maxRequestsPerSocket', options.maxRequestsPerSocket, 1, Number.MAX_SAFE_INTEGER),
    backlog:
      options.backlog === undefined ? undefined : integer('backlog', options.backlog, 1, 65_535),
    // Node checks both deadlines on a timer (30 s by default), so a 20 s headersTimeout
    // really meant up to 50 s. Check at a quarter of the shortest deadline, at most each second.
    connectionsCheckingInterval:
      deadlines.length === 0
        ? 30_000
        : Math.max(5, Math.min(1_000, Math.floor(Math.min(...deadlines) / 4))),
    logger: options.logger ?? silentLogger,
  };
}
