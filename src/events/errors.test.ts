import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';

const docs = new URL('../../docs/errors/events.md', import.meta.url);

describe('events error catalogue', () => {
  const entries = Object.entries(errors);

  it('exports only errors, each named after its code', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, cls] of entries) {
      expect(cls.code).toBe(name);
      expect(name).toMatch(/^E_[A-Z_]+$/);
      expect(cls.help.length).toBeGreaterThan(10);
      expect(cls.status).toBe(500);
    }
  });

  it('documents every code in docs/errors/events.md with its help line', async () => {
    const text = await readFile(docs, 'utf8');
    for (const [code, cls] of entries) {
      expect(text, `${code} is not documented`).toContain(`## ${code}\n`);
      expect(text, `${code}'s help line differs from the docs`).toContain(cls.help);
    }
    const documented = [...text.matchAll(/^## (E_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(entries.map(([code]) => code).sort());
  });

  it('builds errors that carry code, status, help and details', () => {
    const error = new errors.E_LISTENER_FAILED('a.b', 'x', 'mod', new Error('boom'));
    expect(error).toBeInstanceOf(KeelError);
    expect(error.toJSON()).toEqual({
      code: 'E_LISTENER_FAILED',
      message: 'Listener "x" of module "mod" failed on event "a.b": boom',
      status: 500,
      help: errors.E_LISTENER_FAILED.help,
      details: { event: 'a.b', listener: 'x', module: 'mod' },
    });
    const nameless = new errors.E_LISTENER_FAILED('a.b', 'x', null, new TypeError(''));
    expect(nameless.message).toBe('Listener "x" failed on event "a.b": TypeError');
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(new errors.E_LISTENER_FAILED('a.b', 'x', null, hostile).message).toContain(': object');
  });
});
