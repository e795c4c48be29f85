import { describe, expect, it } from 'vitest';
import { E_HTTP_CLIENT_INVALID_OPTIONS } from './errors.js';
import { buildUrl, redactUrl } from './request-url.js';
import {
  backoffDelay,
  defaultRetryOn,
  isIdempotent,
  parseRetryAfter,
  resolveRetryPolicy,
} from './retry-policy.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it.each([
    ['120', 120_000],
    [' 5 ', 5000],
    ['0', 0],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
  ])('reads %j as %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([null, '', '-1', '1.5', '+3', 'soon', 'Someday, 99 Foo 2025'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('retry policy', () => {
  it('applies defaults and validates', () => {
    expect(resolveRetryPolicy(undefined)).toMatchObject({ retries: 0, baseDelay: 200 });
    expect(resolveRetryPolicy(2)).toMatchObject({
      retries: 2,
      maxDelay: 10_000,
      maxRetryAfter: 60_000,
    });
    expect(resolveRetryPolicy({ retries: 1, maxRetryAfter: '2m' }).maxRetryAfter).toBe(120_000);
    for (const retries of [-1, 1.5, 101, Number.NaN]) {
      expect(() => resolveRetryPolicy(retries)).toThrow(E_HTTP_CLIENT_INVALID_OPTIONS);
    }
  });

  it('backs off exponentially with full jitter, capped', () => {
    const policy = resolveRetryPolicy({ retries: 9, baseDelay: 100, maxDelay: 1000 });
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(policy, attempt, () => 0.5))).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 30, () => 0.999)).toBeLessThan(1000);
  });

  it('retries 429 and 5xx by default', () => {
    expect([429, 500, 503, 599].every(defaultRetryOn)).toBe(true);
    expect([200, 301, 400, 404, 409, 600].some(defaultRetryOn)).toBe(false);
  });

  it('treats only idempotent methods, or POST/PATCH with an Idempotency-Key, as retryable', () => {
    const none = new Headers();
    const keyed = new Headers({ 'Idempotency-Key': 'abc' });
    expect(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].every((m) => isIdempotent(m, none))).toBe(
      true,
    );
    expect(isIdempotent('POST', none)).toBe(false);
    expect(isIdempotent('PATCH', none)).toBe(false);
    expect(isIdempotent('POST', keyed)).toBe(true);
    expect(isIdempotent('PATCH', keyed)).toBe(true);
    expect(isIdempotent('CONNECT', keyed)).toBe(false);
  });
});

describe('request URLs', () => {
  it('joins paths to the base URL with one slash', () => {
    expect(buildUrl('https://api.x/v1', 'users').href).toBe('https://api.x/v1/users');
    expect(buildUrl('https://api.x/v1/', '/users').href).toBe('https://api.x/v1/users');
    expect(buildUrl('https://api.x/v1', '').href).toBe('https://api.x/v1');
    expect(buildUrl('https://api.x/v1', 'https://other.x/a').href).toBe('https://other.x/a');
    expect(buildUrl(undefined, new URL('http://a.x/b?c=1'), { d: true }).href).toBe(
      'http://a.x/b?c=1&d=true',
    );
  });

  it('redacts credentials, query and fragment', () => {
    expect(redactUrl(new URL('https://u:p@api.x:8443/a/b?key=secret#frag'))).toBe(
      'https://api.x:8443/a/b',
    );
  });

  it('keeps secrets out of invalid-URL errors', () => {
    expect(() => buildUrl(undefined, 'http://u:pw@[bad/x?key=secret')).toThrow(
      'Invalid request URL "http://[bad/x": not a valid URL',
    );
    expect(() => buildUrl(undefined, 'relative?key=secret')).toThrow('"relative"');
    expect(() => buildUrl(undefined, 42 as unknown as string)).toThrow('expected a string or URL');
    expect(() => buildUrl(undefined, `https://x/${'a'.repeat(300)}`)).not.toThrow();
    expect(() => buildUrl(undefined, `ws:${'a'.repeat(300)}`)).toThrow('only http and https');
  });
});
