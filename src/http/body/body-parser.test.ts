import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest, startServer, type TestServer } from './__fixtures__/test-server.js';
import type { BodyOptions } from './body-options.js';
import { parseBody } from './body-parser.js';

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options?: BodyOptions): Promise<TestServer> {
  server = await startServer((req) => parseBody(req, options));
  return server;
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
}

async function post(
  body: RequestInit['body'],
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Answer> {
  const response = await fetch(server!.url, { method, body, headers });
  const json = (await response.json()) as Record<string, unknown>;
  return { status: response.status, json, headers: response.headers };
}

function chunkedStream(chunks: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ >= chunks) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(97));
    },
  });
}

describe('parseBody: one parser per Content-Type', () => {
  it('parses application/json', async () => {
    await serve();
    const answer = await post(JSON.stringify({ name: 'Ada', tags: ['x'], n: 1.5 }), {
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ kind: 'json', data: { name: 'Ada', tags: ['x'], n: 1.5 } });
  });

  it('parses */*+json and an explicit UTF-8 charset', async () => {
    await serve();
    const answer = await post('{"title":"Déjà vu"}', {
      'content-type': 'application/problem+json; charset=UTF-8',
    });
    expect(answer.json).toEqual({ kind: 'json', data: { title: 'Déjà vu' } });
  });

  it('parses urlencoded forms with the query-string rules', async () => {
    await serve();
    const answer = await post('name=Ada+L&tags[]=a&tags[]=b&address[city]=Paris&__proto__[x]=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(answer.json).toEqual({
      kind: 'form',
      data: { name: 'Ada L', tags: ['a', 'b'], address: { city: 'Paris' } },
    });
  });

  it('parses URLSearchParams bodies sent by fetch', async () => {
    await serve();
    const answer = await post(new URLSearchParams({ q: 'a&b=c', n: '1' }));
    expect(answer.json).toEqual({ kind: 'form', data: { q: 'a&b=c', n: '1' } });
  });

  it('decodes text/* as UTF-8 by default and honours Latin-1', async () => {
    await serve();
    const utf8 = await post('naïve ✓', { 'content-type': 'text/plain' });
    expect(utf8.json).toEqual({ kind: 'text', data: 'naïve ✓' });
    const latin1 = await post(Buffer.from('café', 'latin1'), {
      'content-type': 'text/csv; charset=ISO-8859-1',
    });
    expect(latin1.json).toEqual({ kind: 'text', data: 'café' });
  });

  it('returns application/octet-stream bytes untouched', async () => {
    await serve();
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const answer = await post(bytes, { 'content-type': 'application/octet-stream' });
    expect(answer.json).toEqual({ kind: 'raw', data: bytes.toString('base64') });
  });

  it('takes a body without Content-Type as octet-stream', async () => {
    await serve();
    const answer = await post(new Uint8Array([7, 8, 9]));
    expect(answer.json).toEqual({ kind: 'raw', data: Buffer.from([7, 8, 9]).toString('base64') });
  });

  it('returns kind "none" for requests without a body', async () => {
    const { port } = await serve();
    expect((await post(undefined, {}, 'GET')).json).toEqual({ kind: 'none' });
    expect((await post(undefined, { 'content-type': 'application/json' })).json).toEqual({
      kind: 'none',
    });
    const chunkedEmpty = await rawRequest(port, [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
    ]);
    expect(chunkedEmpty.status).toBe(200);
    expect(JSON.parse(chunkedEmpty.body)).toEqual({ kind: 'none' });
  });
});

