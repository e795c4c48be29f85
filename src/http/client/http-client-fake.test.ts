import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isKeelError, type KeelError } from '../../support/index.js';
import {
  createHttpClient,
  E_HTTP_CLIENT_FAKE_ASSERTION,
  E_HTTP_CLIENT_NETWORK,
  E_HTTP_CLIENT_TIMEOUT,
  E_HTTP_CLIENT_UNEXPECTED_REQUEST,
  HttpClientFake,
} from './index.js';

async function failure(promise: Promise<unknown>): Promise<KeelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKeelError(error)) throw new Error(`expected a Keel error, got ${String(error)}`);
  return error;
}

function caught(fn: () => void): KeelError {
  try {
    fn();
  } catch (error) {
    if (isKeelError(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('HttpClientFake', () => {
  it('answers registered routes with wildcards and records requests', async () => {
    const fake = HttpClientFake.create();
    fake.on('GET', 'https://api.x/users/*', { status: 200, json: { id: 1 } });
    fake.on('post', 'https://api.x/users', { status: 201, json: { created: true } });
    const http = createHttpClient({ fetch: fake.fetch, baseUrl: 'https://api.x' });

    expect(await http.getJson('/users/1', { query: { expand: 'roles' } })).toEqual({ id: 1 });
    expect(await http.postJson('/users', { name: 'Ada' })).toEqual({ created: true });

    fake.assertSent('GET', 'https://api.x/users/*');
    fake.assertSent('GET', 'https://api.x/users/1?expand=roles');
    fake.assertSent('POST', 'https://api.x/users', (request) => {
      return (
        request.json<{ name: string }>().name === 'Ada' &&
        request.headers.get('content-type') === 'application/json'
      );
    });
    fake.assertSentCount('*', '*', 2);
    fake.assertNotSent('DELETE', '*');
    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET https://api.x/users/1?expand=roles',
      'POST https://api.x/users',
    ]);
    expect(fake.sent('POST')[0]?.body).toBe('{"name":"Ada"}');
  });

  it('fails assertions with the requests that were sent', async () => {
    const fake = HttpClientFake.create().on('*', /\/ping$/, { body: 'pong' });
    fake.assertNothingSent();
    const http = createHttpClient({ fetch: fake.fetch });
    expect(await (await http.get('https://svc.test/ping')).text()).toBe('pong');

    const missing = caught(() => fake.assertSent('POST', 'https://svc.test/*'));
    expect(E_HTTP_CLIENT_FAKE_ASSERTION.is(missing)).toBe(true);
    expect(missing.message).toBe(
      'Expected a request POST https://svc.test/*; requests sent: GET https://svc.test/ping',
    );
    expect(() => fake.assertSent('GET', '*', () => false)).toThrow('matching the predicate');
    expect(() => fake.assertNothingSent()).toThrow('Expected no requests');
    expect(() => fake.assertNotSent('GET', '*/ping')).toThrow(E_HTTP_CLIENT_FAKE_ASSERTION);
    expect(() => fake.assertSentCount('GET', '*', 2)).toThrow('Expected 2 requests GET *, got 1');
  });

  it('throws E_HTTP_CLIENT_UNEXPECTED_REQUEST for unmatched requests, without retrying', async () => {
    const fake = HttpClientFake.create().on('GET', 'https://api.x/known', { status: 204 });
    const http = createHttpClient({ fetch: fake.fetch, retries: 3, sleep: async () => {} });
    const error = await failure(http.get('https://u:p@api.x/unknown?q=1'));
    expect(E_HTTP_CLIENT_UNEXPECTED_REQUEST.is(error)).toBe(true);
    expect(error.message).toBe(
      'Unexpected request GET https://api.x/unknown?q=1; faked routes: GET https://api.x/known',
    );
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.headers.get('authorization')).toMatch(/^Basic /);
    const empty = HttpClientFake.create();
    const none = await failure(createHttpClient({ fetch: empty.fetch }).get('https://a.test/'));
    expect(none.message).toContain('faked routes: none');
  });

  it('passes unmatched requests through when allowed', async () => {
    const server = createServer((req, res) => res.end(`real ${req.method}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const fake = HttpClientFake.create({ passThrough: true }).on('GET', `${url}/faked`, {
        body: 'fake',
      });
      const http = createHttpClient({ fetch: fake.fetch });
      expect(await (await http.get(`${url}/faked`)).text()).toBe('fake');
      expect(await (await http.post(`${url}/real`, { body: 'x' })).text()).toBe('real POST');

      const later = HttpClientFake.create().allowPassThrough();
      expect(await (await createHttpClient({ fetch: later.fetch }).get(url)).text()).toBe(
        'real GET',
      );
      later.reset();
      expect(
        E_HTTP_CLIENT_UNEXPECTED_REQUEST.is(
          await failure(createHttpClient({ fetch: later.fetch }).get(url)),
        ),
      ).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers in sequence, the last response repeating, so retries can be faked', async () => {
    const fake = HttpClientFake.create().on('GET', 'https://api.x/flaky', [
      { status: 503 },
      () => {
        throw new TypeError('fetch failed');
      },
      { status: 200, json: { ok: 1 } },
    ]);
    const http = createHttpClient({ fetch: fake.fetch, retries: 5, sleep: async () => {} });
    expect(await http.getJson('https://api.x/flaky')).toEqual({ ok: 1 });
    expect(await http.getJson('https://api.x/flaky')).toEqual({ ok: 1 });
    fake.assertSentCount('GET', 'https://api.x/flaky', 4);

    const down = HttpClientFake.create().on('GET', '*', () => {
      throw new TypeError('fetch failed');
    });
    const error = await failure(createHttpClient({ fetch: down.fetch }).get('https://a.test'));
    expect(E_HTTP_CLIENT_NETWORK.is(error)).toBe(true);
  });

  it('lets later routes override earlier ones and answers with handlers and Responses', async () => {
    const fake = HttpClientFake.create()
      .on('GET', 'https://api.x/*', { status: 500 })
      .on('GET', 'https://api.x/me', (request) => ({
        json: { agent: request.headers.get('x-agent') },
        headers: { 'x-fake': '1' },
      }))
      .on('GET', 'https://api.x/raw', new Response('raw body', { status: 202 }))
      .on('GET', 'https://api.x/gone', { status: 204, json: { ignored: true } });
    const http = createHttpClient({ fetch: fake.fetch, headers: { 'x-agent': 'keel' } });
    const me = await http.get('https://api.x/me');
    expect(me.headers.get('x-fake')).toBe('1');
    expect(await me.json()).toEqual({ agent: 'keel' });
    const raw = await http.get('https://api.x/raw');
    expect([raw.status, await raw.text()]).toEqual([202, 'raw body']);
    expect(await http.getJson('https://api.x/gone')).toBeUndefined();
    expect((await http.get('https://api.x/other')).status).toBe(500);
  });

  it('honours the request signal, so timeouts work against the fake', async () => {
    const fake = HttpClientFake.create().on('GET', '*', () => new Promise<never>(() => {}));
    const http = createHttpClient({ fetch: fake.fetch, timeout: 20 });
    const error = await failure(http.get('https://slow.test/x'));
    expect(E_HTTP_CLIENT_TIMEOUT.is(error)).toBe(true);
    await expect(
      fake.fetch('https://slow.test', { signal: AbortSignal.abort() }),
    ).rejects.toThrow();
  });

  it('refuses a route without responses', () => {
    expect(() => HttpClientFake.create().on('GET', '*', [])).toThrow('at least one response');
  });
});
