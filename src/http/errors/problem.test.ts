import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineError, KeelError } from '../../support/index.js';
import { ValidationError } from '../../validation/index.js';
import { E_BODY_TOO_LARGE } from '../body/errors.js';
import { E_METHOD_NOT_ALLOWED, E_ROUTE_NOT_FOUND } from './errors.js';
import { httpError } from './http-error.js';
import { HttpException } from './http-exception.js';
import {
  isExposed,
  PROBLEM_CONTENT_TYPE,
  type ProblemDocument,
  type ProblemResponse,
  statusOf,
  toProblem,
} from './problem.js';

const request = { method: 'GET', path: '/orders/7', requestId: 'req-1' };
const prod = { debug: false };
const dev = { debug: true };

const E_TEST_DB_FAILED = defineError(
  'E_TEST_DB_FAILED',
  (sql: string) => `Query failed: ${sql} (password=hunter2)`,
  {
    status: 500,
    help: 'Check the database connection settings.',
    details: (sql) => ({ sql }),
  },
);

/** The body as a client receives it: serialised and parsed back. */
function wire(problem: ProblemResponse): ProblemDocument {
  return JSON.parse(JSON.stringify(problem.body)) as ProblemDocument;
}

function expectConsistent(problem: ProblemResponse): void {
  expect(problem.body.status).toBe(problem.status);
  expect(problem.status).toBeGreaterThanOrEqual(400);
  expect(problem.status).toBeLessThanOrEqual(599);
  expect(problem.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(typeof problem.body.type).toBe('string');
  expect(typeof problem.body.title).toBe('string');
  expect(typeof problem.body.detail).toBe('string');
  expect(wire(problem)).toEqual(problem.body);
}

describe('toProblem() outside debug', () => {
  it('answers an unknown error with a generic 500 and nothing of the error', () => {
    const error = new Error('SELECT * FROM users WHERE token = "s3cr3t"');
    const problem = toProblem(error, request, prod);
    expectConsistent(problem);
    expect(problem.body).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'Internal Server Error',
      instance: '/orders/7',
      code: 'E_INTERNAL_SERVER_ERROR',
      requestId: 'req-1',
    });
    const text = JSON.stringify(problem);
    expect(text).not.toContain('SELECT');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('problem.test.ts');
  });

  it('hides the message, code and details of a 5xx KeelError', () => {
    const problem = toProblem(new E_TEST_DB_FAILED('DELETE FROM orders'), request, prod);
    expectConsistent(problem);
    expect(problem.body.code).toBe('E_INTERNAL_SERVER_ERROR');
    expect(problem.body.detail).toBe('Internal Server Error');
    const text = JSON.stringify(problem);
    for (const leak of ['DELETE', 'hunter2', 'sql', 'E_TEST_DB_FAILED', 'help', 'stack', 'at ']) {
      expect(text).not.toContain(leak);
    }
  });

  it('shows the message, code and details of a 4xx KeelError', () => {
    const problem = toProblem(new E_BODY_TOO_LARGE('json', 1024), request, prod);
    expectConsistent(problem);
    expect(problem.body).toEqual({
      type: 'https://keel.dev/errors#e_body_too_large',
      title: 'Content Too Large',
      status: 413,
      detail: 'Request body (json) is larger than 1024 bytes',
      instance: '/orders/7',
      code: 'E_BODY_TOO_LARGE',
      requestId: 'req-1',
      kind: 'json',
      limit: 1024,
    });
    expect(problem.body.help).toBeUndefined();
    expect(problem.body.stack).toBeUndefined();
  });

  it('lists every field error of a validation failure with its path', () => {
    const error = new ValidationError(
      [
        { path: 'body.email', message: 'Invalid email', rule: 'email', code: 'invalid_format' },
        { path: 'body.items.0.qty', message: 'Must be at least 1', rule: 'min' },
        { path: '', message: 'Expected an object' },
      ],
      { omitted: 2 },
    );
    const problem = toProblem(error, { ...request, method: 'POST' }, prod);
    expectConsistent(problem);
    expect(problem.status).toBe(422);
    expect(problem.body.type).toBe('https://keel.dev/errors#e_validation_failed');
    expect(problem.body.title).toBe('Unprocessable Content');
    expect(problem.body.code).toBe('E_VALIDATION_FAILED');
    expect(problem.body.errors).toEqual([
      { path: 'body.email', message: 'Invalid email', rule: 'email', code: 'invalid_format' },
      { path: 'body.items.0.qty', message: 'Must be at least 1', rule: 'min' },
      { path: '', message: 'Expected an object' },
    ]);
    expect(problem.body.omitted).toBe(2);
  });

  it('reads field errors from details when the error has no errors member', () => {
    const E_TEST_FIELDS = defineError('E_TEST_FIELDS', () => 'Bad fields', {
      status: 400,
      help: 'Fix the fields listed.',
      details: () => ({ errors: [{ path: ['a', 0, 'b'], message: 42 }, 'junk'] }),
    });
    const problem = toProblem(new E_TEST_FIELDS(), request, prod);
    expect(problem.body.errors).toEqual([
      { path: 'a.0.b', message: '42' },
      { path: '', message: 'undefined' },
    ]);
  });

  it('answers 405 with the allow list in the body and the Allow header', () => {
    const error = new E_METHOD_NOT_ALLOWED('DELETE', '/orders/7', ['GET', 'head', 'x y', 'GET']);
    const problem = toProblem(error, request, prod);
    expectConsistent(problem);
    expect(problem.status).toBe(405);
    expect(problem.body.allow).toEqual(['GET', 'HEAD']);
    expect(problem.headers.allow).toBe('GET, HEAD');
    // The status says it all (RFC 9457 §4.2.1): a plain 405 is about:blank.
    expect(problem.body.type).toBe('about:blank');
    expect(problem.body.title).toBe('Method Not Allowed');
    // A 405 from httpError() without an allow list has no Allow header to invent.
    expect(toProblem(httpError(405), request, prod).headers.allow).toBeUndefined();
  });

  it('takes the allow list from details of other KeelErrors', () => {
    const E_TEST_METHOD = defineError('E_TEST_METHOD', () => 'No', {
      status: 405,
      help: 'Use another method.',
      details: () => ({ allow: ['POST'] }),
    });
    const problem = toProblem(new E_TEST_METHOD(), request, prod);
    expect(problem.headers.allow).toBe('POST');
    expect(problem.body.allow).toEqual(['POST']);
  });

  it('sends retryAfter and Retry-After for 429 and 503', () => {
    const limited = toProblem(httpError(429, 'Slow down', { retryAfter: 29.2 }), request, prod);
    expectConsistent(limited);
    expect(limited.body.retryAfter).toBe(30);
    expect(limited.headers['retry-after']).toBe('30');
    expect(limited.body.type).toBe('about:blank');

    const at = new Date(Date.now() + 120_000);
    const down = toProblem(httpError(503, 'Maintenance', { retryAfter: at }), request, prod);
    expect(down.body.retryAfter).toBeGreaterThan(100);
    expect(down.body.retryAfter).toBeLessThanOrEqual(120);
    expect(down.body.detail).toBe('Maintenance');

    const past = toProblem(httpError(429, 'x', { retryAfter: -5 }), request, prod);
    expect(past.headers['retry-after']).toBe('0');
    const E_TEST_LIMIT = defineError('E_TEST_LIMIT', () => 'Limited', {
      status: 429,
      help: 'Wait before retrying.',
      details: () => ({ retryAfter: 7 }),
    });
    expect(toProblem(new E_TEST_LIMIT(), request, prod).headers['retry-after']).toBe('7');
  });

  it('ignores retryAfter on statuses that cannot carry it, and invalid values', () => {
    const notFound = toProblem(httpError(404, 'x', { retryAfter: 5 }), request, prod);
    expect(notFound.headers['retry-after']).toBeUndefined();
    expect(notFound.body.retryAfter).toBeUndefined();
    for (const retryAfter of [Number.NaN, Number.POSITIVE_INFINITY, new Date('nope')]) {
      const problem = toProblem(httpError(429, 'x', { retryAfter }), request, prod);
      expect(problem.headers['retry-after']).toBeUndefined();
    }
  });

  it('sends an HttpException on purpose, 5xx included, unless expose is false', () => {
    const down = toProblem(httpError(503, 'Back at 10:00'), request, prod);
    expect(down.body.detail).toBe('Back at 10:00');
    expect(down.body.code).toBe('E_SERVICE_UNAVAILABLE');
    const hidden = toProblem(
      httpError(502, 'Upstream 10.0.0.5 refused', { expose: false, details: { host: 'x' } }),
      request,
      prod,
    );
    expect(hidden.body.detail).toBe('Bad Gateway');
    expect(hidden.body.code).toBe('E_BAD_GATEWAY');
    expect(JSON.stringify(hidden)).not.toContain('10.0.0.5');
    expect(hidden.body.host).toBeUndefined();
    const quiet = toProblem(httpError(404, 'User bob', { expose: false }), request, prod);
    expect(quiet.body.detail).toBe('Not Found');
  });

  it('passes the error headers, refusing injection and content-type overrides', () => {
    const error = httpError(401, 'Log in', {
      headers: {
        'WWW-Authenticate': 'Bearer realm="api"',
        'X-Evil': 'a\r\nSet-Cookie: session=x',
        'Bad Name': 'x',
        'Content-Type': 'text/html',
        'Content-Length': '1',
        'X-Count': 3 as unknown as string,
        'X-Object': {} as unknown as string,
      },
    });
    const problem = toProblem(error, request, prod);
    expect(problem.headers).toEqual({
      'www-authenticate': 'Bearer realm="api"',
      'x-count': '3',
      'content-type': PROBLEM_CONTENT_TYPE,
    });
  });

  it('uses about:blank for plain statuses and a URL for specific errors', () => {
    expect(toProblem(httpError(404), request, prod).body.type).toBe('about:blank');
    expect(toProblem(httpError(418), request, prod).body).toMatchObject({
      type: 'about:blank',
      title: "I'm a Teapot",
      code: 'E_HTTP_ERROR',
    });
    const route = toProblem(new E_ROUTE_NOT_FOUND('GET', '/nope'), request, prod);
    expect(route.body.type).toBe('https://keel.dev/errors#e_route_not_found');
    expect(route.body.title).toBe('Route Not Found');
    expect(route.body.detail).toBe('No route for GET /nope');
    const titled = toProblem(httpError(404, 'x', { title: 'User not found' }), request, prod);
    expect(titled.body.type).toBe('https://keel.dev/errors#e_not_found');
    expect(titled.body.title).toBe('User not found');
    const own = toProblem(httpError(409, 'Paid', { code: 'E_INVOICE_PAID' }), request, {
      debug: false,
      typeBaseUrl: 'https://erp.example/problems#',
    });
    expect(own.body.type).toBe('https://erp.example/problems#e_invoice_paid');
    const typed = toProblem(
      httpError(409, 'Paid', { type: 'https://erp.example/paid' }),
      request,
      prod,
    );
    expect(typed.body.type).toBe('https://erp.example/paid');
  });

  it('keeps the query string out of instance', () => {
    const problem = toProblem(
      httpError(404),
      { ...request, path: '/reset?token=s3cr3t#frag' },
      prod,
    );
    expect(problem.body.instance).toBe('/reset');
  });

  it('does not copy details over the members Keel owns', () => {
    const E_TEST_CLASH = defineError('E_TEST_CLASH', () => 'Clash', {
      status: 400,
      help: 'Nothing to do here.',
      details: () => ({ status: 200, type: 'x', code: 'E_FAKE', stack: 'x', ok: true }),
    });
    const problem = toProblem(new E_TEST_CLASH(), request, prod);
    expect(problem.body).toMatchObject({ status: 400, code: 'E_TEST_CLASH', ok: true });
    expect(problem.body.type).toBe('https://keel.dev/errors#e_test_clash');
    expect(problem.body.stack).toBeUndefined();
  });

  it('answers statuses outside 400-599 with 500', () => {
    for (const status of [200, 302, 399, 600, 999, 404.5, Number.NaN]) {
      const error = new KeelError('E_TEST_ODD', 'odd status', { status, help: 'x' });
      const problem = toProblem(error, request, prod);
      expectConsistent(problem);
      expect(problem.status, String(status)).toBe(500);
      expect(problem.body.detail).toBe('Internal Server Error');
    }
  });

  it('does not trust a status on errors that are not KeelErrors', () => {
    const error = Object.assign(new Error('teapot'), {
      status: 404,
      statusCode: 404,
      expose: true,
    });
    expect(toProblem(error, request, prod).status).toBe(500);
    expect(statusOf(error)).toBe(500);
    expect(isExposed(error, 404)).toBe(false);
  });
});