describe('parseBody: refused Content-Types', () => {
  it('answers an unknown type with E_UNSUPPORTED_MEDIA_TYPE naming it', async () => {
    await serve();
    const answer = await post('<a/>', { 'content-type': 'application/xml' });
    expect(answer.status).toBe(415);
    expect(answer.json.code).toBe('E_UNSUPPORTED_MEDIA_TYPE');
    expect(answer.json.message).toContain('"application/xml"');
    expect(answer.json.details).toMatchObject({ type: 'application/xml' });
  });

  it('answers an unparseable header with 415, quoting it', async () => {
    await serve();
    const answer = await post('{}', { 'content-type': 'json please' });
    expect(answer.status).toBe(415);
    expect(answer.json.message).toContain('"json please"');
  });

  it('refuses kinds the route does not allow, listing the accepted types', async () => {
    await serve({ allowed: ['json'] });
    const form = await post('a=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.json.details).toEqual({
      type: 'application/x-www-form-urlencoded',
      accepted: ['application/json'],
    });
    const untyped = await post(new Uint8Array([1]));
    expect(untyped.status).toBe(415);
    expect(untyped.json.message).toContain('(none)');
  });

  it('refuses charsets it cannot decode with E_UNSUPPORTED_CHARSET', async () => {
    await serve();
    for (const type of [
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded; charset=latin1',
      'text/plain; charset=shift_jis',
    ]) {
      const answer = await post('x', { 'content-type': type });
      expect(answer.status, type).toBe(415);
      expect(answer.json.code).toBe('E_UNSUPPORTED_CHARSET');
    }
  });

  it('refuses multipart/form-data without a boundary', async () => {
    await serve();
    const answer = await post('--x--', { 'content-type': 'multipart/form-data' });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('E_MALFORMED_MULTIPART');
    expect(answer.json.message).toContain('boundary');
  });
});

describe('parseBody: malformed and hostile bodies', () => {
  it('answers malformed JSON with 400 and where it broke', async () => {
    await serve();
    const answer = await post('{"a":1,}', { 'content-type': 'application/json' });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('E_MALFORMED_JSON');
    expect(answer.json.details).toMatchObject({ position: 7, line: 1, column: 8 });
  });

  it.each([
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}',
    '{"user":{"__proto__":{"isAdmin":true}}}',
  ])('refuses the poisoning payload %s', async (payload) => {
    await serve();
    const answer = await post(payload, { 'content-type': 'application/json' });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('E_PROTOTYPE_POISONING');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('answers badly encoded form fields with E_MALFORMED_QUERY', async () => {
    await serve();
    const answer = await post('a=%E0%A4%A', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('E_MALFORMED_QUERY');
  });

  it('applies formLimits to urlencoded bodies', async () => {
    await serve({ formLimits: { maxKeys: 2, maxDepth: 1 } });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await post('a=1&b=2&c=3', form)).json.code).toBe('E_QUERY_TOO_MANY_PARAMS');
    expect((await post('a[b][c]=1', form)).json.code).toBe('E_QUERY_TOO_DEEP');
  });
});

describe('parseBody: bodies in many pieces', () => {
  it('assembles a body that arrives in many chunks, byte for byte', async () => {
    await serve();
    // 300 KB of random bytes in 16 KB pieces: the socket delivers them as several reads.
    const bytes = randomBytes(300 * 1024);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 16_384) }, (_, i) =>
      bytes.subarray(i * 16_384, (i + 1) * 16_384),
    );
    const response = await fetch(server!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        pull(controller) {
          const piece = pieces.shift();
          if (piece === undefined) controller.close();
          else controller.enqueue(new Uint8Array(piece));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: string };
    expect(Buffer.from(data, 'base64').equals(bytes)).toBe(true);
  });

  it('keeps each body to its own bytes when several arrive interleaved', async () => {
    // Three JSON bodies (deadlines on the shared sweeper) trickle in, their pieces
    // interleaved, and finish in the order they started: each deadline leaves from the
    // middle or the front of the sweeper's list, not only from its end.
    await serve({ timeoutMs: 5_000 });
    const sockets = [0, 1, 2].map(() => net.connect(server!.port, '127.0.0.1'));
    const replies = sockets.map(
      (socket) =>
        new Promise<string>((resolve) => {
          let text = '';
          socket.on('data', (data) => {
            text += data.toString();
          });
          socket.on('close', () => resolve(text));
        }),
    );
    await Promise.all(
      sockets.map((socket) => new Promise((resolve) => socket.on('connect', resolve))),
    );
    const bodies = [0, 1, 2].map((n) => JSON.stringify({ n, pad: String(n).repeat(50) }));
    sockets.forEach((socket, n) => {
      socket.write(
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n' +
          `Content-Length: ${Buffer.byteLength(bodies[n]!)}\r\n\r\n${bodies[n]!.slice(0, 10)}`,
      );
    });
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
    await pause();
    for (const [n, socket] of sockets.entries()) socket.write(bodies[n]!.slice(10, 30));
    await pause();
    for (const [n, socket] of sockets.entries()) {
      socket.write(bodies[n]!.slice(30));
      await pause();
    }
    const texts = await Promise.all(replies);
    texts.forEach((text, n) => {
      expect(text).toMatch(/^HTTP\/1\.1 200/);
      expect(text).toContain(`{"kind":"json","data":${bodies[n]}}`);
    });
  });
});

