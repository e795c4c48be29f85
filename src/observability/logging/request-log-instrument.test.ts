import { describe, expect, it } from 'vitest';
import type { HttpContext, RequestOutcome } from '../../http/index.js';
import {
  createApplicationLogger,
  createLogger,
  type ExecutionScope,
  lineSink,
  resolveLoggingConfig,
} from '../../kernel/index.js';
import { requestLogInstrument } from './request-log-instrument.js';

type Line = Record<string, unknown>;

/** A logger writing into memory; `viaPino` configures a redaction path, which rules out the fast line. */
function memoryLogger(options: { viaPino?: boolean; level?: string } = {}) {
  const raw: string[] = [];
  const logger = createLogger({
    name: 'erp',
    env: 'production',
    version: '2.1.0',
    level: options.level ?? 'info',
    destination: { write: (line: string) => raw.push(line) },
    ...(options.viaPino ? { redact: ['nothing.here'] } : {}),
  });
  return { logger, raw };
}

function fakeContext(overrides: Partial<Record<string, unknown>> = {}): HttpContext {
  return {
    requestId: 'req-1',
    method: 'GET',
    path: '/orders/7',
    ip: '203.0.113.9',
    route: { record: { path: '/orders/:id', module: 'orders' } },
    ...overrides,
  } as unknown as HttpContext;
}

const OK: RequestOutcome = {
  status: 200,
  durationMs: 1.23456,
  bytes: 42,
  aborted: false,
  error: undefined,
};

/** The same request logged by the fast line and through pino, parsed, without the clock's fields. */
function bothWays(
  ctx: HttpContext,
  outcome: RequestOutcome,
  scope?: ExecutionScope,
): { fast: Line[]; pino: Line[]; rawFast: string[] } {
  const fast = memoryLogger();
  const slow = memoryLogger({ viaPino: true });
  expect(lineSink(fast.logger)).toBeDefined();
  expect(lineSink(slow.logger)).toBeUndefined();
  for (const { logger } of [fast, slow]) requestLogInstrument(logger).end(ctx, scope, outcome);
  const parse = (raw: string[]) =>
    raw.map((line) => {
      const { time, memory, ...rest } = JSON.parse(line) as Line;
      expect(typeof time).toBe('string');
      expect(typeof memory).toBe('number');
      return rest;
    });
  return { fast: parse(fast.raw), pino: parse(slow.raw), rawFast: fast.raw };
}

