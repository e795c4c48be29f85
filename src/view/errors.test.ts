import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';

const catalogue = Object.entries(errors);

describe('view error catalogue', () => {
  it('names every export after its code, with a status and a help line', () => {
    expect(catalogue.length).toBeGreaterThan(0);
    for (const [name, cls] of catalogue) {
      expect(cls.code).toBe(name);
      expect(cls.status).toBeGreaterThanOrEqual(400);
      expect(cls.help.length).toBeGreaterThan(10);
    }
  });

  it('documents every code in docs/errors/view.md', async () => {
    const doc = await readFile(new URL('../../docs/errors/view.md', import.meta.url), 'utf8');
    for (const [name] of catalogue) expect(doc).toContain(`## ${name}\n`);
  });

  it('builds Keel errors with clipped, quoted names', () => {
    const error = new errors.E_VIEW_INVALID_NAME(`${'x'.repeat(200)}\0`, 'too long');
    expect(error).toBeInstanceOf(KeelError);
    expect(error.message).toContain('…"');
    expect(error.message.length).toBeLessThan(200);
    expect(new errors.E_VIEW_INVALID_NAME(undefined, 'missing').message).toContain('"undefined"');
  });
});
