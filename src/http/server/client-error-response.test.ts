import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defineError } from '../../support/index.js';
import {
  type ClientErrorLike,
  classifyClientError,
  problemDocument,
  writeRawProblem,
} from './client-error-response.js';

const limits = { maxHeaderSize: 16_384, headersTimeout: 20_000, requestTimeout: 30_000 };

function parserError(code?: string, reason?: string): ClientErrorLike {
  return Object.assign(new Error('Parse Error'), { code, reason });
}

describe('classifyClientError', () => {
  it('only destroys the socket when the peer is gone', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']) {
      expect(classifyClientError(parserError(code), new PassThrough(), limits)).toBeUndefined();
    }
  });

  it('maps parser codes to catalogued errors', () => {
    const socket = new PassThrough();
    expect(classifyClientError(parserError('HPE_HEADER_OVERFLOW'), socket, limits)?.status).toBe(
      431,
    );
    expect(
      classifyClientError(parserError('HPE_CHUNK_EXTENSIONS_OVERFLOW'), socket, limits)?.status,
    ).toBe(413);
    expect(
      classifyClientError(
        parserError('HPE_INVALID_METHOD', 'Invalid method encountered'),
        socket,
        limits,
      )?.message,
    ).toBe('Malformed HTTP request: Invalid method encountered');
    expect(classifyClientError(parserError('HPE_X'), socket, limits)?.message).toBe(
      'Malformed HTTP request: HPE_X',
    );
    expect(classifyClientError(parserError(), socket, limits)?.message).toBe(
      'Malformed HTTP request: unparseable request',
    );
  });

  it('words a timeout by the phase and the deadline that applied', () => {
    const idle = new PassThrough();
    const inBody = Object.assign(new PassThrough(), { _httpMessage: { headersSent: false } });
    const timeout = parserError('ERR_HTTP_REQUEST_TIMEOUT');
    expect(classifyClientError(timeout, idle, limits)?.details).toEqual({
      phase: 'headers',
      timeoutMs: 20_000,
    });
    expect(classifyClientError(timeout, inBody, limits)?.details).toEqual({
      phase: 'body',
      timeoutMs: 30_000,
    });
    expect(classifyClientError(timeout, idle, { ...limits, headersTimeout: 0 })?.details).toEqual({
      phase: 'headers',
      timeoutMs: 30_000,
    });
  });
});

describe('writeRawProblem', () => {
  it('writes a complete problem+json response and ends the socket', async () => {
    const E_TEAPOT = defineError('E_TEAPOT', () => 'short and stout', {
      status: 418,
      help: 'Brew coffee elsewhere.',
    });
    const E_ODD = defineError('E_ODD', () => 'odd', { status: 499, help: 'Nothing to do here.' });
    expect(problemDocument(new E_ODD())).toMatchObject({ title: 'Error', status: 499 });
    const socket = new PassThrough();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => socket.once('end', resolve));
    writeRawProblem(socket, new E_TEAPOT());
    await ended;
    const text = Buffer.concat(chunks).toString();
    const body = JSON.stringify({
      type: 'about:blank',
      title: "I'm a Teapot",
      status: 418,
      detail: 'short and stout',
      code: 'E_TEAPOT',
    });
    expect(text).toBe(
      "HTTP/1.1 418 I'm a Teapot\r\n" +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${body.length}\r\n` +
        'Cache-Control: no-store\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
    socket.destroy();
  });
});
