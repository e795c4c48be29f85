import { describe, expect, it } from 'vitest';
import * as catalogue from './errors.js';
import { HttpException } from './http-exception.js';

describe('http error catalogue', () => {
  it('E_ROUTE_NOT_FOUND names the method and path', () => {
    const error = new catalogue.E_ROUTE_NOT_FOUND('GET', '/users/5');
    expect(error).toBeInstanceOf(HttpException);
    expect(error.message).toBe('No route for GET /users/5');
    expect(error.status).toBe(404);
    expect(error.title).toBe('Route Not Found');
    expect(error.help).toBe(catalogue.E_ROUTE_NOT_FOUND.help);
    expect(catalogue.E_ROUTE_NOT_FOUND.is(error)).toBe(true);
    expect(catalogue.E_ROUTE_NOT_FOUND.is(new catalogue.E_NOT_FOUND())).toBe(false);
  });

  it('E_ROUTE_NOT_FOUND keeps hostile paths printable and short', () => {
    const error = new catalogue.E_ROUTE_NOT_FOUND('GET', `/a\r\nSet-Cookie: x${'y'.repeat(500)}`);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message.length).toBeLessThan(250);
  });

  it('E_METHOD_NOT_ALLOWED carries the allowed methods', () => {
    const error = new catalogue.E_METHOD_NOT_ALLOWED('DELETE', '/users/5', ['GET', 'HEAD']);
    expect(error.status).toBe(405);
    expect(error.allow).toEqual(['GET', 'HEAD']);
    expect(error.message).toBe('Method DELETE is not allowed on /users/5; allowed: GET, HEAD');
    expect(new catalogue.E_METHOD_NOT_ALLOWED('X', '/', []).message).toContain('(none)');
    expect(catalogue.E_METHOD_NOT_ALLOWED.is(error)).toBe(true);
  });

  it('E_HTTP_ERROR takes any status', () => {
    const error = new catalogue.E_HTTP_ERROR(418);
    expect(error.status).toBe(418);
    expect(error.message).toBe("I'm a Teapot");
    expect(new catalogue.E_HTTP_ERROR(507, 'Disk full').message).toBe('Disk full');
    expect(catalogue.E_HTTP_ERROR.is(error)).toBe(true);
    expect(catalogue.E_HTTP_ERROR.is(new Error('x'))).toBe(false);
  });

  it('plain status errors default to the reason phrase and accept options', () => {
    const cause = new Error('db');
    const error = new catalogue.E_CONFLICT(undefined, { cause, headers: { etag: '"1"' } });
    expect(error.message).toBe('Conflict');
    expect(error.cause).toBe(cause);
    expect(error.headers).toEqual({ etag: '"1"' });
    expect(error.code).toBe('E_CONFLICT');
    // The class's code wins over an option: an E_CONFLICT is always E_CONFLICT.
    expect(new catalogue.E_CONFLICT('x', { code: 'E_OTHER' }).code).toBe('E_CONFLICT');
    expect(new catalogue.E_CONTENT_TOO_LARGE().title).toBe('Content Too Large');
  });

  it('E_ERROR_SNAPSHOT_INVALID names the file', () => {
    const error = new catalogue.E_ERROR_SNAPSHOT_INVALID('/x/errors.json', 'not JSON');
    expect(error.message).toBe('Cannot read the error snapshot /x/errors.json: not JSON');
    expect(error.details).toEqual({ file: '/x/errors.json', reason: 'not JSON' });
  });
});
