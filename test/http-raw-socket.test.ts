import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp, type HttpApp, type HttpContext } from '../src/http/index.js';

/**
 * Requests a client library would never send, written byte for byte on a real socket: the
 * server must refuse them before any route handler runs.
 */

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let app: HttpApp;
let port: number;
const calls: Record<string, number> = { echo: 0, timed: 0, file: 0 };

beforeAll(async () => {
  app = await createHttpApp();
  app.router.post('/echo', async (ctx: HttpContext) => {
    calls.echo!++;
    return { body: await ctx.body() };
  });
  app.router
    .post('/timed', (ctx: HttpContext) => {
      calls.timed!++;
      return ctx.validated.body;
    })
    .validate({ body: z.object({ a: z.number() }) })
    .body({ timeoutMs: 200 });
  app.router.get('/files/*', (ctx: HttpContext) => {
    calls.file!++;
    return ctx.file(ctx.params['*'] ?? '', { root: 'src' });
  });
  ({ port } = await app.listen({ port: 0 }));
});

afterAll(async () => {
  await app.close();
});

/** Send `data` and read one response: as soon as it is complete, or when the socket ends. */
function raw(data: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (): void => {
      if (done) return;
      const text = buffer.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) {
        done = true;
        socket.destroy();
        reject(new Error(`no complete response head: ${JSON.stringify(text)}`));
        return;
      }
      done = true;
      socket.destroy();
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine!.split(' ')[1]),
        headers,
        body: buffer.subarray(end + 4).toString('utf8'),
      });
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const text = buffer.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end !== -1 && length && buffer.length - (end + 4) >= Number(length[1])) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error) => {
      // A reset after the answer arrived is fine; before it, it is the failure.
      if (buffer.length > 0) finish();
      else if (!done) {
        done = true;
        reject(error);
      }
    });
    socket.write(data);
  });
}

describe('requests refused at the socket', () => {
  it('refuses Content-Length together with Transfer-Encoding (request smuggling)', async () => {
    const res = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'E_MALFORMED_REQUEST' });
    expect(calls.echo).toBe(0);
  });

  it('refuses invalid chunked encoding', async () => {
    const res = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
        'zz\r\nhello\r\n0\r\n\r\n',
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'E_MALFORMED_REQUEST' });
    expect(calls.echo).toBe(0);
  });

  it('answers oversized headers with 431', async () => {
    const res = await raw(
      `GET /files/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toMatchObject({ status: 431 });
    expect(calls.file).toBe(0);
  });

  it('answers a body shorter than its Content-Length with 408 after the body timeout', async () => {
    const res = await raw(
      'POST /timed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n' +
        'X-Request-Id: slow-1\r\n\r\n{"a":1',
    );
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({
      status: 408,
      code: 'E_BODY_TIMEOUT',
      requestId: 'slow-1',
    });
    expect(calls.timed).toBe(0);
  });

  it('still serves a well-formed request on the same server', async () => {
    const body = '{"a":1}';
    const res = await raw(
      `POST /timed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ a: 1 });
    expect(calls.timed).toBe(1);
  });

  it('refuses traversal in an un-normalised request target in ctx.file()', async () => {
    for (const target of ['/files/../package.json', '/files/%2e%2e/package.json']) {
      const res = await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'E_PATH_TRAVERSAL' });
    }
    expect(calls.file).toBe(2);
  });
});