describe('the access line', () => {
  it('formatted by hand is the line pino writes, field for field and in the same order', () => {
    const { fast, pino } = bothWays(fakeContext(), OK);
    expect(fast).toEqual(pino);
    expect(Object.keys(fast[0]!)).toEqual(Object.keys(pino[0]!));
    expect(fast[0]).toEqual({
      level: 30,
      app: 'erp',
      env: 'production',
      version: '2.1.0',
      pid: process.pid,
      route: '/orders/:id',
      module: 'orders',
      request_id: 'req-1',
      method: 'GET',
      path: '/orders/7',
      status: 200,
      duration_ms: 1.235,
      bytes: 42,
      ip: '203.0.113.9',
      msg: 'request completed',
    });
  });

  it('matches pino for a 404 without a route, unknown bytes, an abort, a user and error levels', () => {
    const cases: Array<[HttpContext, RequestOutcome, ExecutionScope | undefined]> = [
      [fakeContext({ route: undefined }), { ...OK, status: 404, bytes: undefined }, undefined],
      [fakeContext(), { ...OK, status: 503, aborted: true }, { request_id: 'req-1', user_id: 7 }],
      [fakeContext(), { ...OK, status: 422 }, { request_id: 'req-1', user_id: 'u-"quoted"' }],
    ];
    for (const [ctx, outcome, scope] of cases) {
      const { fast, pino } = bothWays(ctx, outcome, scope);
      expect(fast).toEqual(pino);
      expect(fast[0]!.level).toBe(outcome.status >= 500 ? 50 : outcome.status >= 400 ? 40 : 30);
    }
  });

  it('escapes hostile paths so CR/LF cannot forge a line, and masks card numbers as pino does', () => {
    const forged = '/x\r\n{"level":30,"msg":"forged"}\u2028"\\';
    const { fast, pino, rawFast } = bothWays(fakeContext({ path: forged }), OK);
    expect(rawFast).toHaveLength(1);
    expect(rawFast[0]!.split('\n')).toEqual([expect.any(String), '']);
    expect(fast[0]!.path).toBe(forged);
    expect(fast).toEqual(pino);

    const card = bothWays(fakeContext({ path: '/pay/4111111111111111' }), OK);
    expect(card.fast[0]!.path).not.toContain('4111111111111111');
    expect(card.fast).toEqual(card.pino);

    // The scan looks at the path before it is quoted and escaped: a card number between
    // characters that escaping expands is found all the same.
    const spaced = bothWays(fakeContext({ path: '/pay/\t4111 1111 1111 1111\n"x' }), OK);
    expect(spaced.fast[0]!.path).not.toContain('4111 1111 1111 1111');
    expect(spaced.fast).toEqual(spaced.pino);
  });

  it('masks a card number in every user-supplied value, each on its own, and leaves the rest', () => {
    // A client may send any [A-Za-z0-9._:-] request id, and a user id is whatever the app set.
    const scope: ExecutionScope = {
      request_id: '4111-1111-1111-1111',
      user_id: 'u 5500000000000004',
    };
    const ctx = fakeContext({ requestId: '4111-1111-1111-1111', path: '/orders/4242424242424242' });
    const { fast, pino } = bothWays(ctx, OK, scope);
    expect(fast).toEqual(pino);
    expect(fast[0]).toMatchObject({
      request_id: '****-****-****-1111',
      user_id: 'u ************0004',
      path: '/orders/************4242',
      ip: '203.0.113.9',
      route: '/orders/:id',
    });
    // Digits that are not a card (Luhn fails, or grouped unlike a card) are kept as they are.
    const plain = bothWays(fakeContext({ requestId: '1234567890123', path: '/d/2026-11-27' }), OK);
    expect(plain.fast[0]).toMatchObject({ request_id: '1234567890123', path: '/d/2026-11-27' });
    expect(plain.fast).toEqual(plain.pino);
  });

  it('writes the duration rounded to the microsecond, as pino would write the rounded number', () => {
    for (const durationMs of [0, 0.0004, 0.01, 1.5, 12.3456, 60_000.0005]) {
      const { fast, pino } = bothWays(fakeContext(), { ...OK, durationMs });
      expect(fast[0]!.duration_ms).toBe(Math.round(durationMs * 1000) / 1000);
      expect(fast).toEqual(pino);
    }
  });

  it("honours the logger's level: a 200 below `warn` is not written, a 500 is", () => {
    const { logger, raw } = memoryLogger({ level: 'warn' });
    const instrument = requestLogInstrument(logger);
    instrument.end(fakeContext(), undefined, OK);
    instrument.end(fakeContext(), undefined, { ...OK, status: 500 });
    expect(raw.map((line) => (JSON.parse(line) as Line).status)).toEqual([500]);
  });

  it("goes through pino when the scope carries annotations, so they are redacted like any line's", () => {
    const { logger, raw } = memoryLogger();
    const scope: ExecutionScope = {
      request_id: 'req-1',
      fields: { order_id: 12, password: 'hunter2' },
    };
    requestLogInstrument(logger).end(fakeContext(), scope, OK);
    const line = JSON.parse(raw[0]!) as Line;
    expect(line.order_id).toBe(12);
    expect(line.password).toBe('[redacted]');
  });

  it('reaches each channel of a stack by level, like any line (errors-only file gets only 5xx)', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const { logger, channels } = createApplicationLogger({
      name: 'erp',
      env: 'production',
      version: '1',
      root: process.cwd(),
      stdout: { write: (line: string) => out.push(line) },
      stderr: { write: (line: string) => err.push(line) },
      config: resolveLoggingConfig({
        default: 'both',
        channels: {
          errors: { driver: 'stderr', level: 'error' },
          both: { driver: 'stack', channels: ['stdout', 'errors'] },
        },
      }),
    });
    expect(lineSink(logger)).toBeDefined();
    const instrument = requestLogInstrument(logger);
    instrument.end(fakeContext(), undefined, OK);
    instrument.end(fakeContext(), undefined, { ...OK, status: 500 });
    await channels.close();
    expect(out.map((line) => (JSON.parse(line) as Line).status)).toEqual([200, 500]);
    expect(err.map((line) => (JSON.parse(line) as Line).status)).toEqual([500]);
  });
});
