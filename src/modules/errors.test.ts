import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';

describe('module error catalogue', () => {
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
