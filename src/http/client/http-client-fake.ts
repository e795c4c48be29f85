import type { Awaitable } from '../../support/index.js';
import { E_HTTP_CLIENT_FAKE_ASSERTION, E_HTTP_CLIENT_UNEXPECTED_REQUEST } from './errors.js';

/** A request the fake received, with its body already read as text. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

/** A canned response: `json` is serialised with `content-type: application/json`. */
export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
}

/**
 * What a faked route answers: a canned response, a `Response`, or a function of the
 * request (which may throw, e.g. `new TypeError('fetch failed')` to act as a network error).
 */
export type FakeHandler =
  | FakeResponse
  | Response
  | ((request: RecordedRequest) => Awaitable<FakeResponse | Response>);

/** A URL pattern: `*` matches any run of characters; without `?`, the query is ignored. */
export type UrlPattern = string | RegExp;

interface Route {
  readonly method: string;
  readonly pattern: UrlPattern;
  readonly matches: (url: URL) => boolean;
  readonly handlers: readonly FakeHandler[];
  calls: number;
}

// Statuses whose responses must not have a body (the Response constructor refuses one).
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * A fetch for tests: answers requests from registered routes, records every request, and
 * throws `E_HTTP_CLIENT_UNEXPECTED_REQUEST` for anything unregistered, so a test never
 * reaches the network by accident. Plug it in as the client's `fetch` option.
 *
 * Routes registered later win over earlier ones, so a test can override a shared default.
 * Given a list of handlers, a route answers with them in turn, the last one repeating.
 *
 * @example
 * ```ts
 * const fake = HttpClientFake.create();
 * fake.on('GET', 'https://api.x/users/*', { status: 200, json: { id: 1 } });
 * const http = createHttpClient({ fetch: fake.fetch });
 * await http.getJson('https://api.x/users/1');
 * fake.assertSent('GET', 'https://api.x/users/1');
 * ```
 */
export class HttpClientFake {
  readonly #routes: Route[] = [];
  readonly #requests: RecordedRequest[] = [];
  #passThrough: typeof fetch | undefined;

  /** The fetch function to hand to `createHttpClient({ fetch })`. */
  readonly fetch: typeof fetch = (input, init) => this.#handle(new Request(input, init));

  private constructor(passThrough: typeof fetch | undefined) {
    this.#passThrough = passThrough;
  }

  /** A new fake; `passThrough: true` sends unmatched requests to the real global fetch. */
  static create(options: { passThrough?: boolean | typeof fetch } = {}): HttpClientFake {
    const { passThrough } = options;
    return new HttpClientFake(passThrough === true ? globalThis.fetch : passThrough || undefined);
  }

