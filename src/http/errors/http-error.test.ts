import { describe, expect, expectTypeOf, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import {
  E_CONFLICT,
  E_FORBIDDEN,
  E_HTTP_ERROR,
  E_INTERNAL_SERVER_ERROR,
  E_INVALID_HTTP_STATUS,
  E_METHOD_NOT_ALLOWED,
  E_NOT_FOUND,
  E_TOO_MANY_REQUESTS,
  E_UNAUTHORIZED,
} from './errors.js';
import { abort, httpError, isPlainStatusCode, statusCode } from './http-error.js';
import { defineHttpError, HttpException, isErrorStatus, reasonPhrase } from './http-exception.js';

describe('httpError()', () => {
  it('builds the catalogued error of a status', () => {
    const error = httpError(404, 'User 5 not found');
    expect(error).toBeInstanceOf(E_NOT_FOUND);
    expect(error).toBeInstanceOf(HttpException);
    expect(error).toBeInstanceOf(KeelError);
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.message).toBe('User 5 not found');
    expect(error.help).toBe(E_NOT_FOUND.help);
    expect(error.expose).toBe(true);
    expect(httpError(403)).toBeInstanceOf(E_FORBIDDEN);
    expect(httpError(401).code).toBe(E_UNAUTHORIZED.code);
    expect(httpError(409)).toBeInstanceOf(E_CONFLICT);
    expect(httpError(500)).toBeInstanceOf(E_INTERNAL_SERVER_ERROR);
    expect(httpError(429, undefined, { retryAfter: 30 }).retryAfter).toBe(30);
  });

  it('uses the reason phrase when no detail is given', () => {
    expect(httpError(404).message).toBe('Not Found');
    expect(httpError(422).message).toBe('Unprocessable Content');
  });

  it('takes an app code, title, headers, cause and help', () => {
    const cause = new Error('row locked');
    const error = httpError(409, 'Invoice 42 is already paid', {
      code: 'E_INVOICE_PAID',
      title: 'Invoice paid',
      headers: { 'x-invoice': '42' },
      cause,
      help: 'Reload the invoice.',
    });
    expect(error).not.toBeInstanceOf(E_CONFLICT);
    expect(error.code).toBe('E_INVOICE_PAID');
    expect(error.name).toBe('E_INVOICE_PAID');
    expect(error.title).toBe('Invoice paid');
    expect(error.headers).toEqual({ 'x-invoice': '42' });
    expect(error.cause).toBe(cause);
    expect(error.help).toBe('Reload the invoice.');
    expect(httpError(400, 'x', { code: 'E_X' }).help).toBe('');
  });

  it('answers 405 with E_METHOD_NOT_ALLOWED and the allow list', () => {
    const error = httpError(405, undefined, { allow: ['GET'] });
    expect(error.code).toBe('E_METHOD_NOT_ALLOWED');
    expect(E_METHOD_NOT_ALLOWED.is(error)).toBe(true);
    expect(error.allow).toEqual(['GET']);
    expect(error.help).toBe(E_METHOD_NOT_ALLOWED.help);
    expect(error.message).toBe('Method Not Allowed');
  });

  it('answers other statuses with E_HTTP_ERROR', () => {
    const error = httpError(418, 'short and stout');
    expect(error).toBeInstanceOf(E_HTTP_ERROR);
    expect(error.status).toBe(418);
    expect(error.code).toBe('E_HTTP_ERROR');
    // The server owns E_REQUEST_TIMEOUT and E_HEADERS_TOO_LARGE; apps get the generic code.
    expect(httpError(408).code).toBe('E_HTTP_ERROR');
    expect(httpError(431).message).toBe('Request Header Fields Too Large');
  });

  it('refuses statuses that are not errors', () => {
    for (const status of [200, 302, 399, 600, 404.5, Number.NaN, -1]) {
      expect(() => httpError(status), String(status)).toThrow(E_INVALID_HTTP_STATUS);
    }
    expect(() => httpError('404' as unknown as number)).toThrow(/got 404/);
  });

  it('returns an HttpException', () => {
    expectTypeOf(httpError).returns.toEqualTypeOf<HttpException>();
  });
});

describe('abort()', () => {
  it('throws the HTTP error', () => {
    expect(() => abort(404)).toThrow(E_NOT_FOUND);
    expect(() => abort(429, 'Slow down')).toThrow(E_TOO_MANY_REQUESTS);
    expect(() => abort(403, 'Only owners', { code: 'E_NOT_OWNER' })).toThrow('Only owners');
  });

  it('returns never, so it ends a branch', () => {
    expectTypeOf(abort).returns.toBeNever();
    const find = (id: number): { id: number } | undefined => (id === 1 ? { id } : undefined);
    const order = find(1) ?? abort(404);
    expectTypeOf(order).toEqualTypeOf<{ id: number }>();
    expect(order.id).toBe(1);
  });
});

describe('status helpers', () => {
  it('maps statuses to their plain codes', () => {
    expect(statusCode(404)).toBe('E_NOT_FOUND');
    expect(statusCode(405)).toBe('E_METHOD_NOT_ALLOWED');
    expect(statusCode(503)).toBe('E_SERVICE_UNAVAILABLE');
    expect(statusCode(418)).toBe('E_HTTP_ERROR');
    expect(isPlainStatusCode('E_NOT_FOUND', 404)).toBe(true);
    expect(isPlainStatusCode('E_ROUTE_NOT_FOUND', 404)).toBe(false);
  });

  it('names reason phrases the RFC 9110 way', () => {
    expect(reasonPhrase(413)).toBe('Content Too Large');
    expect(reasonPhrase(422)).toBe('Unprocessable Content');
    expect(reasonPhrase(418)).toBe("I'm a Teapot");
    expect(reasonPhrase(299)).toBe('Error');
  });

  it('recognises error statuses', () => {
    expect(isErrorStatus(400)).toBe(true);
    expect(isErrorStatus(599)).toBe(true);
    expect(isErrorStatus(600)).toBe(false);
    expect(isErrorStatus('500')).toBe(false);
  });

  it('defineHttpError builds a catalogue class', () => {
    const E_TEST_GONE = defineHttpError('E_TEST_GONE', 410, { help: 'It is gone for good.' });
    const error = new E_TEST_GONE();
    expect(E_TEST_GONE.code).toBe('E_TEST_GONE');
    expect(E_TEST_GONE.name).toBe('E_TEST_GONE');
    expect(E_TEST_GONE.title).toBe('Gone');
    expect(error.message).toBe('Gone');
    expect(E_TEST_GONE.is(error)).toBe(true);
    expect(E_TEST_GONE.is('E_TEST_GONE')).toBe(false);
    const titled = defineHttpError('E_TEST_TITLED', 409, { help: 'x'.repeat(12), title: 'Taken' });
    expect(new titled().title).toBe('Taken');
  });
});
