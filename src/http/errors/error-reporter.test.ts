import type { Logger } from 'pino';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { defineError } from '../../support/index.js';
import {
  type ErrorEvent,
  type ErrorLogger,
  ErrorReporterRegistry,
  loggable,
  loggerReporter,
} from './error-reporter.js';
import { httpError } from './http-error.js';

interface Line {
  level: 'error' | 'warn';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function memoryLogger(): ErrorLogger & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
}

const context = { requestId: 'r1', method: 'GET', path: '/orders/7', route: '/orders/:id' };

describe('ErrorReporterRegistry', () => {
  it('sends the event to every reporter', async () => {
    const registry = new ErrorReporterRegistry({ logger: memoryLogger() });
    const events: ErrorEvent[] = [];
    registry.add((event) => {
      events.push(event);
    });
    registry.add(async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      events.push(event);
    });
    const error = new Error('boom');
    expect(await registry.report(error, { ...context, userId: 12 })).toBe(true);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      error,
      status: 500,
      source: 'request',
      requestId: 'r1',
      method: 'GET',
      path: '/orders/7',
      route: '/orders/:id',
      userId: 12,
    });
    expect(registry.size).toBe(2);
  });

  it('reports an error once, however often it is rethrown', async () => {
    const seen: unknown[] = [];
    const registry = new ErrorReporterRegistry();
    registry.add((event) => {
      seen.push(event.error);
    });
    const other = new ErrorReporterRegistry();
    other.add((event) => {
      seen.push(event.error);
    });
    const error = new Error('once');
    expect(await registry.report(error, context)).toBe(true);
    expect(await registry.report(error, context)).toBe(false);
    // The mark is on the error, so another registry (another layer) skips it too.
    expect(await other.report(error, context)).toBe(false);
    expect(seen).toEqual([error]);
    expect(Object.keys(error)).toEqual([]);
  });

  it('remembers frozen errors without marking them', async () => {
    const registry = new ErrorReporterRegistry();
    const reporter = vi.fn();
    registry.add(reporter);
    const frozen = Object.freeze(new Error('frozen'));
    await registry.report(frozen);
    await registry.report(frozen);
    expect(reporter).toHaveBeenCalledTimes(1);
  });

  it('reports primitives every time (they cannot be marked)', async () => {
    const registry = new ErrorReporterRegistry();
    const reporter = vi.fn();
    registry.add(reporter);
    await registry.report('boom');
    await registry.report('boom');
    await registry.report(null);
    expect(reporter).toHaveBeenCalledTimes(3);
  });

  it('skips 4xx by default and reports them from a lower threshold', async () => {
    const registry = new ErrorReporterRegistry();
    const reporter = vi.fn();
    registry.add(reporter);
    expect(registry.minStatus).toBe(500);
    expect(await registry.report(httpError(404))).toBe(false);
    expect(await registry.report(new Error('x'), { status: 422 })).toBe(false);
    const notFound = httpError(404);
    expect(registry.shouldReport(notFound)).toBe(false);
    registry.reportStatuses(400);
    expect(registry.shouldReport(notFound)).toBe(true);
    expect(await registry.report(notFound)).toBe(true);
    expect(reporter).toHaveBeenCalledWith(expect.objectContaining({ status: 404 }));
    expect(new ErrorReporterRegistry({ minStatus: 400 }).minStatus).toBe(400);
    expect(registry.reportStatuses(Number.NaN).minStatus).toBe(500);
  });

  it('does not mark an error it skipped, so a later layer can still report it', async () => {
    const registry = new ErrorReporterRegistry();
    const reporter = vi.fn();
    registry.add(reporter);
    const error = new Error('late');
    await registry.report(error, { status: 404 });
    await registry.report(error, { status: 500 });
    expect(reporter).toHaveBeenCalledTimes(1);
  });

  it('catches reporters that throw or reject, logs them and keeps going', async () => {
    const logger = memoryLogger();
    const registry = new ErrorReporterRegistry({ logger });
    const good = vi.fn();
    registry.add(function sentry() {
      throw new Error('sentry down');
    });
    registry.add(async () => {
      throw new Error('rejected');
    });
    registry.add(good);
    await expect(registry.report(new Error('boom'))).resolves.toBe(true);
    expect(good).toHaveBeenCalledTimes(1);
    expect(logger.lines.map((line) => [line.msg, line.obj.reporter])).toEqual([
      ['Error reporter failed', 'sentry'],
      ['Error reporter failed', 'anonymous'],
    ]);
  });

  it('survives a logger that throws too', async () => {
    const registry = new ErrorReporterRegistry({
      logger: {
        error: () => {
          throw new Error('logger broken');
        },
      },
    });
    registry.add(() => {
      throw new Error('reporter broken');
    });
    await expect(registry.report(new Error('boom'))).resolves.toBe(true);
  });

  it('logs reporter failures to the console without a logger', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const registry = new ErrorReporterRegistry();
      registry.add(() => {
        throw new Error('reporter broken');
      });
      await registry.report(new Error('boom'));
      expect(spy).toHaveBeenCalledWith('Error reporter failed', expect.any(Object));
    } finally {
      spy.mockRestore();
    }
  });

  it('runs synchronous reporters before report() returns', () => {
    const registry = new ErrorReporterRegistry();
    const reporter = vi.fn();
    registry.add(reporter);
    void registry.report(new Error('now'));
    expect(reporter).toHaveBeenCalledTimes(1);
  });

  it('removes a reporter', async () => {
    const registry = new ErrorReporterRegistry();
    const reporter = vi.fn();
    const remove = registry.add(reporter);
    remove();
    await registry.report(new Error('x'));
    expect(reporter).not.toHaveBeenCalled();
  });

  it('flushes reports in flight, within a deadline', async () => {
    const registry = new ErrorReporterRegistry();
    let sent = false;
    registry.add(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      sent = true;
    });
    void registry.report(new Error('a'));
    await registry.flush();
    expect(sent).toBe(true);
    await registry.flush(); // nothing pending

    const stuck = new ErrorReporterRegistry();
    stuck.add(() => new Promise<void>(() => undefined));
    void stuck.report(new Error('b'));
    await stuck.flush(5); // resolves although the reporter never settles
  });
});

