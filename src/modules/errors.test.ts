import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';

const catalogue = Object.entries(errors);
const docs = new URL('../../docs/errors/modules.md', import.meta.url);

describe('module error catalogue', () => {
  it('names each export after its code, with a status and a help line', () => {
    expect(catalogue.length).toBeGreaterThan(10);
    for (const [name, error] of catalogue) {
      expect(error.code).toBe(name);
      expect(error.name).toBe(name);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.help.length).toBeGreaterThan(20);
    }
    expect(new Set(catalogue.map(([, error]) => error.code)).size).toBe(catalogue.length);
  });

  it('documents every code, with its status and help line', async () => {
    const text = await fs.readFile(docs, 'utf8');
    const documented = [...text.matchAll(/^## (E_[A-Z_]+)$/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(catalogue.map(([name]) => name).sort());
    for (const [name, error] of catalogue) {
      const section = text.slice(text.indexOf(`## ${name}\n`)).split(/\n## /)[0]!;
      expect(section, name).toContain(`- Status: ${error.status}`);
      expect(section, name).toContain(`- Help: ${error.help}`);
    }
  });

  it('builds KeelErrors whose messages name the thing', () => {
    const error = new errors.E_MODULE_CYCLE(['a', 'b', 'a']);
    expect(error).toBeInstanceOf(KeelError);
    expect(error.toJSON()).toEqual({
      code: 'E_MODULE_CYCLE',
      message: 'Module dependency cycle: a → b → a',
      status: 500,
      help: errors.E_MODULE_CYCLE.help,
      details: { cycle: ['a', 'b', 'a'] },
    });
    expect(new errors.E_MODULE_HAS_DEPENDENTS('core', ['a']).status).toBe(409);
  });
});
