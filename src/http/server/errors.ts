import { defineError } from '../../support/index.js';

/**
 * The HTTP transport catalogue: server options, listening, the answers given on the raw
 * socket when Node's parser rejects a request, trusted proxies and the cluster supervisor.
 * Client mistakes carry 4xx statuses; configuration mistakes are 500s raised at boot.
 */

export const E_INVALID_SERVER_OPTIONS = defineError(
  'E_INVALID_SERVER_OPTIONS',
  (option: string, value: unknown, expected: string) =>
    `Invalid HTTP server option "${option}": ${JSON.stringify(value) ?? String(value)} (${expected})`,
  {
    status: 500,
    help: 'Fix the value in the HTTP server configuration; timeouts are positive milliseconds or durations such as "30s".',
    details: (option, _value, expected) => ({ option, expected }),
  },
);

export const E_SERVER_LISTEN_FAILED = defineError(
  'E_SERVER_LISTEN_FAILED',
  (host: string, port: number, reason: string) => `Cannot listen on ${host}:${port}: ${reason}`,
  {
    status: 500,
    help: 'Stop the process using the port or choose another `port`; ports below 1024 need privileges.',
    details: (host, port, reason) => ({ host, port, reason }),
  },
);

export const E_SERVER_STATE = defineError(
  'E_SERVER_STATE',
  (action: string, state: string) => `Cannot ${action}: the HTTP server is ${state}`,
  {
    status: 500,
    help: 'Create a new HttpServer for each listen/close cycle; call listen() once.',
    details: (action, state) => ({ action, state }),
  },
);

export const E_MALFORMED_REQUEST = defineError(
  'E_MALFORMED_REQUEST',
  (reason: string, _parserCode: string) => `Malformed HTTP request: ${reason}`,
  {
    status: 400,
    help: 'Send a well-formed HTTP/1.1 request (one framing header, valid chunked encoding, no obs-fold).',
    details: (_reason, parserCode) => ({ parserCode }),
  },
);

export const E_HEADERS_TOO_LARGE = defineError(
  'E_HEADERS_TOO_LARGE',
  (maxHeaderSize: number) => `Request headers are larger than ${maxHeaderSize} bytes`,
  {
    status: 431,
    help: 'Send fewer or smaller headers (large cookies are the usual cause), or raise `maxHeaderSize`.',
    details: (maxHeaderSize) => ({ maxHeaderSize }),
  },
);

export const E_CHUNK_EXTENSIONS_TOO_LARGE = defineError(
  'E_CHUNK_EXTENSIONS_TOO_LARGE',
  () => 'Chunk extensions in the request body are too large',
  {
    status: 413,
    help: 'Do not send chunk extensions (`1a;name=value`); no Keel route reads them.',
  },
);

export const E_REQUEST_TIMEOUT = defineError(
  'E_REQUEST_TIMEOUT',
  (phase: 'headers' | 'body', timeoutMs: number) =>
    `The request ${phase} did not arrive within ${timeoutMs} ms`,
  {
    status: 408,
    help: 'Send the request faster, or raise `headersTimeout` / `requestTimeout` for slow clients.',
    details: (phase, timeoutMs) => ({ phase, timeoutMs }),
  },
);

export const E_REQUEST_HANDLER_FAILED = defineError(
  'E_REQUEST_HANDLER_FAILED',
  () => 'The request handler failed before answering',
  {
    status: 500,
    help: 'See the server log for the error; the request listener should catch its own errors.',
  },
);

export const E_INVALID_TRUSTED_PROXY = defineError(
  'E_INVALID_TRUSTED_PROXY',
  (entry: string, reason: string) => `Invalid trusted proxy "${entry}": ${reason}`,
  {
    status: 500,
    help: 'Use true/false, a hop count, IP addresses, CIDR ranges (10.0.0.0/8, fd00::/8) or loopback, linklocal, uniquelocal.',
    details: (entry, reason) => ({ entry, reason }),
  },
);

export const E_INVALID_CLUSTER_OPTIONS = defineError(
  'E_INVALID_CLUSTER_OPTIONS',
  (option: string, value: unknown, expected: string) =>
    `Invalid cluster option "${option}": ${JSON.stringify(value) ?? String(value)} (${expected})`,
  {
    status: 500,
    help: 'Fix the value passed to runCluster(); `workers` is a positive integer or "auto".',
    details: (option, _value, expected) => ({ option, expected }),
  },
);

export const E_CLUSTER_CRASH_LOOP = defineError(
  'E_CLUSTER_CRASH_LOOP',
  (restarts: number, cause: string) =>
    `Workers crashed ${restarts} times within a minute; stopped restarting. Last cause: ${cause}`,
  {
    status: 500,
    help: 'Read the worker error above (often a bad config, a missing service or a port in use) and fix it before starting again.',
    details: (restarts, cause) => ({ restarts, cause }),
  },
);
