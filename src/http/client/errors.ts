import { defineError } from '../../support/index.js';

// Every URL in these messages has already been through redactUrl(): no credentials, no
// query string, no fragment, so API keys passed as `?key=` never reach a log.

export const E_HTTP_CLIENT_TIMEOUT = defineError(
  'E_HTTP_CLIENT_TIMEOUT',
  (method: string, url: string, timeoutMs: number) =>
    `${method} ${url} timed out after ${timeoutMs}ms`,
  {
    status: 504,
    help: 'Raise the timeout option if the service is slow, or check that it is reachable; idempotent requests can be retried with the retries option.',
    details: (method: string, url: string, timeoutMs: number) => ({ method, url, timeoutMs }),
  },
);

export const E_HTTP_CLIENT_NETWORK = defineError(
  'E_HTTP_CLIENT_NETWORK',
  (method: string, url: string, reason: string) => `${method} ${url} failed: ${reason}`,
  {
    status: 502,
    help: 'Check the URL, DNS and that the service is up and accepting connections; idempotent requests can be retried with the retries option.',
    details: (method: string, url: string, reason: string) => ({ method, url, reason }),
  },
);

export const E_HTTP_CLIENT_ABORTED = defineError(
  'E_HTTP_CLIENT_ABORTED',
  (method: string, url: string) => `${method} ${url} was aborted by its caller`,
  {
    status: 499,
    help: 'The AbortSignal passed in the signal option fired; nothing to fix unless it fired unexpectedly.',
    details: (method: string, url: string) => ({ method, url }),
  },
);

export const E_HTTP_CLIENT_RESPONSE = defineError(
  'E_HTTP_CLIENT_RESPONSE',
  (method: string, url: string, status: number, body: string) =>
    `${method} ${url} responded ${status}${body ? `: ${body}` : ''}`,
  {
    status: 502,
    help: 'The service refused the request: read the status and body excerpt in details; pass throwOnError: false to handle non-2xx responses yourself.',
    details: (method: string, url: string, status: number, body: string) => ({
      method,
      url,
      status,
      body,
    }),
  },
);

export const E_HTTP_CLIENT_INVALID_JSON = defineError(
  'E_HTTP_CLIENT_INVALID_JSON',
  (method: string, url: string, status: number, reason: string, _body?: string) =>
    `${method} ${url} (status ${status}) returned invalid JSON: ${reason}`,
  {
    status: 502,
    help: 'The service did not return JSON (check its content-type and the body excerpt in details); read it with text() instead of json().',
    details: (method: string, url: string, status: number, reason: string, body?: string) => ({
      method,
      url,
      status,
      reason,
      ...(body === undefined ? {} : { body }),
    }),
  },
);

export const E_HTTP_CLIENT_RESPONSE_TOO_LARGE = defineError(
  'E_HTTP_CLIENT_RESPONSE_TOO_LARGE',
  (method: string, url: string, limit: number) =>
    `${method} ${url} returned a body larger than ${limit} bytes`,
  {
    status: 502,
    help: 'Raise the maxResponseBytes option if the size is expected, or stream the body from response.raw instead of json()/text().',
    details: (method: string, url: string, limit: number) => ({ method, url, limit }),
  },
);

export const E_HTTP_CLIENT_INVALID_URL = defineError(
  'E_HTTP_CLIENT_INVALID_URL',
  (url: string, reason: string) => `Invalid request URL "${url}": ${reason}`,
  {
    status: 500,
    help: 'Pass an absolute http(s) URL, or a path together with the baseUrl option.',
  },
);

export const E_HTTP_CLIENT_INVALID_OPTIONS = defineError(
  'E_HTTP_CLIENT_INVALID_OPTIONS',
  (option: string, reason: string) => `Invalid HTTP client option "${option}": ${reason}`,
  {
    status: 500,
    help: 'Check the option against docs/http-client.md: retries is a non-negative integer or a RetryPolicy, timeouts are durations, methods are HTTP tokens.',
  },
);

export const E_HTTP_CLIENT_UNEXPECTED_REQUEST = defineError(
  'E_HTTP_CLIENT_UNEXPECTED_REQUEST',
  (method: string, url: string, registered: string[]) =>
    `Unexpected request ${method} ${url}; faked routes: ` +
    (registered.length > 0 ? registered.join(', ') : 'none'),
  {
    status: 500,
    help: 'Register a response with fake.on(method, urlPattern, response), or let unmatched requests through with fake.allowPassThrough().',
    details: (method: string, url: string, registered: string[]) => ({ method, url, registered }),
  },
);

export const E_HTTP_CLIENT_FAKE_ASSERTION = defineError(
  'E_HTTP_CLIENT_FAKE_ASSERTION',
  (expectation: string, sent: string[]) =>
    `${expectation}; requests sent: ${sent.length > 0 ? sent.join(', ') : 'none'}`,
  {
    status: 500,
    help: 'The code under test did not send the HTTP requests the test expected: compare the expectation with the requests listed.',
  },
);
