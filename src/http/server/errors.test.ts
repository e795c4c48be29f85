import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeelError, type KeelErrorClass } from '../../support/index.js';
import * as catalogue from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors/http-server.md', import.meta.url), 'utf8');
const entries = Object.entries(catalogue) as Array<[string, KeelErrorClass<unknown[]>]>;

/** The text of one `## CODE` section of the error docs. */
function section(code: string): string | undefined {
  const start = docs.indexOf(`\n## ${code}\n`);
  if (start === -1) return undefined;
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('http server error catalogue', () => {
  it('names every export after its code, with a status and a help line', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, error] of entries) {
      expect(error.code, name).toBe(name);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.status).toBeLessThan(600);
      expect(error.help.length).toBeGreaterThan(10);
    }
  });

  it('documents every code with its status and help line, and nothing else', () => {
    for (const [, error] of entries) {
      const text = section(error.code);
      expect(text, `${error.code} is missing from docs/errors/http-server.md`).toBeDefined();
      expect(text).toContain(`Status: ${error.status}`);
      expect(text).toContain(`Help: ${error.help}`);
    }
    const documented = [...docs.matchAll(/^## (E_[A-Z0-9_]+)$/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(entries.map(([name]) => name).sort());
  });

  it('builds KeelErrors with messages and details', () => {
    const error = new catalogue.E_MALFORMED_REQUEST(
      'Duplicate Content-Length',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
    expect(error).toBeInstanceOf(KeelError);
    expect(error.toJSON()).toEqual({
      code: 'E_MALFORMED_REQUEST',
      message: 'Malformed HTTP request: Duplicate Content-Length',
      status: 400,
      help: catalogue.E_MALFORMED_REQUEST.help,
      details: { parserCode: 'HPE_UNEXPECTED_CONTENT_LENGTH' },
    });
    expect(new catalogue.E_INVALID_SERVER_OPTIONS('port', undefined, 'x').message).toBe(
      'Invalid HTTP server option "port": undefined (x)',
    );
    expect(new catalogue.E_SERVER_LISTEN_FAILED('::', 80, 'EACCES').message).toBe(
      'Cannot listen on :::80: EACCES',
    );
    expect(new catalogue.E_CLUSTER_CRASH_LOOP(11, 'worker 3 exit code 1').details).toEqual({
      restarts: 11,
      cause: 'worker 3 exit code 1',
    });
    expect(new catalogue.E_INVALID_CLUSTER_OPTIONS('workers', 0, 'x').status).toBe(500);
  });
});
