import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Container } from '../../container/index.js';
import { type ContextPropagator, createNullLogger, executionContext } from '../../kernel/index.js';
import { HttpKernel } from '../http-kernel.js';
import { createHttpClient } from './index.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRACESTATE = 'keel=00f067aa0ba902b7,other=t61rcWkgMzE';

const servers: Server[] = [];
const undo: Array<() => void> = [];

/** A real server recording the headers of every request it receives. */
async function downstream(): Promise<{ url: string; received: IncomingHttpHeaders[] }> {
  const received: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    received.push(req.headers);
    res.end('ok');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** Register a propagator writing fixed carrier fields, as tracing's does; removed after the test. */
function propagating(fields: Record<string, string>): void {
  const propagator: ContextPropagator = {
    inject(_scope, carrier) {
      Object.assign(carrier, fields);
    },
    extract() {},
  };
  undo.push(executionContext.addPropagator(propagator));
}

afterEach(async () => {
  for (const remove of undo.splice(0)) remove();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

describe('context propagation by the HTTP client', () => {
  it('sends the scope request id and the trace headers inside a scope', async () => {
    const service = await downstream();
    propagating({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    const http = createHttpClient({ baseUrl: service.url });
    const response = await executionContext.run({ request_id: 'req-7', job_id: 'job-1' }, () =>
      http.get('/orders'),
    );
    expect(response.status).toBe(200);
    expect(service.received[0]).toMatchObject({
      'x-request-id': 'req-7',
      traceparent: TRACEPARENT,
      tracestate: TRACESTATE,
    });
  });

  it('sends only the fields that are HTTP headers, not every carrier field', async () => {
    const service = await downstream();
    propagating({ traceparent: TRACEPARENT, 'x-internal-token': 'secret', baggage: 'k=v' });
    await executionContext.run({ request_id: 'req-8' }, () => createHttpClient().get(service.url));
    const headers = service.received[0]!;
    expect(headers.traceparent).toBe(TRACEPARENT);
    // capture() carries the id as `requestId` (the job meta's key): it is not a header.
    expect(headers).not.toHaveProperty('requestid');
    expect(headers).not.toHaveProperty('x-internal-token');
    expect(headers).not.toHaveProperty('baggage');
    expect(headers).not.toHaveProperty('tracestate');
  });

  it('adds nothing outside a scope', async () => {
    const service = await downstream();
    propagating({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    await createHttpClient().get(service.url);
    expect(executionContext.current()).toBeUndefined();
    const headers = service.received[0]!;
    expect(headers).not.toHaveProperty('x-request-id');
    expect(headers).not.toHaveProperty('traceparent');
    expect(headers).not.toHaveProperty('tracestate');
  });

  it("keeps the caller's own headers, whatever their case and wherever they were set", async () => {
    const service = await downstream();
    propagating({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    const http = createHttpClient({ headers: { 'X-Request-Id': 'client-default' } });
    await executionContext.run({ request_id: 'from-scope' }, async () => {
      await http.get(service.url);
      await http.get(service.url, {
        headers: { 'x-request-id': 'per-request', TraceParent: 'mine', tracestate: 'x=1' },
      });
      await createHttpClient({ propagate: () => ({ 'x-request-id': 'hooked' }) }).get(service.url);
    });
    expect(service.received.map((h) => h['x-request-id'])).toEqual([
      'client-default',
      'per-request',
      'hooked',
    ]);
    expect(service.received[0]).toMatchObject({ traceparent: TRACEPARENT });
    expect(service.received[1]).toMatchObject({ traceparent: 'mine', tracestate: 'x=1' });
  });

  it('is turned off by propagateContext: false, on the client or a derived one', async () => {
    const service = await downstream();
    propagating({ traceparent: TRACEPARENT });
    const on = createHttpClient();
    const off = createHttpClient({ propagateContext: false });
    await executionContext.run({ request_id: 'req-9' }, async () => {
      await off.get(service.url);
      await on.withOptions({ propagateContext: false }).get(service.url);
      await off.withOptions({ propagateContext: true }).get(service.url);
    });
    expect(service.received[0]).not.toHaveProperty('x-request-id');
    expect(service.received[0]).not.toHaveProperty('traceparent');
    expect(service.received[1]).not.toHaveProperty('x-request-id');
    expect(service.received[2]).toMatchObject({
      'x-request-id': 'req-9',
      traceparent: TRACEPARENT,
    });
  });

  it('reads the scope of each request when it is sent, with concurrent scopes apart', async () => {
    const service = await downstream();
    const http = createHttpClient();
    await Promise.all(
      ['a-1', 'b-2', 'c-3'].map((id) =>
        executionContext.run({ request_id: id }, () => http.get(service.url)),
      ),
    );
    expect(service.received.map((h) => h['x-request-id']).sort()).toEqual(['a-1', 'b-2', 'c-3']);
  });

  it('never lets a hostile scope value reach a header, and still sends the request', async () => {
    const service = await downstream();
    propagating({
      traceparent: `${TRACEPARENT}\r\nx-injected: trace`,
      tracestate: 'a=b\nx-injected: state',
    });
    const http = createHttpClient();
    const hostile: unknown[] = [
      'r1\r\nx-injected: yes',
      'r1\nx-injected: yes',
      'r1\0',
      ' r1',
      'r'.repeat(129),
      'ünïcode',
      42,
      '',
    ];
    for (const id of hostile) {
      const response = await executionContext.run({ request_id: id as string }, () =>
        http.get(service.url),
      );
      expect(response.status).toBe(200);
    }
    expect(service.received).toHaveLength(hostile.length);
    for (const headers of service.received) {
      expect(headers).not.toHaveProperty('x-injected');
      expect(headers).not.toHaveProperty('x-request-id');
      expect(headers).not.toHaveProperty('traceparent');
      expect(headers).not.toHaveProperty('tracestate');
    }
  });

  it('passes an incoming request id on to the next service through a kernel scope', async () => {
    const service = await downstream();
    const kernel = new HttpKernel({ container: new Container(), logger: createNullLogger() });
    // An instrument makes the kernel serve each request in its own scope.
    kernel.instrument({ name: 'scope', end() {} });
    const http = createHttpClient({ baseUrl: service.url });
    kernel.router.get('/checkout', async () => (await http.get('/stock')).text());
    const res = await kernel.inject({ url: '/checkout', headers: { 'x-request-id': 'edge-42' } });
    expect(res.payload).toBe('ok');
    expect(service.received[0]).toMatchObject({ 'x-request-id': 'edge-42' });
    const minted = await kernel.inject('/checkout');
    expect(service.received[1]!['x-request-id']).toBe(minted.headers['x-request-id']);
  });
});
