import { parseDuration } from '../../support/index.js';
import { E_HTTP_CLIENT_INVALID_OPTIONS } from './errors.js';

/**
 * When and how often a request is sent again. Only idempotent requests are retried: GET,
 * HEAD, OPTIONS, PUT, DELETE, and POST or PATCH carrying an `Idempotency-Key` header.
 *
 * @example
 * ```ts
 * createHttpClient({ retries: { retries: 3, baseDelay: '200ms', maxDelay: '5s' } });
 * ```
 */
export interface RetryPolicy {
  /** How many times to send again after the first attempt. */
  retries: number;
  /** The backoff unit: attempt n waits a random time in [0, baseDelay × 2ⁿ). Default 200ms. */
  baseDelay?: number | string;
  /** The most one backoff wait may be. Default 10s. */
  maxDelay?: number | string;
  /**
   * The longest `Retry-After` honoured. A server asking for a longer wait is not retried:
   * its response is returned (or thrown) at once. Default 60s.
   */
  maxRetryAfter?: number | string;
  /** Which response statuses are retried. Default: 429 and every 5xx. */
  retryOn?: (status: number) => boolean;
}

/** A {@link RetryPolicy} with every default applied and durations in milliseconds. */
export interface ResolvedRetryPolicy {
  readonly retries: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly maxRetryAfter: number;
  readonly retryOn: (status: number) => boolean;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** 429 Too Many Requests and every 5xx may succeed later; other statuses will not. */
export function defaultRetryOn(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Apply defaults and validate; a number is shorthand for `{ retries: n }`. */
export function resolveRetryPolicy(input: number | RetryPolicy | undefined): ResolvedRetryPolicy {
  const policy = typeof input === 'number' ? { retries: input } : (input ?? { retries: 0 });
  if (!Number.isInteger(policy.retries) || policy.retries < 0 || policy.retries > 100) {
    throw new E_HTTP_CLIENT_INVALID_OPTIONS('retries', 'expected an integer from 0 to 100');
  }
  return {
    retries: policy.retries,
    baseDelay: parseDuration(policy.baseDelay ?? 200),
    maxDelay: parseDuration(policy.maxDelay ?? 10_000),
    maxRetryAfter: parseDuration(policy.maxRetryAfter ?? 60_000),
    retryOn: policy.retryOn ?? defaultRetryOn,
  };
}

/**
 * Whether sending `method` twice has the effect of sending it once (RFC 9110 §9.2.2), or
 * the server was given an Idempotency-Key to deduplicate it.
 */
export function isIdempotent(method: string, headers: Headers): boolean {
  if (IDEMPOTENT.has(method)) return true;
  return (method === 'POST' || method === 'PATCH') && headers.has('idempotency-key');
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter"): a uniform wait in [0, min(maxDelay, baseDelay × 2^attempt)), which spreads the
 * retries of many clients instead of having them hit a recovering server together.
 */
export function backoffDelay(
  policy: ResolvedRetryPolicy,
  attempt: number,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelay, policy.baseDelay * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds (RFC 9110 §10.2.3): either
 * delay-seconds or an HTTP-date. Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-dates always name the weekday and "GMT"; a bare number with a sign or decimals is
  // neither form and must not be read by Date.parse as a year.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
