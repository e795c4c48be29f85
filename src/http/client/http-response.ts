import secureJson from 'secure-json-parse';
import {
  E_HTTP_CLIENT_ABORTED,
  E_HTTP_CLIENT_INVALID_JSON,
  E_HTTP_CLIENT_NETWORK,
  E_HTTP_CLIENT_RESPONSE,
  E_HTTP_CLIENT_RESPONSE_TOO_LARGE,
  E_HTTP_CLIENT_TIMEOUT,
} from './errors.js';

/**
 * A response from the {@link HttpClient}. `json()` and `text()` read the body once (it is
 * kept, so both may be called) and refuse bodies over the client's `maxResponseBytes`;
 * `raw` is the fetch `Response`, for streaming.
 *
 * @example
 * ```ts
 * const response = await http.get('/users/1');
 * if (response.status === 404) return undefined;
 * const user = await response.json<User>();
 * ```
 */
export interface HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  /** The final URL, after redirects. */
  readonly url: string;
  /** The body parsed as JSON; an empty body (204) gives `undefined`. */
  json<T = unknown>(): Promise<T>;
  text(): Promise<string>;
  bytes(): Promise<Uint8Array>;
  readonly raw: Response;
}

/** What a response needs to know to read its body and report errors. */
export interface ResponseContext {
  readonly method: string;
  /** The redacted URL, for error messages. */
  readonly url: string;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly timeoutSignal: AbortSignal;
  readonly callerSignal: AbortSignal | undefined;
}

const SNIPPET_CHARS = 500;

export class ClientResponse implements HttpResponse {
  readonly raw: Response;
  readonly #context: ResponseContext;
  #body: Promise<Uint8Array> | undefined;

  constructor(raw: Response, context: ResponseContext) {
    this.raw = raw;
    this.#context = context;
  }

  get status(): number {
    return this.raw.status;
  }

  get ok(): boolean {
    return this.raw.ok;
  }

  get headers(): Headers {
    return this.raw.headers;
  }

  get url(): string {
    return this.raw.url;
  }

  bytes(): Promise<Uint8Array> {
    this.#body ??= this.#read();
    return this.#body;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    if (text.trim() === '') return undefined as T;
    try {
      // Another service's JSON is untrusted input: drop prototype-poisoning keys.
      return secureJson.parse(text, null, { protoAction: 'remove', constructorAction: 'remove' });
    } catch (error) {
      const { method, url } = this.#context;
      throw new E_HTTP_CLIENT_INVALID_JSON(
        method,
        url,
        this.status,
        (error as Error).message,
        clip(text),
      ).withCause(error);
    }
  }

  /** The E_HTTP_CLIENT_RESPONSE error for this (non-2xx) response, with a body excerpt. */
  async toError(): Promise<Error> {
    const { method, url } = this.#context;
    let snippet = '';
    try {
      snippet = clip(new TextDecoder().decode(await readPrefix(this.raw, SNIPPET_CHARS * 4)));
    } catch {
      // The excerpt is a courtesy: a body that fails to read must not hide the status.
    }
    return new E_HTTP_CLIENT_RESPONSE(method, url, this.status, snippet);
  }

  async #read(): Promise<Uint8Array> {
    const { method, url, maxBytes } = this.#context;
    const declared = Number(this.raw.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await this.raw.body?.cancel().catch(() => {});
      throw new E_HTTP_CLIENT_RESPONSE_TOO_LARGE(method, url, maxBytes);
    }
    const body = this.raw.body;
    if (body === null) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        // A missing or lying content-length is caught here, before the excess is buffered.
        if (total > maxBytes) {
          await reader.cancel().catch(() => {});
          throw new E_HTTP_CLIENT_RESPONSE_TOO_LARGE(method, url, maxBytes);
        }
        chunks.push(value);
      }
    } catch (error) {
      throw this.#readError(error);
    } finally {
      reader.releaseLock();
    }
    return concat(chunks, total);
  }

  #readError(error: unknown): unknown {
    if (E_HTTP_CLIENT_RESPONSE_TOO_LARGE.is(error)) return error;
    const { method, url, timeoutMs, timeoutSignal, callerSignal } = this.#context;
    if (callerSignal?.aborted) return new E_HTTP_CLIENT_ABORTED(method, url).withCause(error);
    if (timeoutSignal.aborted) {
      return new E_HTTP_CLIENT_TIMEOUT(method, url, timeoutMs).withCause(error);
    }
    return new E_HTTP_CLIENT_NETWORK(method, url, describeError(error)).withCause(error);
  }
}

/** Read at most about `limit` bytes of a body, then let go of the rest. */
async function readPrefix(response: Response, limit: number): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) return concat(chunks, total);
      chunks.push(value);
      total += value.byteLength;
    }
    await reader.cancel().catch(() => {});
    return concat(chunks, total).subarray(0, limit);
  } finally {
    reader.releaseLock();
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function clip(text: string): string {
  return text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text;
}

/** The most telling part of a fetch error: undici hides the system error in `cause`. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') {
    return typeof cause.message === 'string' ? `${cause.code} (${cause.message})` : cause.code;
  }
  if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
  return error.message || error.name;
}
