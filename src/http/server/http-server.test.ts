import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import { readBody } from '../body/index.js';
import { collectGarbage } from './__fixtures__/collect-garbage.js';
import { get } from './__fixtures__/http-get.js';
import { RawConnection, sendRaw } from './__fixtures__/raw-client.js';
import { HttpServer, type ListenAddress, type RequestListener } from './http-server.js';
import type { HttpServerOptions, ServerLogger } from './server-options.js';

const servers: HttpServer[] = [];
const connections: RawConnection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close({ timeout: 0 })));
});

const hello: RequestListener = (_req, res) => {
  res.end('hello');
};

function track(server: HttpServer): HttpServer {
  servers.push(server);
  return server;
}

async function start(
  listener: RequestListener = hello,
  options: Partial<HttpServerOptions> = {},
): Promise<{ server: HttpServer; port: number }> {
  const server = track(new HttpServer(listener, { port: 0, ...options }));
  const { port } = await server.listen();
  return { server, port };
}

function memoryLogger(): ServerLogger & { lines: Array<[string, object, string | undefined]> } {
  const lines: Array<[string, object, string | undefined]> = [];
  return {
    lines,
    info: (obj, msg) => lines.push(['info', obj, msg]),
    warn: (obj, msg) => lines.push(['warn', obj, msg]),
    error: (obj, msg) => lines.push(['error', obj, msg]),
  };
}

function optionError(options: Partial<HttpServerOptions>): KeelError {
  try {
    new HttpServer(hello, { port: 0, ...options });
  } catch (error) {
    if (error instanceof KeelError) return error;
    throw error;
  }
  throw new Error('expected the options to be refused');
}

describe('HttpServer options', () => {
  it('refuses a zero timeout unless allowNoTimeout is set', () => {
    for (const option of ['requestTimeout', 'headersTimeout', 'keepAliveTimeout'] as const) {
      const error = optionError({ [option]: 0 });
      expect(error.code).toBe('E_INVALID_SERVER_OPTIONS');
      expect(error.message).toContain(option);
      expect(error.message).toContain('allowNoTimeout');
    }
    const server = track(
      new HttpServer(hello, {
        port: 0,
        requestTimeout: 0,
        headersTimeout: 0,
        keepAliveTimeout: 0,
        allowNoTimeout: true,
      }),
    );
    expect(server.nodeServer.requestTimeout).toBe(0);
  });

  it('accepts durations as strings and applies the defaults', () => {
    const server = track(
      new HttpServer(hello, { port: 0, requestTimeout: '2s', headersTimeout: '1s' }),
    );
    expect(server.nodeServer.requestTimeout).toBe(2_000);
    expect(server.nodeServer.headersTimeout).toBe(1_000);
    expect(server.nodeServer.keepAliveTimeout).toBe(5_000);
    expect((server.nodeServer as unknown as { maxHeaderSize: number }).maxHeaderSize).toBe(16_384);
    const defaults = track(new HttpServer(hello, { port: 0 }));
    expect(defaults.nodeServer.requestTimeout).toBe(30_000);
    expect(defaults.nodeServer.headersTimeout).toBe(20_000);
  });

  it('refuses a headersTimeout longer than requestTimeout', () => {
    const error = optionError({ requestTimeout: 1_000, headersTimeout: 2_000 });
    expect(error.message).toContain('must not exceed requestTimeout (1000 ms)');
  });

  it.each<[string, Partial<HttpServerOptions>]>([
    ['a negative timeout', { requestTimeout: -1 }],
    ['a fractional timeout', { keepAliveTimeout: 1.5 }],
    ['an unparseable duration', { requestTimeout: 'soon' }],
    ['a boolean duration', { headersTimeout: true as unknown as number }],
    ['a negative port', { port: -1 }],
    ['a port above 65535', { port: 70_000 }],
    ['a port given as a string', { port: '80' as unknown as number }],
    ['a tiny maxHeaderSize', { maxHeaderSize: 10 }],
    ['a zero maxRequestsPerSocket', { maxRequestsPerSocket: 0 }],
    ['a zero backlog', { backlog: 0 }],
    ['an empty host', { host: '' }],
  ])('refuses %s with E_INVALID_SERVER_OPTIONS', (_name, options) => {
    expect(optionError(options).code).toBe('E_INVALID_SERVER_OPTIONS');
  });

  it('takes a pino logger', () => {
    expectTypeOf(pino({ enabled: false })).toMatchTypeOf<ServerLogger>();
    expectTypeOf<HttpServer['listen']>().returns.resolves.toEqualTypeOf<ListenAddress>();
  });
});

