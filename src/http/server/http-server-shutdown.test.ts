import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, get } from './__fixtures__/http-get.js';
import { RawConnection } from './__fixtures__/raw-client.js';
import { HttpServer, type RequestListener } from './http-server.js';
import type { ServerLogger } from './server-options.js';

const servers: HttpServer[] = [];
const connections: RawConnection[] = [];
const agents: http.Agent[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy();
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close({ timeout: 0 })));
});

async function start(
  listener: RequestListener,
  logger?: ServerLogger,
): Promise<{ server: HttpServer; port: number }> {
  const server = new HttpServer(listener, { port: 0, ...(logger ? { logger } : {}) });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

async function open(port: number): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  connections.push(connection);
  return connection;
}

/** A listener that answers `/slow` only when released, and everything else at once. */
function holdingListener(): {
  listener: RequestListener;
  release: () => void;
  started: Promise<void>;
} {
  const gate = deferred();
  const started = deferred();
  return {
    release: () => gate.resolve(),
    started: started.promise,
    listener: async (req, res) => {
      if (req.url === '/slow') {
        started.resolve();
        await gate.promise;
      }
      res.end(`done ${req.url}`);
    },
  };
}

describe('HttpServer graceful close', () => {
  it('lets an in-flight request finish, with Connection: close, before resolving', async () => {
    const { listener, release, started } = holdingListener();
    const { server, port } = await start(listener);
    const agent = new http.Agent({ keepAlive: true });
    agents.push(agent);
    const response = get(port, '/slow', { agent });
    await started;

    let closed = false;
    const closing = server.close({ timeout: 5_000 }).then(() => {
      closed = true;
    });
    expect(server.inFlight()).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);

    release();
    const result = await response;
    expect(result).toMatchObject({ status: 200, body: 'done /slow' });
    expect(result.headers.connection).toBe('close');
    await closing;
    expect(server.inFlight()).toBe(0);
    expect(server.connections()).toBe(0);
  });

  it('closes idle keep-alive connections at once, while requests are still in flight', async () => {
    const { listener, release, started } = holdingListener();
    const { server, port } = await start(listener);
    const idle = await open(port);
    idle.write('GET /quick HTTP/1.1\r\nHost: keel.test\r\n\r\n');
    await expect.poll(() => idle.received).toContain('done /quick');

    const busy = get(port, '/slow');
    await started;
    const closing = server.close({ timeout: 5_000 });
    await idle.closed;
    expect(server.inFlight()).toBe(1);
    release();
    expect((await busy).body).toBe('done /slow');
    await closing;
  });

  it('refuses new connections once closing', async () => {
    const { listener, release, started } = holdingListener();
    const { server, port } = await start(listener);
    const busy = get(port, '/slow');
    await started;
    const closing = server.close({ timeout: 5_000 });
    await expect(get(port, '/late')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release();
    await busy;
    await closing;
  });

  it('closes a keep-alive connection after a response that was already streaming', async () => {
    const body = deferred();
    const { server, port } = await start(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one;');
      await body.promise;
      res.end('part two');
    });
    const connection = await open(port);
    connection.write('GET /stream HTTP/1.1\r\nHost: keel.test\r\n\r\n');
    await expect.poll(() => connection.received).toContain('part one;');
    const closing = server.close({ timeout: 5_000 });
    body.resolve();
    await connection.closed;
    await closing;
    expect(connection.received).toContain('Connection: keep-alive');
    expect(connection.received).toContain('part two');
  });

  it('destroys what is still open at the deadline', async () => {
    const lines: string[] = [];
    const logger: ServerLogger = {
      info: (_obj, msg) => lines.push(`info ${msg}`),
      warn: (_obj, msg) => lines.push(`warn ${msg}`),
      error: (_obj, msg) => lines.push(`error ${msg}`),
    };
    const { listener, started } = holdingListener();
    const { server, port } = await start(listener, logger);
    const hanging = get(port, '/slow').catch((error: unknown) => error);
    await started;
    await server.close({ timeout: 50 });
    expect(await hanging).toMatchObject({ code: 'ECONNRESET' });
    expect(server.connections()).toBe(0);
    expect(server.inFlight()).toBe(0);
    expect(lines).toContain('warn HTTP server close deadline reached; destroying open connections');
    expect(lines.at(-1)).toBe('info HTTP server closed');
  });

  it('destroys a connection stuck mid-headers at the deadline', async () => {
    const { server, port } = await start(holdingListener().listener);
    const stuck = await open(port);
    stuck.write('GET / HTTP/1.1\r\nHost: keel.test\r\n');
    await expect.poll(() => server.connections()).toBe(1);
    await server.close({ timeout: '50ms' });
    await stuck.closed;
    expect(stuck.received).toBe('');
  });

  it('returns the same shutdown to every caller', async () => {
    const { listener, release, started } = holdingListener();
    const { server, port } = await start(listener);
    const busy = get(port, '/slow');
    await started;
    const first = server.close({ timeout: 5_000 });
    const second = server.close({ timeout: 0 });
    release();
    await Promise.all([first, second, busy]);
    await server.close();
  });
});