  /** Answer `method` (or `'*'` for any) requests to URLs matching `pattern`. */
  on(method: string, pattern: UrlPattern, response: FakeHandler | readonly FakeHandler[]): this {
    const handlers = Array.isArray(response) ? response : [response as FakeHandler];
    if (handlers.length === 0) throw new TypeError('HttpClientFake.on needs at least one response');
    this.#routes.unshift({
      method: method.toUpperCase(),
      pattern,
      matches: compilePattern(pattern),
      handlers,
      calls: 0,
    });
    return this;
  }

  /** Send unmatched requests to `fetch` (the global one by default) instead of throwing. */
  allowPassThrough(realFetch: typeof fetch = globalThis.fetch): this {
    this.#passThrough = realFetch;
    return this;
  }

  /** Every request received, in order, matched or not. */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** The requests matching `method` (or `'*'`), `pattern` and `predicate`. */
  sent(
    method = '*',
    pattern: UrlPattern = '*',
    predicate?: (request: RecordedRequest) => boolean,
  ): RecordedRequest[] {
    const matches = compilePattern(pattern);
    const verb = method.toUpperCase();
    return this.#requests.filter(
      (request) =>
        (verb === '*' || request.method === verb) &&
        matches(new URL(request.url)) &&
        (predicate === undefined || predicate(request)),
    );
  }

  /** Throw unless at least one matching request was sent. */
  assertSent(
    method: string,
    pattern: UrlPattern,
    predicate?: (request: RecordedRequest) => boolean,
  ): void {
    if (this.sent(method, pattern, predicate).length === 0) {
      const what = `${method.toUpperCase()} ${String(pattern)}`;
      this.#fail(`Expected a request ${what}${predicate ? ' matching the predicate' : ''}`);
    }
  }

  /** Throw unless exactly `count` matching requests were sent. */
  assertSentCount(method: string, pattern: UrlPattern, count: number): void {
    const actual = this.sent(method, pattern).length;
    if (actual !== count) {
      this.#fail(
        `Expected ${count} requests ${method.toUpperCase()} ${String(pattern)}, got ${actual}`,
      );
    }
  }

  /** Throw if any matching request was sent. */
  assertNotSent(
    method: string,
    pattern: UrlPattern,
    predicate?: (request: RecordedRequest) => boolean,
  ): void {
    if (this.sent(method, pattern, predicate).length > 0) {
      this.#fail(`Expected no request ${method.toUpperCase()} ${String(pattern)}`);
    }
  }

  /** Throw if any request at all was sent. */
  assertNothingSent(): void {
    if (this.#requests.length > 0) this.#fail('Expected no requests');
  }

  /** Forget routes, recorded requests and pass-through. */
  reset(): void {
    this.#routes.length = 0;
    this.#requests.length = 0;
    this.#passThrough = undefined;
  }

  async #handle(request: Request): Promise<Response> {
    throwIfAborted(request.signal);
    // Read a copy, so the original can still be forwarded with its body.
    const body = await request.clone().text();
    const recorded = record(request, body);
    this.#requests.push(recorded);
    const url = new URL(request.url);
    const route = this.#routes.find(
      (candidate) =>
        (candidate.method === '*' || candidate.method === request.method) && candidate.matches(url),
    );
    if (route === undefined) {
      if (this.#passThrough) return this.#passThrough(request);
      throw new E_HTTP_CLIENT_UNEXPECTED_REQUEST(
        request.method,
        withoutCredentials(url),
        this.#routes.map((r) => `${r.method} ${String(r.pattern)}`).reverse(),
      );
    }
    const handler = route.handlers[Math.min(route.calls, route.handlers.length - 1)]!;
    route.calls++;
    const answer = typeof handler === 'function' ? handler(recorded) : handler;
    const response = await abortable(Promise.resolve(answer), request.signal);
    return response instanceof Response ? response : toResponse(response);
  }

  #fail(expectation: string): never {
    throw new E_HTTP_CLIENT_FAKE_ASSERTION(
      expectation,
      this.#requests.map((r) => `${r.method} ${r.url}`),
    );
  }
}

function compilePattern(pattern: UrlPattern): (url: URL) => boolean {
  if (pattern instanceof RegExp) return (url) => pattern.test(url.href);
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`);
  const withQuery = pattern.includes('?');
  return (url) => regex.test(withQuery ? url.href : `${url.origin}${url.pathname}`);
}

function record(request: Request, body: string): RecordedRequest {
  return {
    method: request.method,
    url: request.url,
    headers: new Headers(request.headers),
    body,
    json<T>(): T {
      return JSON.parse(body) as T;
    },
  };
}

function toResponse(fake: FakeResponse): Response {
  const status = fake.status ?? 200;
  const headers = new Headers(fake.headers);
  let body: string | Uint8Array | null = fake.body ?? null;
  if (fake.json !== undefined) {
    body = JSON.stringify(fake.json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  return new Response(NULL_BODY.has(status) ? null : body, { status, headers });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** Settle with `promise`, or reject with the signal's reason if it fires first (like fetch). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function withoutCredentials(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}
