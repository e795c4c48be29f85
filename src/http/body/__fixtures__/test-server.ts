import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { isKeelError, type KeelError } from '../../../support/index.js';
import type { ParsedBody } from '../body-parser.js';
import { mustCloseConnection } from '../body-stream.js';

/** What the server saw for one request: the parsed body or the error it got. */
export type Outcome = ({ ok: true; body: ParsedBody } | { ok: false; error: KeelError }) & {
  req: IncomingMessage;
  /** Whether any body byte had been read when parsing settled. */
  didRead: boolean;
  /** Whether the body layer asked for the connection to be closed. */
  close: boolean;
};

export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** The outcome of the next request the server finishes parsing (in arrival order). */
  next(): Promise<Outcome>;
  close(): Promise<void>;
}

function serialize(body: ParsedBody): unknown {
  switch (body.kind) {
    case 'raw':
      return { kind: 'raw', data: body.data.toString('base64') };
    case 'multipart':
      return {
        kind: 'multipart',
        fields: body.fields,
        files: body.files.map(({ field, filename, mimeType, size, path }) => ({
          field,
          filename,
          mimeType,
          size,
          path,
        })),
      };
    default:
      return body;
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * A real HTTP server on 127.0.0.1:0 that runs `parse` for every request and answers
 * 200 with the body as JSON, or the error's status with `{ code, message, details }`,
 * adding `Connection: close` when the body layer asks for it, as Keel's server will.
 */
export async function startServer(
  parse: (req: IncomingMessage, res: ServerResponse) => Promise<ParsedBody>,
): Promise<TestServer> {
  const outcomes: Outcome[] = [];
  const waiters: Array<(outcome: Outcome) => void> = [];
  const record = (outcome: Outcome): void => {
    const waiter = waiters.shift();
    if (waiter) waiter(outcome);
    else outcomes.push(outcome);
  };

  const server = http.createServer(async (req, res) => {
    try {
      const body = await parse(req, res);
      record({ ok: true, body, req, didRead: req.readableDidRead, close: false });
      send(res, 200, serialize(body));
    } catch (error) {
      if (!isKeelError(error)) throw error;
      const close = mustCloseConnection(req);
      record({ ok: false, error, req, didRead: req.readableDidRead, close });
      if (res.destroyed) return;
      if (close) res.setHeader('connection', 'close');
      send(res, error.status, { code: error.code, message: error.message, details: error.details });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    next: () => {
      const ready = outcomes.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A response read off a raw socket. */
export interface RawResponse {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  /** Everything received, for pipelined requests. */
  readonly text: string;
}

function parseRaw(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: head, body: end === -1 ? '' : text.slice(end + 4), text };
}

/**
 * Write `chunks` to a raw TCP connection and collect what comes back until the server
 * closes it or `untilText` has been received. For input no HTTP client will send: bodies
 * shorter than their Content-Length, pipelined requests, a client that vanishes.
 */
export function rawRequest(
  port: number,
  chunks: Array<string | Buffer>,
  options: { untilText?: string; destroyAfterWrite?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const done = (): void => {
      socket.destroy();
      resolve(parseRaw(received));
    };
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (options.untilText !== undefined && received.includes(options.untilText)) done();
    });
    socket.on('close', done);
    // The server may reset a connection it stopped reading; what arrived before counts.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') done();
      else reject(error);
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.destroyAfterWrite) setImmediate(() => socket.destroy());
    });
  });
}