describe('parseBody: size limits', () => {
  it('accepts a body of exactly the limit', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(100) });
    await serve({ limits: { json: Buffer.byteLength(body) } });
    expect((await post(body, { 'content-type': 'application/json' })).status).toBe(200);
  });

  it('answers each kind over its own limit with E_BODY_TOO_LARGE', async () => {
    await serve({ limits: { json: 10, form: 10, text: 10, raw: 10 } });
    for (const type of [
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/octet-stream',
    ]) {
      const answer = await post('"0123456789"', { 'content-type': type });
      expect(answer.status, type).toBe(413);
      expect(answer.json.code).toBe('E_BODY_TOO_LARGE');
      expect(answer.json.details).toMatchObject({ limit: 10 });
    }
  });

  it('refuses an oversized Content-Length without reading the body', async () => {
    await serve({ limits: { json: 1024 } });
    const answer = await post(Buffer.alloc(3 * 1024 * 1024, 32), {
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.get('connection')).toBe('close');
    const outcome = await server!.next();
    expect(outcome.ok).toBe(false);
    expect(outcome.didRead).toBe(false);
  });

  it('stops a chunked body once it passes the limit, and the client still gets the 413', async () => {
    await serve({ limits: { raw: 64 * 1024 } });
    const response = await fetch(server!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: chunkedStream(1000, 64 * 1024),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'E_BODY_TOO_LARGE' });
  });

  it('delivers the 413 over a raw socket that is still uploading', async () => {
    const { port } = await serve({ limits: { json: 1024 } });
    const response = await rawRequest(port, [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      `Content-Length: ${10 * 1024 * 1024}\r\n\r\n`,
      Buffer.alloc(256 * 1024, 32),
    ]);
    expect(response.status).toBe(413);
    expect(response.headers.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(response.body)).toMatchObject({ code: 'E_BODY_TOO_LARGE' });
  });

  it('drains a small overrun so the connection serves the next request', async () => {
    const { port } = await serve({ limits: { json: 1024 } });
    const big = `"${'x'.repeat(4000)}"`;
    const response = await rawRequest(port, [
      'POST /1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      `Transfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`,
      'POST /2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      'Content-Length: 7\r\nConnection: close\r\n\r\n{"a":1}',
    ]);
    const statuses = [...response.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1]);
    expect(statuses).toEqual(['413', '200']);
    expect(response.text).toContain('{"kind":"json","data":{"a":1}}');
  });
});

