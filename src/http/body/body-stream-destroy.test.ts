import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
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

/**
 * Start a server whose handler reads the body, call `onRequest` with the request and the
 * client's socket (which has sent the head and 5 of 100 body bytes), and resolve with the
 * read's outcome: 'resolved' or the rejection's error code.
 */
async function readOutcome(
  onRequest: (req: IncomingMessage, client: net.Socket) => void,
): Promise<string> {
  let client!: net.Socket;
  const outcome = new Promise<string>((resolve) => {
    server = http.createServer((req, res) => {
      const read = readBody(req, { limit: 1024 * 1024, timeoutMs: 5_000 });
      read.then(
        () => resolve('resolved'),
        (error: { code?: string }) => resolve(error.code ?? String(error)),
      );
      read.catch(() => undefined).finally(() => res.destroy());
      onRequest(req, client);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  client = net.connect((server!.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => undefined);
  client.write(
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello',
  );
  try {
    return await outcome;
  } finally {
    client.destroy();
  }
}

describe('a plain body read on a destroyed request', () => {
  it('rejects with E_BODY_ABORTED when the app destroys the request with an error', async () => {
    const outcome = await readOutcome((req) => {
      req.once('data', () => req.destroy(new Error('app gave up')));
    });
    expect(outcome).toBe('E_BODY_ABORTED');
  });

  it("rejects with E_BODY_ABORTED, and the app's own 'error' listener still gets the error", async () => {
    const seen: string[] = [];
    const outcome = await readOutcome((req) => {
      req.on('error', (error) => seen.push(error.message));
      req.once('data', () => req.destroy(new Error('app gave up')));
    });
    expect(outcome).toBe('E_BODY_ABORTED');
    expect(seen).toEqual(['app gave up']);
  });

  it('rejects with E_BODY_ABORTED when the client goes away mid-body', async () => {
    const outcome = await readOutcome((req, client) => {
      req.once('data', () => client.destroy());
    });
    expect(outcome).toBe('E_BODY_ABORTED');
  });
});
