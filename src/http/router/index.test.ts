import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';
import * as router from './index.js';
import { singular } from './resource-routes.js';

describe('keel/http router public face', () => {
  it('exports the declaration API, the table, decorators, the command and the errors', () => {
    for (const name of [
      'Router',
      'RouteBuilder',
      'RouteTable',
      'ResourceRoutes',
      'Controller',
      'Get',
      'registerControllers',
      'discoverControllers',
      'routesListCommand',
      'parseRoutePath',
      'middlewareName',
      'E_INVALID_ROUTE',
    ]) {
      expect(router, name).toHaveProperty(name);
    }
    expect(new router.Router({ module: 'm' }).module).toBe('m');
  });

  it('documents every error code in docs/errors/router.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors/router.md', import.meta.url), 'utf8');
    for (const [name, value] of Object.entries(errors)) {
      const cls = value as { code: string; status: number; help: string };
      expect(cls.code).toBe(name);
      const section = doc.split(`\n## ${name}\n`)[1]?.split('\n## ')[0];
      expect(section, `${name} is documented`).toBeDefined();
      expect(section).toContain(`Status: ${cls.status}`);
      expect(section).toContain(cls.help);
    }
  });
});

describe('singular', () => {
  it.each([
    ['products', 'product'],
    ['categories', 'category'],
    ['boxes', 'box'],
    ['addresses', 'address'],
    ['branches', 'branch'],
    ['status', 'status'],
    ['glass', 'glass'],
    ['news', 'new'],
    ['data', 'data'],
  ])('%s → %s', (plural, one) => {
    expect(singular(plural)).toBe(one);
  });
});
