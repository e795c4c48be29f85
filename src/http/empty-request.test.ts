import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from './http-app.js';

// A request without a body is not drained by Node once its response is sent (Keel marks it
// consumed); these tests hold the connection-level behaviour to what Node's dump gives.

let app: HttpApp;
let port: number;
/** The Node requests the routes saw, in order. */
let seen: IncomingMessage[];
/** Resolves when the request of `/listen` emits 'close'. */
let listenedClosed: Promise<void>;

beforeEach(async () => {
  seen = [];
  app = await createHttpApp();
  app.router.get('/hello', (ctx) => {
    seen.push(ctx.req);
    return { hello: 'world' };
  });
  app.router.post('/ignore-body', (ctx) => {
    seen.push(ctx.req);
    return { ignored: true };
  });
  let closed!: () => void;
  listenedClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  app.router.get('/listen', (ctx) => {
    seen.push(ctx.req);
    ctx.req.once('close', () => closed());
    return { listening: true };
  });
  // Every request the kernel sees, routed or not.
  app.kernel.beforeRouting((ctx) => {
    if (ctx.path.startsWith('/missing')) seen.push(ctx.req);
    return false;
  });
  ({ port } = await app.listen());
});

afterEach(async () => {
  await app.close();
});

/** Write `data` on one kept-open connection and read until `count` responses are in. */
function exchange(data: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const responses = (): string[] =>
      text.split('HTTP/1.1 ').filter((part) => part.length > 0 && part.includes('\r\n\r\n'));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${responses().length} of ${count} responses:\n${text}`));
    }, 5_000);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const done = responses();
      if (done.length >= count && text.endsWith('}')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(done);
      }
    });
    socket.on('error', reject);
  });
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: keel.test\r\n\r\n`;

describe('requests without a body', () => {
  it('serves pipelined requests on one connection in order, each answered once', async () => {
    const responses = await exchange(get('/hello') + get('/hello') + get('/hello'), 3);
    expect(responses).toHaveLength(3);
    for (const response of responses) {
      expect(response.startsWith('200 OK')).toBe(true);
      expect(response.endsWith('{"hello":"world"}')).toBe(true);
    }
    expect(seen).toHaveLength(3);
  });

  it('keeps the connection usable after an unread body, which Node still drains', async () => {
    const body = JSON.stringify({ big: 'x'.repeat(20_000) });
    const post =
      'POST /ignore-body HTTP/1.1\r\nHost: keel.test\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const responses = await exchange(post + get('/hello'), 2);
    expect(responses[0]).toContain('{"ignored":true}');
    expect(responses[1]).toContain('{"hello":"world"}');
    // The unread body was pulled off the wire by Node's dump: the request stream ended.
    expect(seen[0]!.readableEnded).toBe(true);
  });

  it("still ends a request whose events someone listens to, so its 'close' arrives", async () => {
    const [response] = await exchange(get('/listen'), 1);
    expect(response).toContain('{"listening":true}');
    await listenedClosed;
    expect(seen[0]!.readableEnded).toBe(true);
  });

  it('does not drain a bodyless request nobody listens to', async () => {
    await exchange(get('/hello') + get('/hello'), 2);
    expect(seen).toHaveLength(2);
    // Node's dump would have read the stream to its end; Keel leaves the empty stream be.
    for (const req of seen) expect(req.readableEnded).toBe(false);
  });

  it('does not drain the request of an error response either, and the connection goes on', async () => {
    const responses = await exchange(get('/missing') + get('/hello'), 2);
    expect(responses[0]!.startsWith('404 Not Found')).toBe(true);
    expect(responses[1]).toContain('{"hello":"world"}');
    expect(seen[0]!.readableEnded).toBe(false);
  });
});