describe('HttpServer listen', () => {
  it('listens on a free port and reports where', async () => {
    const logger = memoryLogger();
    const server = track(new HttpServer(hello, { port: 0, backlog: 64, logger }));
    expect(server.address).toBeUndefined();
    const address = await server.listen();
    expect(address.port).toBeGreaterThan(0);
    expect(address).toEqual({
      port: address.port,
      host: '127.0.0.1',
      url: `http://127.0.0.1:${address.port}`,
    });
    expect(server.address).toEqual(address);
    expect(await get(address.port)).toMatchObject({ status: 200, body: 'hello' });
    expect(logger.lines).toContainEqual(['info', { url: address.url }, 'HTTP server listening']);
    await server.close();
    expect(server.address).toBeUndefined();
  });

  it('shows an unspecified address as localhost in the URL', async () => {
    const server = track(new HttpServer(hello, { port: 0, host: '0.0.0.0' }));
    const address = await server.listen();
    expect(address.host).toBe('0.0.0.0');
    expect(address.url).toBe(`http://localhost:${address.port}`);
  });

  it('brackets an IPv6 address in the URL', async (ctx) => {
    const server = track(new HttpServer(hello, { port: 0, host: '::1' }));
    const address = await server.listen().catch(() => undefined);
    if (!address) return ctx.skip();
    expect(address.url).toBe(`http://[::1]:${address.port}`);
  });

  it('explains a port in use with E_SERVER_LISTEN_FAILED', async () => {
    const { port } = await start();
    const second = track(new HttpServer(hello, { port }));
    const error = await second.listen().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeelError);
    expect(error).toMatchObject({
      code: 'E_SERVER_LISTEN_FAILED',
      details: { host: '127.0.0.1', port, reason: 'EADDRINUSE' },
    });
    // A failed listen leaves the server idle: closing it is a no-op.
    await second.close();
  });

  it('refuses to listen twice or after close', async () => {
    const { server } = await start();
    await expect(server.listen()).rejects.toMatchObject({ code: 'E_SERVER_STATE' });
    await server.close();
    await expect(server.listen()).rejects.toMatchObject({
      code: 'E_SERVER_STATE',
      message: 'Cannot listen: the HTTP server is closed',
    });
  });

  it('refuses to close while listen() is still pending', async () => {
    const server = track(new HttpServer(hello, { port: 0 }));
    const listening = server.listen();
    await expect(server.close()).rejects.toMatchObject({ code: 'E_SERVER_STATE' });
    await listening;
  });

  it('closes a server that never listened without error', async () => {
    const server = new HttpServer(hello, { port: 0 });
    await server.close();
    await expect(server.listen()).rejects.toMatchObject({ code: 'E_SERVER_STATE' });
  });

  it('refuses an invalid close timeout', async () => {
    const { server } = await start();
    await expect(server.close({ timeout: 'never' })).rejects.toMatchObject({
      code: 'E_INVALID_SERVER_OPTIONS',
    });
  });
});

describe('HttpServer connections', () => {
  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    const { server, port } = await start(hello, { keepAliveTimeout: 100 });
    const connection = await RawConnection.open(port);
    connections.push(connection);
    connection.write('GET / HTTP/1.1\r\nHost: keel.test\r\n\r\n');
    await connection.closed;
    expect(connection.received).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(connection.received).toContain('Connection: keep-alive');
    await expect.poll(() => server.connections()).toBe(0);
  });

  it('closes a connection after maxRequestsPerSocket requests', async () => {
    const { port } = await start(hello, { maxRequestsPerSocket: 2 });
    const request = 'GET / HTTP/1.1\r\nHost: keel.test\r\n\r\n';
    const exchange = await sendRaw(port, request + request);
    expect(exchange.text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(exchange.text.match(/Connection: close/g)).toHaveLength(1);
    expect(exchange.closedByServer).toBe(true);
  });

  it('counts open connections and in-flight requests', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { server, port } = await start(async (_req, res) => {
      await held;
      res.end('done');
    });
    expect(server.inFlight()).toBe(0);
    const response = get(port);
    await expect.poll(() => server.inFlight()).toBe(1);
    expect(server.connections()).toBe(1);
    release();
    expect((await response).body).toBe('done');
    await expect.poll(() => server.inFlight()).toBe(0);
  });

  it('lets an idle keep-alive connection drop the request it has finished', async () => {
    // A finished request (its body, its listeners, what they close over) must not live as
    // long as the idle connection that carried it.
    let request: WeakRef<IncomingMessage> | undefined;
    const { server, port } = await start((req, res) => {
      request = new WeakRef(req);
      req.on('data', () => {});
      req.on('end', () => res.end('stored'));
    });
    const connection = await RawConnection.open(port);
    connections.push(connection);
    connection.write('POST / HTTP/1.1\r\nHost: keel.test\r\nContent-Length: 5\r\n\r\nhello');
    await expect.poll(() => connection.received).toMatch(/stored$/);
    expect(server.connections()).toBe(1);
    await expect
      .poll(() => {
        collectGarbage();
        return request?.deref();
      })
      .toBeUndefined();
    expect(server.inFlight()).toBe(0);
  });

  it('closes the connection after a response whose body the body layer gave up on', async () => {
    const { port } = await start(async (req, res) => {
      const error = await readBody(req, { limit: 10 }).catch((e: unknown) => e as KeelError);
      // The handler forgets `Connection: close`; the server must not keep the socket.
      res.statusCode = (error as KeelError).status;
      res.end('too large');
    });
    const exchange = await sendRaw(
      port,
      'POST / HTTP/1.1\r\nHost: keel.test\r\nContent-Length: 5000000\r\n\r\nsome bytes',
    );
    expect(exchange.status).toBe(413);
    expect(exchange.closedByServer).toBe(true);
  });
});

describe('HttpServer listener failures', () => {
  it('answers 500 problem+json when the listener throws', async () => {
    const logger = memoryLogger();
    const { port } = await start(
      (_req, res: ServerResponse) => {
        res.setHeader('x-secret', 'leaky');
        throw new Error('boom');
      },
      { logger },
    );
    const response = await get(port, '/explode');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.headers['x-secret']).toBeUndefined();
    expect(JSON.parse(response.body)).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'The request handler failed before answering',
      code: 'E_REQUEST_HANDLER_FAILED',
    });
    expect(response.body).not.toContain('boom');
    const line = logger.lines.find(([level]) => level === 'error');
    expect(line?.[1]).toMatchObject({ method: 'GET', url: '/explode' });
  });

  it('answers 500 when the listener rejects', async () => {
    const { port } = await start(async () => {
      throw new Error('async boom');
    });
    const response = await get(port);
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'E_REQUEST_HANDLER_FAILED' });
  });

  it('cuts the connection when the listener fails mid-response', async () => {
    const { port } = await start(async (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      throw new Error('late boom');
    });
    await expect(get(port)).rejects.toThrow();
  });
});