describe('toProblem() in debug', () => {
  it('shows the real message, help, stack lines and cause chain', () => {
    const root = Object.assign(new Error('ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const middle = new E_TEST_DB_FAILED('SELECT 1').withCause(root);
    const error = new Error('Order lookup failed', { cause: middle });
    const problem = toProblem(error, request, dev);
    expectConsistent(problem);
    expect(problem.status).toBe(500);
    expect(problem.body.detail).toBe('Order lookup failed');
    expect(problem.body.stack?.[0]).toBe('Error: Order lookup failed');
    expect(problem.body.stack?.some((line) => line.includes('problem.test.ts'))).toBe(true);
    expect(problem.body.cause).toEqual([
      {
        name: 'E_TEST_DB_FAILED',
        message: 'Query failed: SELECT 1 (password=hunter2)',
        code: 'E_TEST_DB_FAILED',
      },
      { name: 'Error', message: 'ECONNREFUSED 127.0.0.1:5432', code: 'ECONNREFUSED' },
    ]);
  });

  it('shows the code, help and details of a 5xx KeelError', () => {
    const problem = toProblem(new E_TEST_DB_FAILED('SELECT 1'), request, dev);
    expect(problem.body).toMatchObject({
      code: 'E_TEST_DB_FAILED',
      type: 'https://keel.dev/errors#e_test_db_failed',
      help: 'Check the database connection settings.',
      sql: 'SELECT 1',
    });
  });

  it('describes non-Error throws', () => {
    expect(toProblem('boom', request, dev).body.detail).toBe('boom');
    expect(toProblem(null, request, dev).body.detail).toBe('null');
    expect(toProblem(undefined, request, dev).body.detail).toBe('undefined');
    expect(toProblem(42, request, dev).body.detail).toBe('42');
    expect(toProblem(Symbol('s'), request, dev).body.detail).toBe('Symbol(s)');
    expect(toProblem(10n, request, dev).body.detail).toBe('10');
    expect(toProblem({ reason: 'nope' }, request, dev).body.detail).toBe('{"reason":"nope"}');
    expect(toProblem({ message: 'plain object' }, request, dev).body.detail).toBe('plain object');
    expect(toProblem(new (class Foo {})(), request, dev).body.detail).toBe('[object Object]');
  });
});

describe('toProblem() with hostile input', () => {
  const throwing = (): never => {
    throw new Error('getter exploded');
  };

  function hostileError(): Error {
    const error = new KeelError('E_TEST_HOSTILE', 'x', { status: 400, help: 'x' });
    // 'stack' first: V8 formats the lazy stack (reading message) when it is redefined.
    for (const key of ['stack', 'message', 'cause', 'details', 'code', 'title', 'headers']) {
      Object.defineProperty(error, key, { get: throwing });
    }
    return error;
  }

  const proxy = new Proxy(
    {},
    {
      get: throwing,
      getPrototypeOf: throwing,
      ownKeys: throwing,
      has: throwing,
      getOwnPropertyDescriptor: throwing,
    },
  );
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();

  const loop: Record<string, unknown> = { name: 'loop' };
  loop.self = loop;
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  Object.defineProperty(a, 'cause', { value: b });
  const selfCause = new Error('self');
  Object.defineProperty(selfCause, 'cause', { value: selfCause });
  const E_TEST_ODD_DETAILS = defineError('E_TEST_ODD_DETAILS', () => 'odd details', {
    status: 400,
    help: 'Nothing to do here.',
    details: () => {
      const details: Record<string, unknown> = {
        loop,
        big: 10n,
        fn: () => 1,
        sym: Symbol('x'),
        nan: Number.NaN,
        when: new Date(0),
        bad: new Date('x'),
        err: new TypeError('inner'),
        deep: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } },
        toJson: { toJSON: throwing },
        okJson: { toJSON: () => ({ v: 1 }) },
        list: [1, undefined, () => 1],
        proxy,
        long: 'x'.repeat(10_000),
      };
      Object.defineProperty(details, 'getter', { get: throwing, enumerable: true });
      Object.defineProperty(details, '__proto__', { value: { polluted: true }, enumerable: true });
      return details;
    },
  });

  const hostile: Array<[string, unknown]> = [
    ['getters that throw', hostileError()],
    ['a Proxy whose traps throw', proxy],
    ['a revoked Proxy', revoked.proxy],
    ['circular causes', a],
    ['a self cause', selfCause],
    ['a circular object', loop],
    ['odd details', new E_TEST_ODD_DETAILS()],
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a function', () => 1],
    ['an object with a throwing toString', { toString: throwing }],
    ['a frozen error', Object.freeze(new Error('frozen'))],
    ['a huge message', new Error('m'.repeat(1_000_000))],
  ];

  for (const [label, error] of hostile) {
    for (const options of [prod, dev]) {
      it(`answers ${label} (debug ${options.debug}) with a consistent body`, () => {
        const problem = toProblem(error, request, options);
        expectConsistent(problem);
        expect(problem.body.requestId).toBe('req-1');
        expect(JSON.stringify(problem.body).length).toBeLessThan(100_000);
        if (!options.debug) expect(JSON.stringify(problem)).not.toContain('getter exploded');
      });
    }
  }

  it('keeps what is readable of odd details', () => {
    const body = toProblem(new E_TEST_ODD_DETAILS(), request, prod).body;
    expect(body.loop).toEqual({ name: 'loop', self: '[Circular]' });
    expect(body.big).toBe('10');
    expect(body.fn).toBeUndefined();
    expect(body.nan).toBeNull();
    expect(body.when).toBe('1970-01-01T00:00:00.000Z');
    expect(body.bad).toBeNull();
    expect(body.err).toEqual({ name: 'TypeError', message: 'inner' });
    expect(JSON.stringify(body.deep)).toContain('[Truncated]');
    expect(body.toJson).toBe('[Unreadable]');
    expect(body.okJson).toEqual({ v: 1 });
    expect(body.list).toEqual([1, null, null]);
    expect(body.proxy).toBe('[Unreadable]');
    expect((body.long as string).length).toBeLessThan(5000);
    expect(body.getter).toBeUndefined();
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stops cause chains at a cycle', () => {
    const body = toProblem(a, request, dev).body;
    expect(body.cause).toEqual([{ name: 'Error', message: 'b' }]);
    expect(toProblem(selfCause, request, dev).body.cause).toBeUndefined();
  });

  it('answers a hostile KeelError with its status and a generic body', () => {
    const problem = toProblem(hostileError(), request, prod);
    expect(problem.status).toBe(400);
    expect(problem.body.code).toBe('E_BAD_REQUEST');
  });

  it('falls back to a plain 500 when even the options cannot be read', () => {
    const options = Object.defineProperty({}, 'debug', { get: throwing }) as { debug: boolean };
    const problem = toProblem(new Error('x'), request, options);
    expectConsistent(problem);
    expect(problem.body.code).toBe('E_INTERNAL_SERVER_ERROR');
    expect(problem.body.requestId).toBe('req-1');
    const worse = toProblem(new Error('x'), proxy as typeof request, options);
    expect(worse.status).toBe(500);
    expect(worse.body.requestId).toBe('');
  });

  it('tolerates a request with missing members', () => {
    const problem = toProblem(httpError(404), {} as typeof request, prod);
    expect(problem.body.instance).toBe('');
    expect(problem.body.requestId).toBe('');
  });
});

describe('problem types', () => {
  it('types the answer', () => {
    expectTypeOf(toProblem).returns.toEqualTypeOf<ProblemResponse>();
    expectTypeOf<ProblemDocument['status']>().toEqualTypeOf<number>();
    expectTypeOf<ProblemResponse['headers']>().toEqualTypeOf<Record<string, string>>();
    expect(new HttpException(400, 'x', { code: 'E_X' }).title).toBe('Bad Request');
  });
});
