import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import v8 from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../http-app.js';
import {
  KeelIncomingMessage,
  KeelServerResponse,
  kContext,
  kLatestResponse,
  kObserved,
  kPeerAddress,
  kPlainRead,
} from './slots.js';

// V8's own answer to "do these objects share a hidden class?". The flag applies to code
// parsed after it is set, hence the Function constructor.
v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (
  a: object,
  b: object,
) => boolean;

interface Seen {
  req: IncomingMessage;
  res: ServerResponse;
  socket: Socket;
}

let app: HttpApp | undefined;
let plain: http.Server | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  if (plain) await new Promise((resolve) => plain!.close(resolve));
  plain = undefined;
});

/** An app that records the Node objects of every request; /echo reads a JSON body. */
async function recordingApp(seen: Seen[]): Promise<HttpApp> {
  const created = await createHttpApp();
  const record = (ctx: { req: IncomingMessage; res: ServerResponse }) =>
    seen.push({ req: ctx.req, res: ctx.res, socket: ctx.req.socket as Socket });
  created.router.get('/hello', (ctx) => {
    record(ctx);
    return { hello: 'world' };
  });
  created.router.post('/echo', async (ctx) => {
    record(ctx);
    const body = await ctx.bodyReader.parse();
    return { echoed: body.kind === 'json' ? body.data : body.kind };
  });
  return created;
}

/** GET, POST with a body, GET: each on its own connection, in that order. */
async function traffic(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const close = { connection: 'close' };
  expect((await fetch(`${base}/hello`, { headers: close })).status).toBe(200);
  const posted = await fetch(`${base}/echo`, {
    method: 'POST',
    headers: { ...close, 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'CHAIR-01' }),
  });
  expect(await posted.json()).toEqual({ echoed: { sku: 'CHAIR-01' } });
  expect((await fetch(`${base}/hello`, { headers: close })).status).toBe(200);
}

describe("Keel's slots on Node's request, response and socket", () => {
  it('makes requests and responses with the slots declared, unset until used', async () => {
    const seen: Seen[] = [];
    app = await recordingApp(seen);
    const { port } = await app.listen();
    await traffic(port);
    expect(seen).toHaveLength(3);
    for (const { req, res, socket } of seen) {
      expect(req).toBeInstanceOf(KeelIncomingMessage);
      expect(res).toBeInstanceOf(KeelServerResponse);
      expect(Object.hasOwn(req, kPlainRead)).toBe(true);
      expect(Object.hasOwn(res, kContext)).toBe(true);
      expect(Object.hasOwn(res, kObserved)).toBe(true);
      expect(Object.hasOwn(socket, kLatestResponse)).toBe(true);
      expect(Object.hasOwn(socket, kPeerAddress)).toBe(true);
    }
    // Only the request whose body was read holds a read; the GETs' slot stayed empty.
    expect(seen.map(({ req }) => (req as KeelIncomingMessage)[kPlainRead] !== undefined)).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('gives a GET and a POST request, and their responses and connections, one map each', async () => {
    const seen: Seen[] = [];
    app = await recordingApp(seen);
    const { port } = await app.listen();
    await traffic(port);
    const [get, post, later] = seen as [Seen, Seen, Seen];
    // (Node itself adds `_peername` to a socket the first time its remote address is read,
    // as `ctx.ip` does: the routes here leave it alone, so only Keel's slots are compared.)
    for (const kind of ['req', 'res', 'socket'] as const) {
      expect(haveSameMap(get[kind], post[kind]), kind).toBe(true);
      expect(haveSameMap(post[kind], later[kind]), kind).toBe(true);
    }
  });

  it('is what tells them apart from the same kernel behind a plain node:http server', async () => {
    // The control: without the declared slots, reading a body adds a property to the
    // request, and the POST's request leaves the GETs' map.
    const seen: Seen[] = [];
    app = await recordingApp(seen);
    plain = http.createServer(app.kernel.handle);
    await new Promise<void>((resolve) => plain!.listen(0, '127.0.0.1', resolve));
    await traffic((plain.address() as AddressInfo).port);
    const [get, post, later] = seen as [Seen, Seen, Seen];
    expect(get.req).not.toBeInstanceOf(KeelIncomingMessage);
    expect(haveSameMap(get.req, later.req)).toBe(true);
    expect(haveSameMap(get.req, post.req)).toBe(false);
  });
});
