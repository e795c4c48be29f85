import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import * as publicApi from './index.js';

const docs = readFileSync(new URL('../../../docs/errors/config.md', import.meta.url), 'utf8');
const catalogue = Object.entries(publicApi).filter(([name]) => name.startsWith('E_'));

describe('the env error catalogue', () => {
  it('exports each error under its own code, with a help line', () => {
    expect(catalogue.length).toBeGreaterThan(0);
    for (const [name, error] of catalogue) {
      const cls = error as unknown as {
        code: string;
        status: number;
        help: string;
        prototype: unknown;
      };
      expect(cls.code).toBe(name);
      expect(cls.prototype).toBeInstanceOf(KeelError);
      expect(cls.status).toBeGreaterThanOrEqual(400);
      expect(cls.help.length).toBeGreaterThan(10);
    }
  });

  it('documents every code with its help line in docs/errors/config.md', () => {
    for (const [name, error] of catalogue) {
      expect(docs, name).toContain(`## ${name}\n`);
      expect(docs, name).toContain(`- Help: ${(error as unknown as { help: string }).help}`);
    }
  });
});