describe('loggerReporter()', () => {
  it('logs one error line with the request fields', async () => {
    const logger = memoryLogger();
    const registry = new ErrorReporterRegistry({ logger });
    registry.add(loggerReporter(logger));
    const error = new Error('boom');
    await registry.report(error, { ...context, userId: 'u1' });
    expect(logger.lines).toEqual([
      {
        level: 'error',
        obj: {
          err: error,
          status: 500,
          request_id: 'r1',
          method: 'GET',
          path: '/orders/7',
          route: '/orders/:id',
          user_id: 'u1',
          source: 'request',
        },
        msg: 'GET /orders/7 failed: boom',
      },
    ]);
  });

  it('logs 4xx as warnings and names the code', async () => {
    const logger = memoryLogger();
    const registry = new ErrorReporterRegistry({ minStatus: 400 });
    registry.add(loggerReporter(logger));
    await registry.report(httpError(409, 'Taken'), context);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      obj: { code: 'E_CONFLICT', status: 409 },
      msg: 'GET /orders/7 failed: Taken',
    });
  });

  it('falls back to error() without warn(), and names the source outside requests', async () => {
    const lines: unknown[][] = [];
    const reporter = loggerReporter({ error: (obj, msg) => lines.push([obj, msg]) });
    await reporter({ error: 'boom', status: 404, source: 'job' });
    expect(lines[0]?.[1]).toBe('job failed: boom');
    expect(lines[0]?.[0]).toEqual({
      err: { name: 'string', message: 'boom' },
      status: 404,
      source: 'job',
    });
  });

  it('skips events the caller already logged', async () => {
    const logger = memoryLogger();
    await loggerReporter(logger)({ error: new Error('x'), status: 500, source: 'x', logged: true });
    expect(logger.lines).toEqual([]);
  });

  it('accepts a pino logger', () => {
    expectTypeOf<Logger>().toMatchTypeOf<ErrorLogger>();
  });
});

describe('loggable()', () => {
  it('keeps clean errors and describes hostile ones', () => {
    const error = new Error('fine');
    expect(loggable(error)).toBe(error);
    const E_TEST_LOG = defineError('E_TEST_LOG', () => 'keel', { help: 'Nothing to do here.' });
    const keel = new E_TEST_LOG();
    expect(loggable(keel)).toBe(keel);
    const circular = Object.assign(new Error('circular'), { self: undefined as unknown });
    circular.self = circular;
    expect(loggable(circular)).toMatchObject({ name: 'Error', message: 'circular' });
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'cause', {
      get() {
        throw new Error('no');
      },
    });
    expect(loggable(hostile)).toMatchObject({ message: 'x' });
    expect(loggable(undefined)).toEqual({ name: 'undefined', message: 'undefined' });
  });
});
