import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from './body-stream.js';

// The plain body read listens to 'data', 'end' and 'close' only: a request destroyed while
// its body is read (with an error, with or without an 'error' listener of the app's) must
// still settle the read, once, as E_BODY_ABORTED.

let server: http.Server | undefined;

afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** A server whose handler reads the body and hands the request and the outcome over. */
async function start(
  onRequest: (req: IncomingMessage, read: Promise<Buffer>) => void,
): Promise<number> {
  server = http.createServer((req, res) => {
    const read = readBody(req, { limit: 1024 * 1024, timeoutMs: 5_000 });
    read.catch(() => undefined).finally(() => res.destroy());
    onRequest(req, read);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Send the head and part of a body, then keep the connection open. */
function partialPost(port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello',
  );
  return socket;
}

async function outcomeOf(read: Promise<Buffer>): Promise<string> {
  try {
    await read;
    return 'resolved';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('a plain body read on a destroyed request', () => {
  it('rejects with E_BODY_ABORTED when the app destroys the request with an error', async () => {
    let socket: net.Socket | undefined;
    const outcome = new Promise<string>((resolve) => {
      void start((req, read) => {
        req.once('data', () => req.destroy(new Error('app gave up')));
        void outcomeOf(read).then(resolve);
      }).then((port) => {
        socket = partialPost(port);
      });
    });
    expect(await outcome).toBe('E_BODY_ABORTED');
    socket?.destroy();
  });

  it("rejects once, and the app's own 'error' listener still gets the error", async () => {
    const seen: string[] = [];
    let socket: net.Socket | undefined;
    const outcome = new Promise<string>((resolve) => {
      void start((req, read) => {
        req.on('error', (error) => seen.push(error.message));
        req.once('data', () => req.destroy(new Error('app gave up')));
        void outcomeOf(read).then(resolve);
      }).then((port) => {
        socket = partialPost(port);
      });
    });
    expect(await outcome).toBe('E_BODY_ABORTED');
    expect(seen).toEqual(['app gave up']);
    socket?.destroy();
  });

  it('rejects with E_BODY_ABORTED when the client goes away mid-body', async () => {
    let socket: net.Socket | undefined;
    const outcome = new Promise<string>((resolve) => {
      void start((req, read) => {
        req.once('data', () => socket?.destroy());
        void outcomeOf(read).then(resolve);
      }).then((port) => {
        socket = partialPost(port);
      });
    });
    expect(await outcome).toBe('E_BODY_ABORTED');
  });
});
