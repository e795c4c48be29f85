import type { IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest, startServer, type TestServer } from './__fixtures__/test-server.js';
import {
  abandonRequest,
  contentLength,
  hasBody,
  mustCloseConnection,
  type ReadBodyOptions,
  readBody,
} from './body-stream.js';

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serveRead(options?: ReadBodyOptions): Promise<TestServer> {
  server = await startServer(async (req) => ({ kind: 'raw', data: await readBody(req, options) }));
  return server;
}

interface Answer {
  status: number;
  json: { data: string; details?: unknown };
}

async function post(
  body: RequestInit['body'],
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(server!.url, { method: 'POST', body, headers });
  return { status: response.status, json: (await response.json()) as Answer['json'] };
}

const fakeRequest = (headers: Record<string, string>): IncomingMessage =>
  ({ headers }) as unknown as IncomingMessage;

describe('readBody', () => {
  it('returns the exact bytes whatever the Content-Type', async () => {
    await serveRead();
    const answer = await post('<xml>é</xml>', { 'content-type': 'application/xml' });
    expect(Buffer.from(answer.json.data, 'base64').toString()).toBe('<xml>é</xml>');
  });

  it('returns an empty buffer without a body', async () => {
    await serveRead();
    expect((await post(undefined)).json).toEqual({ kind: 'raw', data: '' });
  });

  it('decompresses and enforces the limit', async () => {
    await serveRead({ limit: 100 });
    const small = await post(gzipSync('x'.repeat(100)), { 'content-encoding': 'gzip' });
    expect(Buffer.from(small.json.data, 'base64').toString()).toBe('x'.repeat(100));
    const large = await post(gzipSync('x'.repeat(101)), { 'content-encoding': 'gzip' });
    expect(large.status).toBe(413);
    expect(large.json.details).toEqual({ kind: 'raw', limit: 100 });
  });

  it('rejects invalid options with E_INVALID_BODY_OPTIONS', async () => {
    const req = fakeRequest({});
    await expect(readBody(req, { limit: -1 })).rejects.toMatchObject({
      code: 'E_INVALID_BODY_OPTIONS',
      message: expect.stringContaining('"limit"'),
    });
    await expect(readBody(req, { timeoutMs: Number.NaN })).rejects.toMatchObject({
      code: 'E_INVALID_BODY_OPTIONS',
    });
  });
});

describe('body presence', () => {
  it('tells bodies apart from their framing headers', () => {
    expect(hasBody(fakeRequest({}))).toBe(false);
    expect(hasBody(fakeRequest({ 'content-length': '0' }))).toBe(false);
    expect(hasBody(fakeRequest({ 'content-length': '12' }))).toBe(true);
    expect(hasBody(fakeRequest({ 'transfer-encoding': 'chunked' }))).toBe(true);
    expect(hasBody(fakeRequest({ 'content-length': 'nonsense' }))).toBe(false);
  });

  it('reads Content-Length as a safe non-negative integer', () => {
    expect(contentLength(fakeRequest({ 'content-length': '42' }))).toBe(42);
    expect(contentLength(fakeRequest({}))).toBeUndefined();
    expect(contentLength(fakeRequest({ 'content-length': '-1' }))).toBeUndefined();
    expect(contentLength(fakeRequest({ 'content-length': '1e400' }))).toBeUndefined();
  });
});

describe('abandonRequest', () => {
  it('leaves a complete request alone and never asks to close its connection', async () => {
    let close: boolean | undefined;
    server = await startServer(async (req) => {
      const data = await readBody(req);
      abandonRequest(req, false);
      close = mustCloseConnection(req);
      return { kind: 'raw', data };
    });
    const answer = await post('abc');
    expect(answer.status).toBe(200);
    expect(close).toBe(false);
  });

  it('asks to close when it stops reading, not while it drains', async () => {
    const states: boolean[] = [];
    server = await startServer(async (req) => {
      states.push(mustCloseConnection(req));
      abandonRequest(req, req.url === '/drain');
      states.push(mustCloseConnection(req));
      return { kind: 'none' };
    });
    const head = 'Host: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n';
    await rawRequest(server.port, [`POST /drain HTTP/1.1\r\n${head}`, '12345']);
    await rawRequest(server.port, [`POST /stop HTTP/1.1\r\n${head}`, '12345']);
    expect(states).toEqual([false, false, false, true]);
  });
});
