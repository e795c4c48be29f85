import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { type ErrorEvent, type ErrorLogger, ErrorReporterRegistry } from './error-reporter.js';
import { installLastResortHandlers } from './last-resort.js';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function memoryLogger(withFatal = true): ErrorLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const write =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return {
    lines,
    error: write('error'),
    warn: write('warn'),
    ...(withFatal ? { fatal: write('fatal') } : {}),
  };
}

function setup(options: Partial<Parameters<typeof installLastResortHandlers>[0]> = {}) {
  const target = new EventEmitter();
  const logger = memoryLogger();
  const reporters = new ErrorReporterRegistry({ logger });
  const events: ErrorEvent[] = [];
  reporters.add((event) => {
    events.push(event);
  });
  const exit = vi.fn<(code: number) => void>();
  const uninstall = installLastResortHandlers({
    logger,
    reporters,
    exit,
    process: target,
    ...options,
  });
  return { target, logger, reporters, events, exit, uninstall };
}

describe('installLastResortHandlers()', () => {
  it('logs and reports an unhandled rejection without stopping the process', async () => {
    const { target, logger, events, exit, uninstall } = setup();
    const reason = new Error('forgot to await');
    target.emit('unhandledRejection', reason, Promise.resolve());
    expect(logger.lines).toEqual([
      {
        level: 'error',
        obj: { err: reason },
        msg: 'Unhandled promise rejection: forgot to await',
      },
    ]);
    expect(events).toEqual([
      { error: reason, status: 500, source: 'unhandledRejection', logged: true },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(exit).not.toHaveBeenCalled();
    uninstall();
  });

  it('logs non-Error rejection reasons', () => {
    const { target, logger } = setup();
    target.emit('unhandledRejection', undefined);
    target.emit('unhandledRejection', 'plain string');
    expect(logger.lines.map((line) => line.msg)).toEqual([
      'Unhandled promise rejection: undefined',
      'Unhandled promise rejection: plain string',
    ]);
    expect(logger.lines[1]?.obj.err).toEqual({ name: 'string', message: 'plain string' });
  });

  it('on an uncaught exception: logs fatal, reports, shuts down, exits 1', async () => {
    const order: string[] = [];
    const { target, logger, events, exit } = setup({
      shutdown: async () => {
        order.push('shutdown');
      },
    });
    exit.mockImplementation((code) => {
      order.push(`exit ${code}`);
    });
    const error = new Error('state corrupted');
    target.emit('uncaughtException', error, 'uncaughtException');
    expect(logger.lines[0]).toEqual({
      level: 'fatal',
      obj: { err: error, origin: 'uncaughtException' },
      msg: 'Uncaught exception: state corrupted',
    });
    expect(events[0]).toMatchObject({ error, source: 'uncaughtException', status: 500 });
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(order).toEqual(['shutdown', 'exit 1']);
  });

  it('waits for async reporters before shutting down', async () => {
    const { target, reporters, exit } = setup();
    let sent = false;
    reporters.add(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      sent = true;
    });
    exit.mockImplementation(() => {
      expect(sent).toBe(true);
    });
    target.emit('uncaughtException', new Error('x'));
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
  });

  it('exits 1 when shutdown fails or hangs past the deadline', async () => {
    const failing = setup({
      shutdown: async () => {
        throw new Error('db close failed');
      },
    });
    failing.target.emit('uncaughtException', new Error('x'));
    await vi.waitFor(() => expect(failing.exit).toHaveBeenCalledWith(1));
    expect(failing.logger.lines.map((line) => line.msg)).toContain(
      'Shutdown after a fatal error failed',
    );

    const hanging = setup({ shutdown: () => new Promise(() => undefined), fatalTimeoutMs: 10 });
    hanging.target.emit('uncaughtException', new Error('x'));
    await vi.waitFor(() => expect(hanging.exit).toHaveBeenCalledWith(1));
    expect(hanging.logger.lines.map((line) => line.msg)).toContain('Forcing exit');
  });

  it('runs a custom onFatal instead, once, and exits 1 if it throws', async () => {
    const onFatal = vi.fn(async () => {
      throw new Error('custom failed');
    });
    const { target, logger, exit } = setup({ onFatal });
    const first = new Error('first');
    target.emit('uncaughtException', first);
    target.emit('uncaughtException', new Error('second'));
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(onFatal).toHaveBeenCalledTimes(1);
    expect(onFatal).toHaveBeenCalledWith(first);
    expect(logger.lines.map((line) => line.msg)).toEqual([
      'Uncaught exception: first',
      'Another uncaught exception while stopping: second',
      'The fatal error handler failed',
    ]);
  });

  it('treats rejections as fatal with exitOnUnhandledRejection', async () => {
    const { target, logger, exit } = setup({ exitOnUnhandledRejection: true });
    target.emit('unhandledRejection', new Error('strict'));
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(logger.lines[0]).toMatchObject({ level: 'fatal' });
  });

  it('works without reporters, and with a logger that has no fatal() or throws', async () => {
    const target = new EventEmitter();
    const logger = memoryLogger(false);
    const exit = vi.fn();
    const uninstall = installLastResortHandlers({ logger, exit, process: target });
    target.emit('uncaughtException', new Error('x'));
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    expect(logger.lines[0]?.level).toBe('error');
    uninstall();

    const broken = installLastResortHandlers({
      logger: {
        error: () => {
          throw new Error('logger down');
        },
      },
      exit,
      process: target,
    });
    expect(() => target.emit('unhandledRejection', new Error('y'))).not.toThrow();
    broken();
  });

  it('uninstalls both handlers', () => {
    const { target, uninstall } = setup();
    expect(target.listenerCount('uncaughtException')).toBe(1);
    expect(target.listenerCount('unhandledRejection')).toBe(1);
    uninstall();
    expect(target.listenerCount('uncaughtException')).toBe(0);
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });

  it('handles the real process events (with the test runner listeners set aside)', async () => {
    // The runner's own listeners would fail the test on these events: capture and restore them.
    const savedExceptions = process.listeners('uncaughtException');
    const savedRejections = process.listeners('unhandledRejection');
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    const logger = memoryLogger();
    const exit = vi.fn();
    const uninstall = installLastResortHandlers({ logger, exit });
    try {
      expect(process.listenerCount('uncaughtException')).toBe(1);
      const settled = Promise.resolve();
      process.emit('unhandledRejection', new Error('real rejection'), settled);
      // @types/node has no emit() overload for this event: Node emits it internally.
      const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean;
      emit('uncaughtException', new Error('real exception'), 'uncaughtException');
      await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
      expect(logger.lines.map((line) => line.msg)).toEqual([
        'Unhandled promise rejection: real rejection',
        'Uncaught exception: real exception',
      ]);
    } finally {
      uninstall();
      for (const listener of savedExceptions) process.on('uncaughtException', listener);
      for (const listener of savedRejections) process.on('unhandledRejection', listener);
    }
    expect(process.listeners('uncaughtException')).toEqual(savedExceptions);
  });
});
