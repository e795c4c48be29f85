import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';

describe('events error catalogue', () => {
  const _entries = Object.entries(errors);

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
