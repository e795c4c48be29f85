import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { isKeelError, type KeelError } from '../../support/index.js';
import {
  createHttpClient,
  E_HTTP_CLIENT_ABORTED,
  E_HTTP_CLIENT_INVALID_JSON,
  E_HTTP_CLIENT_INVALID_OPTIONS,
  E_HTTP_CLIENT_INVALID_URL,
  E_HTTP_CLIENT_NETWORK,
  E_HTTP_CLIENT_RESPONSE,
  E_HTTP_CLIENT_RESPONSE_TOO_LARGE,
  E_HTTP_CLIENT_TIMEOUT,
  type HttpClient,
  type HttpResponse,
} from './index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface TestServer {
  url: string;
  /** Requests received, counted server-side. */
  hits: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
}

const servers: Array<ReturnType<typeof createServer>> = [];

async function serve(handler: Handler): Promise<TestServer> {
  const hits: TestServer['hits'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits };
}

afterEach(async () => {
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

async function failure(promise: Promise<unknown>): Promise<KeelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKeelError(error)) throw new Error(`expected a Keel error, got ${String(error)}`);
  return error;
}

function json(res: ServerResponse, status: number, value: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** A sleep that records the waits asked for and returns at once. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('createHttpClient against a real server', () => {
  it('has typed methods and responses', () => {
    const http = createHttpClient();
    expectTypeOf(http).toEqualTypeOf<HttpClient>();
    expectTypeOf(http.getJson<{ id: number }>).returns.resolves.toEqualTypeOf<{ id: number }>();
    expectTypeOf(http.get).returns.resolves.toEqualTypeOf<HttpResponse>();
    expectTypeOf<HttpResponse['headers']>().toEqualTypeOf<Headers>();
  });

  it('sends a GET with base URL, query, default, propagated and request headers', async () => {
    const server = await serve((_req, res) => json(res, 200, { ok: true }, { 'x-served': 'yes' }));
    const http = createHttpClient({
      baseUrl: `${server.url}/v1/`,
      headers: { 'x-client': 'keel', 'x-override': 'client' },
      propagate: () => ({
        'x-request-id': 'req-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-override': 'propagated',
      }),
    });
    const response = await http.get('/users', {
      query: { page: 2, tags: ['a', 'b'], skip: undefined, none: null },
      headers: { 'x-request': '1' },
    });
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-served')).toBe('yes');
    expect(response.url).toBe(`${server.url}/v1/users?page=2&tags=a&tags=b`);
    expect(await response.json()).toEqual({ ok: true });
    expect(await response.text()).toBe('{"ok":true}');
    const [hit] = server.hits;
    expect(hit?.url).toBe('/v1/users?page=2&tags=a&tags=b');
    expect(hit?.headers).toMatchObject({
      'x-client': 'keel',
      'x-request': '1',
      'x-request-id': 'req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-override': 'client',
    });
  });

  it('reads the propagation hook on every request', async () => {
    const server = await serve((_req, res) => res.end());
    let id = 0;
    const http = createHttpClient({ propagate: () => ({ 'x-request-id': `r${++id}` }) });
    await http.get(server.url);
    await http.get(server.url);
    expect(server.hits.map((hit) => hit.headers['x-request-id'])).toEqual(['r1', 'r2']);
  });

  it('sends and parses JSON with the helpers', async () => {
    const server = await serve((req, res, body) =>
      json(res, 201, {
        method: req.method,
        received: req.headers['content-type'] === 'application/json' ? JSON.parse(body) : body,
      }),
    );
    const http = createHttpClient({ baseUrl: server.url });
    for (const [method, call] of [
      ['POST', http.postJson.bind(http)],
      ['PUT', http.putJson.bind(http)],
      ['PATCH', http.patchJson.bind(http)],
    ] as const) {
      const result = await call<{ method: string; received: unknown }>('items', { name: 'x' });
      expect(result).toEqual({ method, received: { name: 'x' } });
    }
    expect(server.hits[0]?.headers['content-type']).toBe('application/json');
    expect(server.hits[0]?.headers.accept).toBe('application/json');
    const others = [
      await http.delete('items/1'),
      await http.head('items/1'),
      await http.post('items', { body: 'raw', headers: { 'content-type': 'text/plain' } }),
      await http.put('items/1', { body: new URLSearchParams({ a: '1' }) }),
      await http.patch('items/1'),
      await http.request('options', 'items'),
    ];
    expect(others.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(server.hits.map((h) => h.method)).toEqual([
      ...['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'POST', 'PUT', 'PATCH', 'OPTIONS'],
    ]);
    expect(server.hits[5]?.body).toBe('raw');
    expect(server.hits[6]?.body).toBe('a=1');
  });

  it('throws E_HTTP_CLIENT_RESPONSE from JSON helpers with status, snippet and a redacted URL', async () => {
    const server = await serve((_req, res) => json(res, 404, { error: 'x'.repeat(2000) }));
    const http = createHttpClient();
    const secretUrl =
      server.url.replace('http://', 'http://ada:hunter2@') + '/users/9?token=s3cret#f';
    const error = await failure(http.getJson(secretUrl));
    expect(E_HTTP_CLIENT_RESPONSE.is(error)).toBe(true);
    expect(error.message).toContain(`GET ${server.url}/users/9 responded 404: {"error":"xxx`);
    expect(error.message).not.toMatch(/hunter2|s3cret|ada/);
    expect(error.details).toMatchObject({ status: 404, url: `${server.url}/users/9` });
    expect(String(error.details?.body).length).toBeLessThanOrEqual(501);
  });

  it('sends URL credentials as Basic authorization, never in the URL', async () => {
    const server = await serve((_req, res) => res.end());
    const http = createHttpClient();
    await http.get(server.url.replace('http://', 'http://ada:p%40ss@'));
    expect(server.hits[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('ada:p@ss').toString('base64')}`,
    );
    await http.get(server.url.replace('http://', 'http://ada:x@'), {
      headers: { authorization: 'Bearer t' },
    });
    expect(server.hits[1]?.headers.authorization).toBe('Bearer t');
  });

  it('returns non-2xx responses from the raw methods unless throwOnError is set', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/problem') return json(res, 422, { field: 'name' });
      res.writeHead(500);
      res.end('boom');
    });
    const response = await createHttpClient().get(server.url);
    expect(response.ok).toBe(false);
    expect(await response.text()).toBe('boom');
    const strict = createHttpClient({ throwOnError: true });
    const error = await failure(strict.get(server.url));
    expect(error.message).toBe(`GET ${server.url}/ responded 500: boom`);
    const relaxed = await strict.getJson(`${server.url}/problem`, { throwOnError: false });
    expect(relaxed).toEqual({ field: 'name' });
  });

  it('reports invalid JSON and returns undefined for an empty body', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>not json</html>');
      }
    });
    const http = createHttpClient({ baseUrl: server.url });
    const error = await failure(http.getJson('/bad?key=secret'));
    expect(E_HTTP_CLIENT_INVALID_JSON.is(error)).toBe(true);
    expect(error.message).toContain(`GET ${server.url}/bad (status 200) returned invalid JSON`);
    expect(error.details?.body).toBe('<html>not json</html>');
    expect(await http.getJson('/empty')).toBeUndefined();
  });

  it('drops prototype-poisoning keys from JSON responses', async () => {
    const server = await serve((_req, res) => {
      res.end('{"a":1,"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}');
    });
    const result = await createHttpClient().getJson<Record<string, unknown>>(server.url);
    expect(result).toEqual({ a: 1 });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('timeouts and aborts', () => {
  it('times out a request that gets no response, naming method and URL without the query', async () => {
    const server = await serve(() => {
      /* never answers */
    });
    const http = createHttpClient({ timeout: 50 });
    const error = await failure(http.post(`${server.url}/slow?sig=abc`, { body: 'x' }));
    expect(E_HTTP_CLIENT_TIMEOUT.is(error)).toBe(true);
    expect(error.message).toBe(`POST ${server.url}/slow timed out after 50ms`);
  });

  it('times out while reading a body that stalls', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const response = await createHttpClient({ timeout: '100ms' }).get(server.url);
    const error = await failure(response.text());
    expect(E_HTTP_CLIENT_TIMEOUT.is(error)).toBe(true);
  });

  it("combines the timeout with the caller's signal", async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    const pending = createHttpClient({ timeout: '10s' }).get(server.url, {
      signal: controller.signal,
    });
    while (server.hits.length === 0) await wait(5);
    controller.abort();
    const error = await failure(pending);
    expect(E_HTTP_CLIENT_ABORTED.is(error)).toBe(true);
  });

  it('aborts while reading the body when the caller aborts', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const controller = new AbortController();
    const response = await createHttpClient().get(server.url, { signal: controller.signal });
    controller.abort();
    expect(E_HTTP_CLIENT_ABORTED.is(await failure(response.text()))).toBe(true);
  });

  it('does not send a request whose signal is already aborted', async () => {
    const server = await serve((_req, res) => res.end());
    const error = await failure(
      createHttpClient().get(server.url, { signal: AbortSignal.abort() }),
    );
    expect(E_HTTP_CLIENT_ABORTED.is(error)).toBe(true);
    expect(server.hits).toHaveLength(0);
  });

  it('stops waiting between retries when the caller aborts', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const controller = new AbortController();
    const http = createHttpClient({
      retries: 3,
      sleep: (ms, signal) => {
        controller.abort();
        return wait(ms, undefined, { signal });
      },
    });
    const error = await failure(http.get(server.url, { signal: controller.signal }));
    expect(E_HTTP_CLIENT_ABORTED.is(error)).toBe(true);
    expect(server.hits).toHaveLength(1);
  });
});

describe('retries', () => {
  /** A server failing the first `failures` requests with `status`, then answering JSON. */
  function flaky(failures: number, status = 503, headers: Record<string, string> = {}) {
    let left = failures;
    return serve((_req, res) => {
      if (left-- > 0) {
        res.writeHead(status, headers);
        res.end('try later');
      } else {
        json(res, 200, { done: true });
      }
    });
  }

  it('retries 5xx with exponential backoff and full jitter, counting attempts server-side', async () => {
    const server = await flaky(2);
    const { waits, sleep } = recordingSleep();
    const http = createHttpClient({
      retries: { retries: 3, baseDelay: 100, maxDelay: '1s' },
      sleep,
      random: () => 0.5,
    });
    expect(await http.getJson(server.url)).toEqual({ done: true });
    expect(server.hits).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
  });

  it('gives up after the last retry and returns (or throws) the last response', async () => {
    const server = await flaky(10, 502);
    const { waits, sleep } = recordingSleep();
    const http = createHttpClient({ retries: 2, sleep });
    expect((await http.get(server.url)).status).toBe(502);
    expect(server.hits).toHaveLength(3);
    const error = await failure(http.getJson(server.url));
    expect(error.details).toMatchObject({ status: 502, body: 'try later' });
    expect(waits.every((ms) => ms >= 0 && ms < 10_000)).toBe(true);
  });

  it('retries 429 honouring Retry-After in seconds', async () => {
    const server = await flaky(1, 429, { 'retry-after': '2' });
    const { waits, sleep } = recordingSleep();
    await createHttpClient({ retries: 1, sleep }).get(server.url);
    expect(server.hits).toHaveLength(2);
    expect(waits).toEqual([2000]);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const at = new Date(Date.now() + 10_000).toUTCString();
    const server = await flaky(1, 503, { 'retry-after': at });
    const { waits, sleep } = recordingSleep();
    await createHttpClient({ retries: 1, sleep }).get(server.url);
    expect(server.hits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThan(8000);
    expect(waits[0]).toBeLessThanOrEqual(10_000);
  });

  it('does not retry when Retry-After exceeds the cap', async () => {
    const server = await flaky(1, 429, { 'retry-after': '3600' });
    const { waits, sleep } = recordingSleep();
    const http = createHttpClient({ retries: { retries: 3, maxRetryAfter: '1m' }, sleep });
    const response = await http.get(server.url);
    expect(response.status).toBe(429);
    expect(server.hits).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('does not retry other 4xx statuses', async () => {
    const server = await flaky(1, 409);
    const response = await createHttpClient({ retries: 3, sleep: async () => {} }).get(server.url);
    expect(response.status).toBe(409);
    expect(server.hits).toHaveLength(1);
  });

  it('retries POST only with an Idempotency-Key', async () => {
    const plain = await flaky(1);
    const http = createHttpClient({ retries: 2, sleep: async () => {} });
    expect((await http.post(plain.url, { body: 'x' })).status).toBe(503);
    expect(plain.hits).toHaveLength(1);

    const keyed = await flaky(1);
    const response = await http.post(keyed.url, {
      body: 'x',
      headers: { 'Idempotency-Key': 'k-1' },
    });
    expect(response.status).toBe(200);
    expect(keyed.hits.map((hit) => [hit.body, hit.headers['idempotency-key']])).toEqual([
      ['x', 'k-1'],
      ['x', 'k-1'],
    ]);
  });

  it('never retries a streamed body', async () => {
    const server = await flaky(1);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await createHttpClient({ retries: 2, sleep: async () => {} }).put(server.url, {
      body,
    });
    expect(response.status).toBe(503);
    expect(server.hits.map((hit) => hit.body)).toEqual(['streamed']);
  });

  it('retries network errors, with the default sleep', async () => {
    let attempts = 0;
    const server = await serve((req, res) => {
      attempts++;
      if (attempts < 3) req.socket.destroy();
      else res.end('finally');
    });
    const http = createHttpClient({ retries: { retries: 2, baseDelay: 1 } });
    expect(await (await http.get(server.url)).text()).toBe('finally');
    expect(attempts).toBe(3);
  });

  it('reports a network error once retries are spent', async () => {
    const server = await serve((req) => req.socket.destroy());
    const error = await failure(createHttpClient().get(`${server.url}/x?k=v`));
    expect(E_HTTP_CLIENT_NETWORK.is(error)).toBe(true);
    expect(error.message).toMatch(new RegExp(`^GET ${server.url}/x failed: `));
    expect(server.hits).toHaveLength(1);
  });

  it('reports a refused connection', async () => {
    const server = await serve(() => {});
    const closed = servers.pop()!;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(createHttpClient().get(server.url));
    expect(E_HTTP_CLIENT_NETWORK.is(error)).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('retries a timed-out idempotent request', async () => {
    let attempts = 0;
    const server = await serve((_req, res) => {
      attempts++;
      if (attempts > 1) res.end('ok');
    });
    const http = createHttpClient({ timeout: 50, retries: 1, sleep: async () => {} });
    expect((await http.get(server.url)).status).toBe(200);
    expect(attempts).toBe(2);
  });
});

describe('response size limits', () => {
  it('refuses a declared content-length over the limit without reading it', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '2048' });
      res.end('x'.repeat(2048));
    });
    const http = createHttpClient({ maxResponseBytes: 1024 });
    const error = await failure(http.getJson(`${server.url}/big?t=1`));
    expect(E_HTTP_CLIENT_RESPONSE_TOO_LARGE.is(error)).toBe(true);
    expect(error.message).toBe(`GET ${server.url}/big returned a body larger than 1024 bytes`);
  });

  it('stops reading a chunked body once it passes the limit', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 8; i++) res.write('y'.repeat(512));
      res.end();
    });
    const response = await createHttpClient().get(server.url, { maxResponseBytes: 1000 });
    expect(E_HTTP_CLIENT_RESPONSE_TOO_LARGE.is(await failure(response.text()))).toBe(true);
    const small = await createHttpClient().get(server.url, { maxResponseBytes: 4096 });
    expect((await small.bytes()).byteLength).toBe(4096);
  });

  it('applies a 10 MiB default', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'z');
    const server = await serve((_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(chunk);
      res.end('!');
    });
    const error = await failure(
      createHttpClient()
        .get(server.url)
        .then((r) => r.text()),
    );
    expect(error.details).toMatchObject({ limit: 10 * 1024 * 1024 });
  });
});

describe('options', () => {
  it('layers options with withOptions, merging headers', async () => {
    const server = await serve((_req, res) => res.end());
    const base = createHttpClient({
      baseUrl: 'http://unused.invalid',
      headers: { a: '1', b: '1' },
    });
    const derived = base.withOptions({ baseUrl: server.url, headers: { b: '2' } });
    await derived.get('/x');
    expect(server.hits[0]?.headers).toMatchObject({ a: '1', b: '2' });
  });

  it('refuses invalid options and URLs with clear errors', async () => {
    expect(() => createHttpClient({ retries: -1 })).toThrow(E_HTTP_CLIENT_INVALID_OPTIONS);
    expect(() => createHttpClient({ retries: 1.5 })).toThrow(E_HTTP_CLIENT_INVALID_OPTIONS);
    expect(() => createHttpClient({ maxResponseBytes: 0 })).toThrow(E_HTTP_CLIENT_INVALID_OPTIONS);
    expect(() => createHttpClient({ timeout: 'soon' })).toThrow('Invalid duration');
    const http = createHttpClient();
    const bad = await failure(http.request('GE T', 'http://x.test'));
    expect(E_HTTP_CLIENT_INVALID_OPTIONS.is(bad)).toBe(true);
    for (const url of ['/relative', 'ftp://x.test/file', 'http://', 'file:///etc/passwd']) {
      expect(E_HTTP_CLIENT_INVALID_URL.is(await failure(http.get(url)))).toBe(true);
    }
  });
});