describe('parseBody: slow and vanishing clients', () => {
  it('answers a body shorter than its Content-Length with 408 after timeoutMs', async () => {
    const { port } = await serve({ timeoutMs: 100 });
    const response = await rawRequest(port, [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      'Content-Length: 100\r\n\r\n{"partial":',
    ]);
    expect(response.status).toBe(408);
    expect(response.headers.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(response.body);
    expect(body.code).toBe('E_BODY_TIMEOUT');
    expect(body.details).toEqual({ timeoutMs: 100, received: 11 });
  });

  it('times out stalled bodies on the shared sweeper (deadlines of 2 s and more)', async () => {
    // Deadlines from 2 s up share one sweeper ticking every second; finished bodies leave
    // it while stalled ones wait, in any order.
    const { port } = await serve({ timeoutMs: 2_000 });
    const stalled = (n: number) =>
      rawRequest(port, [
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"n":${n},`,
      ]);
    const complete = (n: number) =>
      rawRequest(port, [
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"n":${n}}`,
      ]);
    const responses = await Promise.all([stalled(1), complete(2), stalled(3), complete(4)]);
    expect(responses.map((r) => r.status)).toEqual([408, 200, 408, 200]);
    expect(JSON.parse(responses[0]!.body).details).toEqual({ timeoutMs: 2_000, received: 7 });
  });

  it('times out a chunked body that never ends', async () => {
    const { port } = await serve({ timeoutMs: 100 });
    const response = await rawRequest(port, [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n',
      'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
    ]);
    expect(response.status).toBe(408);
  });

  it('reports E_BODY_ABORTED when the client disconnects mid-body', async () => {
    const { port } = await serve();
    await rawRequest(
      port,
      [
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
        'Content-Length: 1000\r\n\r\n{"a":',
      ],
      { destroyAfterWrite: true },
    );
    const outcome = await server!.next();
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('E_BODY_ABORTED');
      expect(outcome.error.status).toBe(400);
    }
  });
});

describe('parseBody: Content-Encoding', () => {
  const json = { 'content-type': 'application/json' };
  const payload = JSON.stringify({ compressed: true, list: [1, 2, 3] });

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('decompresses %s', async (encoding, compress) => {
    await serve();
    const answer = await post(compress(payload), { ...json, 'content-encoding': encoding });
    expect(answer.json).toEqual({ kind: 'json', data: JSON.parse(payload) });
  });

  it('passes identity through', async () => {
    await serve();
    const answer = await post(payload, { ...json, 'content-encoding': 'identity' });
    expect(answer.status).toBe(200);
  });

  it('stops a zip bomb at the decompressed limit', async () => {
    await serve({ limits: { json: 1024 * 1024 } });
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const answer = await post(bomb, { ...json, 'content-encoding': 'gzip' });
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('E_BODY_TOO_LARGE');
  });

  it('answers a corrupt compressed body with E_MALFORMED_CONTENT_ENCODING', async () => {
    await serve();
    const answer = await post(payload, { ...json, 'content-encoding': 'gzip' });
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('E_MALFORMED_CONTENT_ENCODING');
    expect(answer.json.message).toContain('gzip');
  });

  it('refuses unknown and stacked codings with 415', async () => {
    await serve();
    for (const encoding of ['compress', 'zstd', 'gzip, br']) {
      const answer = await post(payload, { ...json, 'content-encoding': encoding });
      expect(answer.status, encoding).toBe(415);
      expect(answer.json.code).toBe('E_UNSUPPORTED_CONTENT_ENCODING');
    }
  });
});

describe('parseBody: misuse', () => {
  it('rejects invalid options with E_INVALID_BODY_OPTIONS', async () => {
    const req = {} as IncomingMessage;
    for (const options of [
      { limits: { json: -1 } },
      { limits: { multipart: { files: Number.NaN } } },
      { timeoutMs: Number.POSITIVE_INFINITY },
    ] as BodyOptions[]) {
      await expect(parseBody(req, options)).rejects.toMatchObject({
        code: 'E_INVALID_BODY_OPTIONS',
      });
    }
  });

  it('answers E_BODY_CONSUMED when the stream was already read', async () => {
    server = await startServer(async (req) => {
      for await (const _chunk of req) {
        // something else read the body first
      }
      return parseBody(req);
    });
    const answer = await post('{}', { 'content-type': 'application/json' });
    expect(answer.status).toBe(500);
    expect(answer.json.code).toBe('E_BODY_CONSUMED');
  });

  it('refuses to parse the same request twice without a BodyReader', async () => {
    server = await startServer(async (req) => {
      await parseBody(req);
      return parseBody(req);
    });
    const answer = await post('{}', { 'content-type': 'application/json' });
    expect(answer.json.code).toBe('E_BODY_CONSUMED');
  });
});
