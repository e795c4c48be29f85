export {
  E_HTTP_CLIENT_ABORTED,
  E_HTTP_CLIENT_FAKE_ASSERTION,
  E_HTTP_CLIENT_INVALID_JSON,
  E_HTTP_CLIENT_INVALID_OPTIONS,
  E_HTTP_CLIENT_INVALID_URL,
  E_HTTP_CLIENT_NETWORK,
  E_HTTP_CLIENT_RESPONSE,
  E_HTTP_CLIENT_RESPONSE_TOO_LARGE,
  E_HTTP_CLIENT_TIMEOUT,
  E_HTTP_CLIENT_UNEXPECTED_REQUEST,
} from './errors.js';
export {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequestOptions,
  type RequestBody,
} from './http-client.js';
export {
  type FakeHandler,
  type FakeResponse,
  HttpClientFake,
  type RecordedRequest,
  type UrlPattern,
} from './http-client-fake.js';
export type { HttpResponse } from './http-response.js';
export { type QueryParams, type QueryValue, redactUrl } from './request-url.js';
export { defaultRetryOn, parseRetryAfter, type RetryPolicy } from './retry-policy.js';
