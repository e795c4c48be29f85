import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

const catalogue = Object.entries(errors);

describe('http client error catalogue', () => {
  it('names every export after its code, with a status and a help line', () => {
    expect(catalogue.length).toBeGreaterThan(0);
    const codes = new Set(catalogue.map(([, cls]) => cls.code));
    expect(codes.size).toBe(catalogue.length);
    for (const [name, cls] of catalogue) {
      expect(cls.code).toBe(name);
      expect(name.startsWith('E_HTTP_CLIENT_')).toBe(true);
      expect(cls.status).toBeGreaterThanOrEqual(400);
      expect(cls.help.length).toBeGreaterThan(10);
    }
  });

  it('documents every code in docs/errors/http-client.md', async () => {
    const doc = await readFile(
      new URL('../../../docs/errors/http-client.md', import.meta.url),
      'utf8',
    );
    for (const [name] of catalogue) expect(doc).toContain(`## ${name}\n`);
  });
});
