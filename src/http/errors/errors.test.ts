import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeelError, type KeelErrorClass } from '../../support/index.js';
import * as catalogue from './errors.js';
import { HttpException } from './http-exception.js';

const docs = readFileSync(new URL('../../../docs/errors/http.md', import.meta.url), 'utf8');
const entries = Object.entries(catalogue) as Array<[string, KeelErrorClass<unknown[]>]>;

/** The text of one `## CODE` section of the error docs. */
function section(code: string): string | undefined {
  const start = docs.indexOf(`\n## ${code}\n`);
  if (start === -1) return undefined;
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('http error catalogue', () => {
  it('names every export after its code, with an error status and a help line', () => {
    expect(entries.length).toBeGreaterThan(30);
    for (const [name, error] of entries) {
      expect(error.code, name).toBe(name);
      expect(error.code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(600);
      expect(error.help.length, `${name} help`).toBeGreaterThan(10);
      expect(error.prototype).toBeInstanceOf(KeelError);
    }
  });

  it('has unique codes and one plain error per catalogued status', () => {
    const codes = entries.map(([, error]) => error.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('documents every code with its status and help line', () => {
    for (const [, error] of entries) {
      const text = section(error.code);
      expect(text, `${error.code} is missing from docs/errors/http.md`).toBeDefined();
      expect(text).toContain(`Status: ${error.status}`);
      expect(text).toContain(`Help: ${error.help}`);
    }
  });

  it('documents no code that does not exist', () => {
    const documented = [...docs.matchAll(/^## (E_[A-Z0-9_]+)$/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(entries.map(([name]) => name).sort());
  });

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
