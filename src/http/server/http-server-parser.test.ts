import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type RawExchange, sendRaw } from './__fixtures__/raw-client.js';
import { HttpServer } from './http-server.js';
import type { HttpServerOptions } from './server-options.js';

/** Requests the listener was called with, as `METHOD url`. */
let calls: string[] = [];
const servers: HttpServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close({ timeout: 0 })));
  calls = [];
});

function recordingListener(req: IncomingMessage, res: ServerResponse): void {
  calls.push(`${req.method} ${req.url}`);
  // Answer only once the whole body is in, as a real handler would.
  req.resume();
  req.on('end', () => res.end('ok'));
}

async function start(options: Partial<HttpServerOptions> = {}): Promise<number> {
  const server = new HttpServer(recordingListener, { port: 0, ...options });
  servers.push(server);
  return (await server.listen()).port;
}

function expectProblem(exchange: RawExchange, status: number, code: string): void {
  expect(exchange.status, exchange.text).toBe(status);
  expect(exchange.headers['content-type']).toBe('application/problem+json');
  expect(exchange.headers.connection).toBe('close');
  const problem = JSON.parse(exchange.body) as Record<string, unknown>;
  expect(problem).toMatchObject({ status, code, type: 'about:blank' });
  expect(typeof problem.detail).toBe('string');
  expect(exchange.closedByServer).toBe(true);
}

const H = 'Host: keel.test\r\n';

