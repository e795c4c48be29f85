import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';
import * as api from './index.js';

const docPath = new URL('../../docs/errors/container.md', import.meta.url);

describe('container error catalogue', () => {
  const entries = Object.entries(errors);

  it('names each export after its code, with a status and a help line', () => {
    expect(entries.length).toBeGreaterThan(10);
    for (const [name, cls] of entries) {
      expect(cls.code).toBe(name);
      expect(name).toMatch(/^E_[A-Z_]+$/);
      expect(cls.status).toBe(500);
      expect(cls.help.length).toBeGreaterThan(10);
    }
    expect(new Set(entries.map(([, cls]) => cls.code)).size).toBe(entries.length);
  });

  it('documents every code with its help line', async () => {
    const doc = await readFile(docPath, 'utf8');
    const documented = [...doc.matchAll(/^## (E_[A-Z_]+)$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(entries.map(([name]) => name).sort());
    for (const [, cls] of entries) expect(doc).toContain(`- Help: ${cls.help}`);
  });

  it('builds KeelErrors with details and a cause', () => {
    const error = new errors.E_BINDING_NOT_FOUND('confg', ['UserService'], 'config');
    expect(error).toBeInstanceOf(KeelError);
    expect(error.details).toEqual({
      key: 'confg',
      requiredBy: ['UserService'],
      suggestion: 'config',
    });
    const failed = new errors.E_PROVIDER_FAILED('P', undefined, 'boot').withCause('x');
    expect(failed.message).toBe('Provider P failed in boot()');
    expect(failed.details).toEqual({ provider: 'P', phase: 'boot' });
    expect(new errors.E_DISPOSE_FAILED('s', 1).message).toBe(
      '1 disposer failed while disposing "s"',
    );
  });

  it('exposes the public API from index.ts', () => {
    for (const name of [
      'Container',
      'ProviderRegistry',
      'ServiceProvider',
      'inject',
      'token',
      'isToken',
    ]) {
      expect(api).toHaveProperty(name);
    }
    expect(api.E_CIRCULAR_DEPENDENCY).toBe(errors.E_CIRCULAR_DEPENDENCY);
  });
});
