import { describe, expect, it } from 'vitest';
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