const malformed: Array<[string, string]> = [
  [
    'Content-Length with Transfer-Encoding (CL.TE)',
    `POST /smuggle HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`,
  ],
  [
    'Transfer-Encoding with Content-Length (TE.CL)',
    `POST /smuggle HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
  ],
  [
    'two Content-Length headers with different values',
    `POST /smuggle HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 11\r\n\r\nabcdGET / HTTP/1.1\r\n\r\n`,
  ],
  ['a Content-Length list', `POST /smuggle HTTP/1.1\r\n${H}Content-Length: 4, 5\r\n\r\nabcde`],
  [
    'an invalid chunk size',
    `POST /chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
  ],
  [
    'a chunk size with a sign',
    `POST /chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n`,
  ],
  [
    'a chunk extension with an unterminated quoted value',
    `POST /chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a="b\r\nabc\r\n0\r\n\r\n`,
  ],
  [
    'a chunk extension with a NUL',
    `POST /chunked HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;a=\0\r\nabc\r\n0\r\n\r\n`,
  ],
  [
    'Transfer-Encoding: chunked, identity',
    `POST /te HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
  ],
  [
    'Transfer-Encoding without chunked last',
    `POST /te HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\nabc`,
  ],
  ['an obs-fold header line', `GET /fold HTTP/1.1\r\n${H}X-Folded: first\r\n second\r\n\r\n`],
  [
    'whitespace before the header colon',
    `GET /ws HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
  ],
  ['a space in the request target', `GET /a b HTTP/1.1\r\n${H}\r\n`],
  ['a NUL in the request target', `GET /a\0b HTTP/1.1\r\n${H}\r\n`],
  ['a NUL in a header value', `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`],
  ['an invalid method', `G@T / HTTP/1.1\r\n${H}\r\n`],
  ['bare LF line endings', `GET / HTTP/1.1\n${H.replace('\r\n', '\n')}\n`],
  ['an unknown HTTP version', `GET / HTTP/7.1\r\n${H}\r\n`],
  ['binary garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
];

describe('HttpServer: requests Node’s parser rejects never reach the listener', () => {
  it.each(malformed)('%s → 400 E_MALFORMED_REQUEST, connection closed', async (_name, raw) => {
    const port = await start();
    const exchange = await sendRaw(port, raw);
    expectProblem(exchange, 400, 'E_MALFORMED_REQUEST');
    expect(calls).toEqual([]);
  });

  it('names the parser error in the problem details, never the request bytes', async () => {
    const port = await start();
    const exchange = await sendRaw(
      port,
      `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    const problem = JSON.parse(exchange.body) as { detail: string };
    expect(problem.detail).toMatch(/^Malformed HTTP request: .*Content-Length/);
    expect(exchange.body).not.toContain('keel.test');
  });

  it('answers oversized headers with 431 E_HEADERS_TOO_LARGE', async () => {
    const port = await start({ maxHeaderSize: 2_048 });
    const exchange = await sendRaw(
      port,
      `GET / HTTP/1.1\r\n${H}X-Big: ${'x'.repeat(4_000)}\r\n\r\n`,
    );
    expectProblem(exchange, 431, 'E_HEADERS_TOO_LARGE');
    expect(exchange.body).toContain('2048');
    expect(calls).toEqual([]);
  });

  it('answers many small headers adding up past maxHeaderSize with 431', async () => {
    const port = await start({ maxHeaderSize: 2_048 });
    const many = Array.from({ length: 200 }, (_, i) => `X-H${i}: value\r\n`).join('');
    const exchange = await sendRaw(port, `GET / HTTP/1.1\r\n${H}${many}\r\n`);
    expectProblem(exchange, 431, 'E_HEADERS_TOO_LARGE');
    expect(calls).toEqual([]);
  });

  it('serves headers just under maxHeaderSize', async () => {
    const port = await start({ maxHeaderSize: 2_048 });
    const exchange = await sendRaw(
      port,
      `GET /fits HTTP/1.1\r\n${H}Connection: close\r\nX-Big: ${'x'.repeat(1_500)}\r\n\r\n`,
    );
    expect(exchange.status).toBe(200);
    expect(calls).toEqual(['GET /fits']);
  });

  it('answers oversized chunk extensions with 413 E_CHUNK_EXTENSIONS_TOO_LARGE', async () => {
    const port = await start();
    const exchange = await sendRaw(
      port,
      `POST /ext HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;${'a'.repeat(20_000)}\r\nabc\r\n0\r\n\r\n`,
    );
    expectProblem(exchange, 413, 'E_CHUNK_EXTENSIONS_TOO_LARGE');
    expect(calls).toEqual([]);
  });

  it('rejects an HTTP/1.1 request without Host before the listener', async () => {
    const port = await start();
    const exchange = await sendRaw(port, 'GET / HTTP/1.1\r\n\r\n');
    expect(exchange.status).toBe(400);
    expect(exchange.headers.connection).toBe('close');
    expect(calls).toEqual([]);
  });

  it('does not serve a request smuggled behind a valid one', async () => {
    const port = await start();
    const exchange = await sendRaw(
      port,
      `POST /first HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `0\r\n\r\nGET /admin HTTP/1.1\r\n${H}\r\n`,
    );
    expect(exchange.status).toBe(400);
    expect(exchange.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(calls).toEqual([]);
  });

  it('still serves well-formed chunked and pipelined requests', async () => {
    const port = await start();
    const exchange = await sendRaw(
      port,
      `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n0\r\n\r\n` +
        `GET /b HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    expect(exchange.status).toBe(200);
    expect(exchange.text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(calls).toEqual(['POST /a', 'GET /b']);
  });
});

describe('HttpServer: slow clients', () => {
  it('closes a connection whose headers trickle in slower than headersTimeout (slowloris)', async () => {
    const port = await start({ headersTimeout: 150, requestTimeout: 300 });
    const exchange = await sendRaw(port, `GET /slow HTTP/1.1\r\n${H}`, {
      trickle: 'X-Slow: 1\r\n',
      interval: 20,
    });
    expectProblem(exchange, 408, 'E_REQUEST_TIMEOUT');
    expect(JSON.parse(exchange.body)).toMatchObject({
      detail: 'The request headers did not arrive within 150 ms',
    });
    expect(calls).toEqual([]);
  });

  it('closes a connection that opens and sends nothing', async () => {
    const port = await start({ headersTimeout: 100, requestTimeout: 200 });
    const exchange = await sendRaw(port, '');
    expectProblem(exchange, 408, 'E_REQUEST_TIMEOUT');
    expect(calls).toEqual([]);
  });

  it('closes a connection stuck in the request line', async () => {
    const port = await start({ headersTimeout: 100, requestTimeout: 200 });
    const exchange = await sendRaw(port, 'GET /never-ending-path', { trickle: 'a', interval: 20 });
    expectProblem(exchange, 408, 'E_REQUEST_TIMEOUT');
    expect(calls).toEqual([]);
  });

  it('answers 408 when the body does not arrive within requestTimeout', async () => {
    const port = await start({ headersTimeout: 100, requestTimeout: 200 });
    const exchange = await sendRaw(
      port,
      `POST /upload HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nonly a few bytes`,
      { trickle: 'x', interval: 20 },
    );
    expectProblem(exchange, 408, 'E_REQUEST_TIMEOUT');
    expect(JSON.parse(exchange.body)).toMatchObject({
      detail: 'The request body did not arrive within 200 ms',
    });
    // The headers were complete, so the listener started; it never answered.
    expect(calls).toEqual(['POST /upload']);
  });

  it('cuts the connection when the deadline hits a response that already started', async () => {
    const server = new HttpServer(
      (req, res) => {
        calls.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('streaming before the body arrived');
      },
      { port: 0, headersTimeout: 100, requestTimeout: 200 },
    );
    servers.push(server);
    const { port } = await server.listen();
    const exchange = await sendRaw(
      port,
      `POST /early HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nfew`,
    );
    // No 408 can follow a response that started: the connection is cut instead.
    expect(exchange.status).toBe(200);
    expect(exchange.text).toContain('streaming before the body arrived');
    expect(exchange.text).not.toContain('408');
    expect(exchange.closedByServer).toBe(true);
  });
});
