import { setTimeout as wait } from 'node:timers/promises';
import { isKeelError, parseDuration } from '../../support/index.js';
import { addContextHeaders } from './context-headers.js';
import {
  E_HTTP_CLIENT_ABORTED,
  E_HTTP_CLIENT_INVALID_OPTIONS,
  E_HTTP_CLIENT_NETWORK,
  E_HTTP_CLIENT_TIMEOUT,
} from './errors.js';
import { ClientResponse, describeError, type HttpResponse } from './http-response.js';
import { buildUrl, type QueryParams, redactUrl } from './request-url.js';
import {
  backoffDelay,
  isIdempotent,
  parseRetryAfter,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry-policy.js';

/** A request body fetch accepts: string, bytes, Blob, FormData, URLSearchParams, stream. */
export type RequestBody = NonNullable<RequestInit['body']>;

/** Options of one request; they override the client's. */
export interface HttpRequestOptions {
  headers?: Record<string, string>;
  /** Appended to the URL's query string; `undefined`/`null` values are left out. */
  query?: QueryParams;
  /** A raw body. Streams are sent once and never retried. */
  body?: RequestBody;
  /** A body serialised as JSON, with `content-type: application/json` unless set. */
  json?: unknown;
  /** Per attempt, from sending to the end of reading the body. Default 30s. */
  timeout?: number | string;
  retries?: number | RetryPolicy;
  /** Cancels the request (and any backoff wait) when it fires. */
  signal?: AbortSignal;
  /** Throw E_HTTP_CLIENT_RESPONSE for a non-2xx status. Default false, true for the JSON helpers. */
  throwOnError?: boolean;
  /** The most `json()`/`text()`/`bytes()` will read. Default 10 MiB. */
  maxResponseBytes?: number;
}

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** Prefix for relative URLs: `baseUrl: 'https://api.x/v1'` makes `get('/users')` go to `/v1/users`. */
  baseUrl?: string;
  /** Per attempt; a number of milliseconds or a duration such as `'5s'`. Default 30s. */
  timeout?: number | string;
  /** Retries of idempotent requests on network errors, 429 and 5xx. Default none. */
  retries?: number | RetryPolicy;
  /** Sent with every request; per-request headers win. */
  headers?: Record<string, string>;
  /** The fetch to use: a {@link HttpClientFake}'s in tests. Default the global fetch. */
  fetch?: typeof fetch;
  /**
   * Headers to add to every request, read when it is sent (a tenant header, a token that
   * rotates). Explicit headers win.
   */
  propagate?: () => Record<string, string>;
  /**
   * Inside an execution scope (a request served with an instrument, a job), send its
   * `x-request-id` and the tracing propagator's `traceparent`/`tracestate`, so the next
   * service logs and traces the same work. Headers the caller set win. Default true.
   */
  propagateContext?: boolean;
  throwOnError?: boolean;
  maxResponseBytes?: number;
  /** How backoff waits; tests pass a function that records and returns at once. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * An outgoing HTTP client on fetch, with timeouts, retries with backoff, JSON helpers, body
 * size limits and errors that name the method and (redacted) URL.
 *
 * @example
 * ```ts
 * const github = createHttpClient({ baseUrl: 'https://api.github.com', timeout: '5s', retries: 2 });
 * const repo = await github.getJson<Repo>('/repos/keel/keel');
 * await github.postJson('/repos/keel/keel/issues', { title: 'Hi' }, { headers: { 'idempotency-key': id } });
 * ```
 */
export interface HttpClient {
  request(method: string, url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  get(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  head(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  post(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  put(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  patch(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  delete(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  /** GET with `accept: application/json`, throwing on non-2xx, returning the parsed body. */
  getJson<T = unknown>(url: string | URL, options?: HttpRequestOptions): Promise<T>;
  /** POST `body` as JSON, throwing on non-2xx, returning the parsed response body. */
  postJson<T = unknown>(url: string | URL, body: unknown, options?: HttpRequestOptions): Promise<T>;
  putJson<T = unknown>(url: string | URL, body: unknown, options?: HttpRequestOptions): Promise<T>;
  patchJson<T = unknown>(
    url: string | URL,
    body: unknown,
    options?: HttpRequestOptions,
  ): Promise<T>;
  /** A client with these options layered over this one's (headers are merged). */
  withOptions(options: HttpClientOptions): HttpClient;
}

const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
// RFC 9110 §5.6.2 token: what a method may be made of.
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Create an {@link HttpClient}.
 *
 * @example
 * ```ts
 * const http = createHttpClient({ baseUrl: 'https://api.x', timeout: '10s', retries: 3 });
 * const users = await http.getJson<User[]>('/users', { query: { page: 2 } });
 * ```
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  return new FetchHttpClient(options);
}

class FetchHttpClient implements HttpClient {
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    // Validate once here, so a bad configuration fails at boot rather than on first use.
    resolveRetryPolicy(options.retries);
    if (options.timeout !== undefined) parseDuration(options.timeout);
    checkMaxBytes(options.maxResponseBytes);
    this.#options = options;
  }

  get(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('GET', url, options);
  }

  head(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('HEAD', url, options);
  }

  post(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('POST', url, options);
  }

  put(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PUT', url, options);
  }

  patch(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PATCH', url, options);
  }

  delete(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('DELETE', url, options);
  }

  getJson<T = unknown>(url: string | URL, options: HttpRequestOptions = {}): Promise<T> {
    return this.#json<T>('GET', url, options);
  }

  postJson<T = unknown>(url: string | URL, body: unknown, options: HttpRequestOptions = {}) {
    return this.#json<T>('POST', url, { ...options, json: body });
  }

  putJson<T = unknown>(url: string | URL, body: unknown, options: HttpRequestOptions = {}) {
    return this.#json<T>('PUT', url, { ...options, json: body });
  }

  patchJson<T = unknown>(url: string | URL, body: unknown, options: HttpRequestOptions = {}) {
    return this.#json<T>('PATCH', url, { ...options, json: body });
  }

  withOptions(options: HttpClientOptions): HttpClient {
    return new FetchHttpClient({
      ...this.#options,
      ...options,
      headers: { ...this.#options.headers, ...options.headers },
    });
  }

  async request(
    method: string,
    url: string | URL,
    options: HttpRequestOptions = {},
  ): Promise<HttpResponse> {
    const client = this.#options;
    if (typeof method !== 'string' || !METHOD_TOKEN.test(method)) {
      throw new E_HTTP_CLIENT_INVALID_OPTIONS(
        'method',
        `"${String(method)}" is not an HTTP method`,
      );
    }
    const verb = method.toUpperCase();
    const target = buildUrl(client.baseUrl, url, options.query);
    const safeUrl = redactUrl(target);
    const headers = new Headers(client.headers);
    // fetch refuses URLs with credentials; send them the way browsers and curl do.
    if (target.username !== '' || target.password !== '') {
      const user = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
      headers.set('authorization', `Basic ${Buffer.from(user).toString('base64')}`);
      target.username = '';
      target.password = '';
    }
    for (const [name, value] of Object.entries(client.propagate?.() ?? {})) {
      if (!headers.has(name)) headers.set(name, value);
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    // Last, so that any header the caller set (client default, hook or per request) wins.
    if (client.propagateContext !== false) addContextHeaders(headers);
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const stream = body instanceof ReadableStream;
    const policy = resolveRetryPolicy(options.retries ?? client.retries);
    // A stream is consumed by the first attempt and cannot be sent again.
    const retryable = policy.retries > 0 && !stream && isIdempotent(verb, headers);
    const timeoutMs = parseDuration(options.timeout ?? client.timeout ?? DEFAULT_TIMEOUT);
    const maxBytes = checkMaxBytes(options.maxResponseBytes) ?? client.maxResponseBytes;
    const throwOnError = options.throwOnError ?? client.throwOnError ?? false;
    const doFetch = client.fetch ?? globalThis.fetch;
    const caller = options.signal;
    const random = client.random ?? Math.random;

    for (let attempt = 0; ; attempt++) {
      if (caller?.aborted) throw new E_HTTP_CLIENT_ABORTED(verb, safeUrl).withCause(caller.reason);
      const timeoutSignal = AbortSignal.timeout(timeoutMs);
      const signal = caller ? AbortSignal.any([caller, timeoutSignal]) : timeoutSignal;
      const init: RequestInit & { duplex?: 'half' } = { method: verb, headers, signal };
      if (body !== undefined) init.body = body;
      if (stream) init.duplex = 'half';
      const canRetry = retryable && attempt < policy.retries;

      let raw: Response;
      try {
        raw = await doFetch(target, init);
      } catch (error) {
        // A Keel error comes from a fake fetch (an unexpected request): never retried.
        if (isKeelError(error)) throw error;
        if (caller?.aborted) throw new E_HTTP_CLIENT_ABORTED(verb, safeUrl).withCause(error);
        const failure = timeoutSignal.aborted
          ? new E_HTTP_CLIENT_TIMEOUT(verb, safeUrl, timeoutMs)
          : new E_HTTP_CLIENT_NETWORK(verb, safeUrl, describeError(error));
        if (!canRetry) throw failure.withCause(error);
        await this.#pause(backoffDelay(policy, attempt, random), verb, safeUrl, caller);
        continue;
      }

      if (canRetry && policy.retryOn(raw.status)) {
        const delay = retryDelay(raw, policy, attempt, random);
        if (delay !== undefined) {
          // Release the connection: an unread body keeps the socket from going back to the pool.
          await raw.body?.cancel().catch(() => {});
          await this.#pause(delay, verb, safeUrl, caller);
          continue;
        }
      }

      const response = new ClientResponse(raw, {
        method: verb,
        url: safeUrl,
        maxBytes: maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        timeoutMs,
        timeoutSignal,
        callerSignal: caller,
      });
      if (throwOnError && !raw.ok) throw await response.toError();
      return response;
    }
  }

  async #json<T>(method: string, url: string | URL, options: HttpRequestOptions): Promise<T> {
    const response = await this.request(method, url, {
      ...options,
      headers: { accept: 'application/json', ...options.headers },
      throwOnError: options.throwOnError ?? true,
    });
    return response.json<T>();
  }

  async #pause(ms: number, method: string, url: string, caller: AbortSignal | undefined) {
    const sleep = this.#options.sleep ?? defaultSleep;
    try {
      await sleep(ms, caller);
    } catch (error) {
      if (caller?.aborted) throw new E_HTTP_CLIENT_ABORTED(method, url).withCause(error);
      throw error;
    }
  }
}

/** The wait before the next attempt, or undefined when Retry-After asks for too long. */
function retryDelay(
  response: Response,
  policy: ResolvedRetryPolicy,
  attempt: number,
  random: () => number,
): number | undefined {
  const asked = parseRetryAfter(response.headers.get('retry-after'));
  if (asked === undefined) return backoffDelay(policy, attempt, random);
  return asked <= policy.maxRetryAfter ? asked : undefined;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, signal ? { signal } : {});
}

function checkMaxBytes(value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new E_HTTP_CLIENT_INVALID_OPTIONS('maxResponseBytes', 'expected a positive integer');
  }
  return value;
}
