import { describe, expect, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import * as catalogue from './errors.js';

describe('http body error catalogue', () => {
  it('builds KeelErrors with messages and details', () => {
    const error = new catalogue.E_BODY_TOO_LARGE('json', 1024);
    expect(error).toBeInstanceOf(KeelError);
    expect(catalogue.E_BODY_TOO_LARGE.is(error)).toBe(true);
    expect(error.toJSON()).toEqual({
      code: 'E_BODY_TOO_LARGE',
      message: 'Request body (json) is larger than 1024 bytes',
      status: 413,
      help: 'Send a smaller body, or raise the body limit for this route.',
      details: { kind: 'json', limit: 1024 },
    });
    expect(new catalogue.E_UNSUPPORTED_MEDIA_TYPE('', ['application/json']).message).toBe(
      'Unsupported Content-Type (none); accepted: application/json',
    );
    expect(new catalogue.E_UPLOAD_FAILED('/tmp/x', 'ENOSPC').details).toEqual({ path: '/tmp/x' });
    expect(new catalogue.E_INVALID_BODY_OPTIONS('limits.json', -1).message).toContain('-1');
  });
});
