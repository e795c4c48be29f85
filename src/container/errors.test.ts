import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';
import * as api from './index.js';

describe('container error catalogue', () => {
  const _entries = Object.entries(errors);

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
