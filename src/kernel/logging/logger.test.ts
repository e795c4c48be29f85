import { afterEach, describe, expect, it, vi } from 'vitest';
import { executionContext } from '../execution-context.js';
import { createLogger, isoTimeCached, type LoggerSettings } from '../logger.js';
import { jsonString, millisString } from './line-sink.js';
import { sampledRssMb } from './log-context.js';
import type { LogProcessor } from './logging-config.js';

function capture(settings: Partial<LoggerSettings> = {}) {
  const raw: string[] = [];
  const logger = createLogger({
    name: 'shop',
    env: 'production',
    version: '2.1.0',
    level: 'debug',
    destination: { write: (line: string) => raw.push(line) },
    ...settings,
  });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fields on every line', () => {
  it('carries app, env, version, pid and memory outside any scope', () => {
    const { logger, lines } = capture();
    logger.info('boot');
    const [line] = lines();
    expect(line).toMatchObject({
      level: 30,
      app: 'shop',
      env: 'production',
      version: '2.1.0',
      pid: process.pid,
      msg: 'boot',
    });
    expect(line!.memory).toBeTypeOf('number');
    expect(line!.memory as number).toBeGreaterThan(0);
    expect(line).not.toHaveProperty('request_id');
    expect(line).not.toHaveProperty('hostname');
  });

  it('adds request_id, job_id, user_id and annotations from the execution scope, through awaits', async () => {
    const { logger, lines } = capture();
    const moduleLogger = logger.child({ module: 'billing' });
    await executionContext.run({ request_id: 'req-1' }, async () => {
      logger.info('before auth');
      await new Promise((resolve) => setTimeout(resolve, 1));
      executionContext.setUser(42);
      executionContext.annotate({ tenant: 'acme' });
      moduleLogger.info('after auth');
    });
    await executionContext.run({ job_id: 'job-9', request_id: 'req-1' }, async () => {
      await Promise.resolve();
      logger.warn('in a job');
    });
    const [before, after, job] = lines();
    expect(before).toMatchObject({ request_id: 'req-1', msg: 'before auth' });
    expect(before).not.toHaveProperty('user_id');
    expect(after).toMatchObject({
      request_id: 'req-1',
      user_id: 42,
      tenant: 'acme',
      module: 'billing',
    });
    expect(job).toMatchObject({ job_id: 'job-9', request_id: 'req-1', level: 40 });
    expect(job).not.toHaveProperty('user_id');
  });

  it("lets a line's own fields win over the scope's", () => {
    const { logger, lines } = capture();
    executionContext.run({ request_id: 'from-scope' }, () => {
      logger.info({ request_id: 'explicit' }, 'x');
    });
    expect(lines()[0]!.request_id).toBe('explicit');
  });

  it('writes an id a child logger binds once, leaving the scope to the ids it does not bind', () => {
    const { logger, raw, lines } = capture();
    const job = logger.child({ job_id: 'job-1', request_id: 'req-1' });
    const request = logger.child({ request_id: 'req-2' }).child({ step: 'pay' });
    // A value that reads like a bound key is escaped in the bindings: it must not count.
    const lookalike = logger.child({ note: ',"request_id":"x" user_id":' });
    executionContext.run({ job_id: 'job-1', request_id: 'req-1', user_id: 7 }, () => {
      job.info('job line');
      lookalike.info('lookalike line');
    });
    executionContext.run({ request_id: 'req-2' }, () => request.info('request line'));
    for (const line of raw) {
      for (const key of ['request_id', 'job_id', 'user_id']) {
        expect(line.split(`"${key}":`).length - 1).toBeLessThanOrEqual(1);
      }
    }
    const [jobLine, lookalikeLine, requestLine] = lines();
    expect(jobLine).toMatchObject({ job_id: 'job-1', request_id: 'req-1', user_id: 7 });
    expect(lookalikeLine).toMatchObject({ request_id: 'req-1', job_id: 'job-1', user_id: 7 });
    expect(requestLine).toMatchObject({ request_id: 'req-2', step: 'pay' });
  });

  it('keeps a bound id over the scope, as a line keeps its own fields', () => {
    const { logger, raw, lines } = capture();
    executionContext.run({ request_id: 'from-scope' }, () => {
      logger.child({ request_id: 'bound' }).info('x');
    });
    expect(raw[0]!.match(/"request_id"/g)).toHaveLength(1);
    expect(lines()[0]!.request_id).toBe('bound');
  });

  it('samples memory at most once a second', () => {
    const rss = vi.spyOn(process.memoryUsage, 'rss');
    const at = Date.now() + 10_000;
    sampledRssMb(at);
    const calls = rss.mock.calls.length;
    for (let i = 0; i < 100; i++) sampledRssMb(at + i);
    expect(rss.mock.calls.length).toBe(calls);
    sampledRssMb(at + 1000);
    expect(rss.mock.calls.length).toBe(calls + 1);
  });

  it('leaves memory out when asked', () => {
    const { logger, lines } = capture({ memory: false });
    logger.info('x');
    expect(lines()[0]).not.toHaveProperty('memory');
  });
});

