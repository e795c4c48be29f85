import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeelError, type KeelErrorClass } from '../../support/index.js';
import * as catalogue from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors/http-body.md', import.meta.url), 'utf8');
const entries = Object.entries(catalogue) as Array<[string, KeelErrorClass<unknown[]>]>;

/** The text of one `## CODE` section of the error docs. */
function section(code: string): string | undefined {
  const start = docs.indexOf(`\n## ${code}\n`);
  if (start === -1) return undefined;
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('http body error catalogue', () => {
  it('names every export after its code, with a status and a help line', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, error] of entries) {
      expect(error.code, name).toBe(name);
      expect(error.code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(600);
      expect(error.help.length).toBeGreaterThan(10);
    }
  });

  it('has unique codes', () => {
    const codes = entries.map(([, error]) => error.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('documents every code with its status and help line', () => {
    for (const [, error] of entries) {
      const text = section(error.code);
      expect(text, `${error.code} is missing from docs/errors/http-body.md`).toBeDefined();
      expect(text).toContain(`Status: ${error.status}`);
      expect(text).toContain(`Help: ${error.help}`);
    }
  });

  it('documents no code that does not exist', () => {
    const documented = [...docs.matchAll(/^## (E_[A-Z0-9_]+)$/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(entries.map(([name]) => name).sort());
  });

  it('builds KeelErrors with messages and details', () => {
    const error = new catalogue.E_BODY_TOO_LARGE('json', 1024);
    expect(error).toBeInstanceOf(KeelError);
    expect(catalogue.E_BODY_TOO_LARGE.is(error)).toBe(true);
    expect(error.toJSON()).toEqual({
      code: 'E_BODY_TOO_LARGE',
      message: 'Request body (json) is larger than 1024 bytes',
      status: 413,
      help: 'Send a smaller body, or raise the body limit for this route.',
      details: { kind: 'json', limit: 1024 },
    });
    expect(new catalogue.E_UNSUPPORTED_MEDIA_TYPE('', ['application/json']).message).toBe(
      'Unsupported Content-Type (none); accepted: application/json',
    );
    expect(new catalogue.E_UPLOAD_FAILED('/tmp/x', 'ENOSPC').details).toEqual({ path: '/tmp/x' });
    expect(new catalogue.E_INVALID_BODY_OPTIONS('limits.json', -1).message).toContain('-1');
  });
});
