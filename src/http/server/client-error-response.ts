import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KeelError } from '../../support/index.js';
import {
  E_CHUNK_EXTENSIONS_TOO_LARGE,
  E_HEADERS_TOO_LARGE,
  E_MALFORMED_REQUEST,
  E_REQUEST_TIMEOUT,
} from './errors.js';

/** What Node passes to `clientError`: llhttp errors carry `code` (HPE_*) and `reason`. */
export interface ClientErrorLike extends Error {
  code?: string;
  reason?: string;
}

/** The socket as Node's HTTP server leaves it: the response in progress, if any. */
type HttpSocket = Duplex & { _httpMessage?: ServerResponse | null };

/**
 * How long a rejected connection may keep sending after our answer before it is cut.
 * Closing at once while request bytes are still unread makes the kernel send RST, and
 * the client may then lose the answer it has not read yet (a lingering close, RFC 9112 §9.6).
 */
const LINGER_MS = 1_000;

/** Errors meaning the peer is gone: there is nobody to answer. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** The limits used to word the answer. */
export interface ClientErrorLimits {
  maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
}

/** True when a response to the current request already started on this socket. */
export function responseStarted(socket: Duplex): boolean {
  return (socket as HttpSocket)._httpMessage?.headersSent === true;
}

/**
 * The catalogued error for a `clientError`, or `undefined` when the peer is gone and the
 * socket should only be destroyed.
 */
export function classifyClientError(
  error: ClientErrorLike,
  socket: Duplex,
  limits: ClientErrorLimits,
): KeelError | undefined {
  const code = error.code ?? '';
  if (GONE.has(code)) return undefined;
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new E_HEADERS_TOO_LARGE(limits.maxHeaderSize);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new E_CHUNK_EXTENSIONS_TOO_LARGE();
    case 'ERR_HTTP_REQUEST_TIMEOUT': {
      // A response object exists once the headers were parsed: the body was the slow part.
      const inBody = Boolean((socket as HttpSocket)._httpMessage);
      const { headersTimeout, requestTimeout } = limits;
      return inBody || headersTimeout === 0
        ? new E_REQUEST_TIMEOUT(inBody ? 'body' : 'headers', requestTimeout)
        : new E_REQUEST_TIMEOUT('headers', headersTimeout);
    }
    default:
      // llhttp's `reason` is a fixed description ("Invalid character in chunk size"); it
      // never quotes the request, so it is safe to send back.
      return new E_MALFORMED_REQUEST(error.reason ?? (code || 'unparseable request'), code);
  }
}

/** An RFC 9457 problem document for an error answered outside any request context. */
export function problemDocument(error: KeelError): Record<string, unknown> {
  return {
    type: 'about:blank',
    title: STATUS_CODES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    code: error.code,
  };
}

/**
 * Write a complete `Connection: close` problem+json response straight to the socket, then
 * end it. The socket keeps draining input for a short linger so the client can read the
 * answer, and is destroyed when that ends.
 */
export function writeRawProblem(socket: Duplex, error: KeelError): void {
  const body = JSON.stringify(problemDocument(error));
  const head =
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\n' +
    'Connection: close\r\n\r\n';
  socket.write(head + body);
  socket.end();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
