import { describe, expect, it } from 'vitest';
import { KeelError } from '../support/index.js';
import * as errors from './errors.js';

describe('view error catalogue', () => {
  it('builds Keel errors with clipped, quoted names', () => {
    const error = new errors.E_VIEW_INVALID_NAME(`${'x'.repeat(200)}\0`, 'too long');
    expect(error).toBeInstanceOf(KeelError);
    expect(error.message).toContain('…"');
    expect(error.message.length).toBeLessThan(200);
    expect(new errors.E_VIEW_INVALID_NAME(undefined, 'missing').message).toContain('"undefined"');
  });
});
