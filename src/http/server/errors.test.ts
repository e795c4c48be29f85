import { describe, expect, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import * as catalogue from './errors.js';

describe('http server error catalogue', () => {
  it('builds KeelErrors with messages and details', () => {
    const error = new catalogue.E_MALFORMED_REQUEST(
      'Duplicate Content-Length',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
    expect(error).toBeInstanceOf(KeelError);
    expect(error.toJSON()).toEqual({
      code: 'E_MALFORMED_REQUEST',
      message: 'Malformed HTTP request: Duplicate Content-Length',
      status: 400,
      help: catalogue.E_MALFORMED_REQUEST.help,
      details: { parserCode: 'HPE_UNEXPECTED_CONTENT_LENGTH' },
    });
    expect(new catalogue.E_INVALID_SERVER_OPTIONS('port', undefined, 'x').message).toBe(
      'Invalid HTTP server option "port": undefined (x)',
    );
    expect(new catalogue.E_SERVER_LISTEN_FAILED('::', 80, 'EACCES').message).toBe(
      'Cannot listen on :::80: EACCES',
    );
    expect(new catalogue.E_CLUSTER_CRASH_LOOP(11, 'worker 3 exit code 1').details).toEqual({
      restarts: 11,
      cause: 'worker 3 exit code 1',
    });
    expect(new catalogue.E_INVALID_CLUSTER_OPTIONS('workers', 0, 'x').status).toBe(500);
  });
});