describe('processors', () => {
  it('add fields computed from the line and the scope; the line wins on a clash', () => {
    const seen: Array<[Record<string, unknown>, unknown, number]> = [];
    const region: LogProcessor = () => ({ region: 'eu-west-1', order: 'processor' });
    const tenant: LogProcessor = (fields, scope, level) => {
      seen.push([{ ...fields }, scope?.request_id, level]);
      return scope ? { tenant_of: scope.request_id } : undefined;
    };
    const { logger, lines } = capture({ processors: [region, tenant] });
    executionContext.run({ request_id: 'r-7' }, () => logger.info({ order: 'line' }, 'placed'));
    logger.error('outside');
    const [inside, outside] = lines();
    expect(inside).toMatchObject({ region: 'eu-west-1', tenant_of: 'r-7', order: 'line' });
    expect(outside).toMatchObject({ region: 'eu-west-1', order: 'processor' });
    expect(outside).not.toHaveProperty('tenant_of');
    expect(seen).toEqual([
      [{ order: 'line' }, 'r-7', 30],
      [{}, undefined, 50],
    ]);
  });

  it('survives a processor that throws: the line is written without its fields, one warning', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const broken: LogProcessor = function broken() {
      throw new Error('processor bug');
    };
    const { logger, lines } = capture({ processors: [broken, () => ({ ok: true })] });
    logger.info('one');
    logger.info('two');
    expect(lines().map((l) => [l.msg, l.ok])).toEqual([
      ['one', true],
      ['two', true],
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('threw: processor bug');
  });
});

describe('redaction', () => {
  it('redacts the usual secrets at the top level, one level down and in request headers', () => {
    const { logger, raw, lines } = capture();
    logger.info(
      {
        password: 'hunter2',
        token: 't0k3n',
        apiKey: 'k-1',
        secret: 's-1',
        headers: {
          authorization: 'Bearer abc.def',
          cookie: 'sid=123',
          'set-cookie': ['sid=456'],
          'x-api-key': 'key-9',
          accept: 'text/html',
        },
        req: { headers: { authorization: 'Basic Zm9v', cookie: 'a=b', host: 'shop.test' } },
        user: { email: 'ada@example.com', password: 'p4ss', access_token: 'at', cardNumber: '1' },
      },
      'login',
    );
    const [line] = lines();
    expect(line).toMatchObject({
      password: '[redacted]',
      token: '[redacted]',
      apiKey: '[redacted]',
      secret: '[redacted]',
      headers: {
        authorization: '[redacted]',
        cookie: '[redacted]',
        'set-cookie': '[redacted]',
        'x-api-key': '[redacted]',
        accept: 'text/html',
      },
      req: { headers: { authorization: '[redacted]', cookie: '[redacted]', host: 'shop.test' } },
      user: {
        email: 'ada@example.com',
        password: '[redacted]',
        access_token: '[redacted]',
        cardNumber: '[redacted]',
      },
    });
    for (const secret of ['hunter2', 't0k3n', 'abc.def', 'sid=123', 'sid=456', 'key-9', 'p4ss'])
      expect(raw[0]).not.toContain(secret);
  });

  it('redacts configured paths as well', () => {
    const { logger, raw, lines } = capture({ redact: ['body.iban', '*.ssn'] });
    logger.info({
      body: { iban: 'DE89370400440532013000', name: 'Ada' },
      person: { ssn: '078-05-1120' },
    });
    expect(lines()[0]).toMatchObject({
      body: { iban: '[redacted]', name: 'Ada' },
      person: { ssn: '[redacted]' },
    });
    expect(raw[0]).not.toContain('DE89370400440532013000');
  });

  it('masks card numbers in the message, in nested strings and in error messages', () => {
    const { logger, raw, lines } = capture();
    logger.info(
      { order: { note: 'paid with 4111-1111-1111-1111' }, amount: 4111111111111111 },
      'charge 5500 0000 0000 0004 accepted',
    );
    logger.error(new Error('card 4111111111111111 declined'));
    const [charge, failure] = lines();
    expect(charge!.msg).toBe('charge **** **** **** 0004 accepted');
    expect(charge!.order).toEqual({ note: 'paid with ****-****-****-1111' });
    // A number is not a string a user typed: it keeps its value.
    expect(charge!.amount).toBe(4111111111111111);
    expect((failure!.err as { message: string }).message).toBe('card ************1111 declined');
    expect(raw.join('')).not.toMatch(/4111[ -]?1111[ -]?1111[ -]?1111"/);
  });

  it('can leave card numbers alone when configured so', () => {
    const { logger, lines } = capture({ maskCardNumbers: false });
    logger.info('4111111111111111');
    expect(lines()[0]!.msg).toBe('4111111111111111');
  });
});

describe('forged lines', () => {
  const hostile = 'ok\r\n{"level":30,"time":"2026-01-01T00:00:00.000Z","msg":"forged"}\n';

  it('cannot start a line of its own from a message, a field, a key or an error', () => {
    const { logger, raw, lines } = capture();
    logger.info({ note: hostile, [hostile]: 1, nested: { deep: hostile } }, hostile);
    logger.info('user said %s', hostile);
    logger.error(new Error(hostile));
    // Each call wrote exactly one line.
    expect(raw).toHaveLength(3);
    for (const line of raw) expect(line.indexOf('\n')).toBe(line.length - 1);
    const [first, formatted, failure] = lines();
    // The message reads as one line even once a viewer decodes the JSON.
    expect(first!.msg).toBe(
      'ok\\r\\n{"level":30,"time":"2026-01-01T00:00:00.000Z","msg":"forged"}\\n',
    );
    expect(formatted!.msg).not.toMatch(/[\r\n]/);
    expect(failure!.msg).not.toMatch(/[\r\n]/);
    // Fields keep their value: JSON escapes them on the way out.
    expect(first!.note).toBe(hostile);
  });
});

describe('isoTimeCached', () => {
  afterEach(() => vi.restoreAllMocks());

  it('formats the same timestamp as toISOString across millisecond, second and day edges', () => {
    const base = Date.UTC(2026, 10, 27, 23, 59, 58, 990);
    const times = [
      ...Array.from({ length: 1200 }, (_, i) => base + i),
      Date.UTC(2026, 0, 1, 0, 0, 0, 0),
      Date.UTC(2026, 0, 1, 0, 0, 0, 9),
      Date.UTC(2026, 0, 1, 0, 0, 0, 10),
      Date.UTC(2026, 0, 1, 0, 0, 0, 99),
      Date.UTC(2026, 0, 1, 0, 0, 0, 100),
      Date.UTC(2026, 0, 1, 0, 0, 0, 999),
      Date.UTC(2028, 1, 29, 12, 0, 0, 5),
      base,
    ];
    const now = vi.spyOn(Date, 'now');
    for (const time of times) {
      now.mockReturnValue(time);
      expect(isoTimeCached()).toBe(`,"time":"${new Date(time).toISOString()}"`);
    }
  });
});

describe('jsonString', () => {
  it('gives what JSON.stringify gives for any string', () => {
    const samples = [
      '',
      '/users/42',
      '127.0.0.1',
      '::ffff:10.0.0.1',
      'GET',
      'a"b',
      'back\\slash',
      'line\nbreak\r\n',
      'tab\there',
      '\u0000\u001f\u007f',
      'zoë ünïcode',
      '🚀 rocket',
      '\ud800 lone high',
      'lone low \udfff',
      '\u2028\u2029',
      '</script>',
    ];
    for (let c = 0; c < 0x80; c++) samples.push(`x${String.fromCharCode(c)}y`);
    for (const text of samples) expect(jsonString(text)).toBe(JSON.stringify(text));
  });
});

describe('millisString', () => {
  const expected = (ms: number) => String(Math.round(ms * 1000) / 1000);

  it('writes a duration as String(Math.round(ms * 1000) / 1000) does', () => {
    const samples = [0, 0.0004, 0.0005, 0.001, 0.01, 0.011, 0.1, 0.12, 0.123, 1, 1.5, 2.05];
    samples.push(12.3456, 999.9995, 1000, 60_000.001, 2_147_483.647, 2_147_483.648, 1e9 + 0.5);
    for (const ms of samples) expect(millisString(ms), String(ms)).toBe(expected(ms));
    // Every microsecond of the first ten milliseconds, then a spread of larger values.
    for (let us = 0; us < 10_000; us++) expect(millisString(us / 1000)).toBe(expected(us / 1000));
    for (let i = 0; i < 2000; i++) {
      const ms = (i * 7919.123457) % 5_000_000;
      expect(millisString(ms), String(ms)).toBe(expected(ms));
    }
  });

  it('falls back to the double for what is not a short positive duration', () => {
    for (const ms of [-0.5, -3, Number.NaN, Number.POSITIVE_INFINITY, 1e25])
      expect(millisString(ms)).toBe(expected(ms));
  });
});
