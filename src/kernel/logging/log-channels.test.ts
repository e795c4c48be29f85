import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createApplicationLogger } from './app-logger.js';
import type { LogChannels } from './log-channels.js';
import { type LoggingConfigInput, resolveLoggingConfig } from './logging-config.js';

const roots: string[] = [];
const open: LogChannels[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((channels) => channels.close()));
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'keel-logging-'));
  roots.push(root);
  return root;
}

function sink() {
  const chunks: string[] = [];
  return { write: (line: string) => void chunks.push(line), text: () => chunks.join('') };
}

function setup(config: LoggingConfigInput, options: { root?: string; clock?: () => Date } = {}) {
  const root = options.root ?? tempRoot();
  const stdout = sink();
  const stderr = sink();
  const { logger, channels } = createApplicationLogger({
    name: 'shop',
    env: 'production',
    version: '1.0.0',
    root,
    pretty: false,
    stdout,
    stderr,
    config: resolveLoggingConfig(config),
    ...(options.clock ? { clock: options.clock } : {}),
    // Each line's batch goes out on the next timer, so rotation by size sees line after line.
    batchDelayMs: 0,
  });
  open.push(channels);
  const file = (path: string) => readFileSync(join(root, path), 'utf8');
  const jsonLines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { root, logger, channels, stdout, stderr, file, jsonLines };
}

/** Resolves after `count` rotations of the channel. */
function rotations(channels: LogChannels, name: string, count: number): Promise<string[]> {
  const rotated: string[] = [];
  return new Promise((resolve) => {
    channels.files.get(name)!.onRotated((file) => {
      rotated.push(file);
      if (rotated.length === count) resolve(rotated);
    });
  });
}

// Past the batch's 0 ms timer: the lines logged before are written.
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
const pad = (line: number) => `line ${String(line).padStart(3, '0')} ${'x'.repeat(80)}`;

describe('channels', () => {
  it('writes JSON lines to stdout by default, at the configured level', () => {
    const { logger, stdout, jsonLines } = setup({ level: 'info' });
    logger.debug('hidden');
    logger.info('shown');
    expect(jsonLines(stdout.text()).map((l) => l.msg)).toEqual(['shown']);
    expect(logger.level).toBe('info');
  });

  it('writes a file channel under the app root and flushes it on close', async () => {
    const { logger, channels, file, jsonLines } = setup({
      default: 'app',
      channels: { app: { driver: 'file' } },
    });
    for (let i = 0; i < 50; i++) logger.info({ i }, 'entry');
    await channels.close();
    const lines = jsonLines(file('var/log/app.log'));
    expect(lines.map((l) => l.i)).toEqual([...Array(50).keys()]);
    // A line logged after close (the end of a shutdown) is appended, not lost.
    logger.warn('after close');
    expect(jsonLines(file('var/log/app.log')).at(-1)!.msg).toBe('after close');
  });

  it('rotates by size, keeping every line exactly once across the files', async () => {
    const { logger, channels, root, jsonLines } = setup({
      default: 'app',
      channels: { app: { driver: 'file', path: 'logs/app.log', rotate: '1K' } },
    });
    const rotated = rotations(channels, 'app', 3);
    // One line per batch, as a quiet server logs: a batch is one write, and rotation by
    // size happens between writes.
    for (let i = 0; i < 60; i++) {
      logger.info(pad(i));
      await nextTurn();
    }
    await rotated;
    await channels.close();
    const names = readdirSync(join(root, 'logs')).sort();
    expect(names).toContain('app.log');
    const today = new Date().toISOString().slice(0, 10);
    const rotatedNames = names.filter((n) => n !== 'app.log');
    expect(rotatedNames.length).toBeGreaterThanOrEqual(3);
    for (const name of rotatedNames)
      expect(name).toMatch(new RegExp(`^app-${today}(\\.\\d+)?\\.log$`));
    const all = names.flatMap((n) =>
      jsonLines(readFileSync(join(root, 'logs', n), 'utf8')).map((l) => l.msg as string),
    );
    expect(all.sort()).toEqual([...Array(60).keys()].map(pad));
  });

  it('keeps only the newest `keep` rotated files', async () => {
    const { logger, channels, root } = setup({
      default: 'app',
      channels: { app: { driver: 'file', rotate: '1K', keep: 2 } },
    });
    const rotated = rotations(channels, 'app', 5);
    for (let i = 0; i < 100; i++) {
      logger.info(pad(i));
      await nextTurn();
    }
    await rotated;
    await channels.close();
    const names = readdirSync(join(root, 'var/log')).filter((n) => /^app-.*\.log$/.test(n));
    expect(names).toHaveLength(2);
  });

  it("deletes rotated files older than `keep: 'Nd'` (by the date in their name), and only this channel's", async () => {
    const root = tempRoot();
    const dir = join(root, 'var/log');
    await mkdir(dir, { recursive: true });
    const day = (offset: number) =>
      new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
    const old = [`app-${day(10)}.log`, `app-${day(4)}.2.log.gz`];
    const kept = [`app-${day(1)}.log.gz`, `app-${day(3)}.log`, `other-${day(10)}.log`, 'app.log'];
    for (const name of [...old, ...kept]) writeFileSync(join(dir, name), '{}\n');
    const { channels } = setup(
      { default: 'app', channels: { app: { driver: 'file', rotate: 'daily', keep: '3d' } } },
      { root },
    );
    await channels.files.get('app')!.prune();
    expect(
      readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual(kept.sort());
  });

  it('gzips rotated files', async () => {
    const { logger, channels, root, jsonLines } = setup({
      default: 'app',
      channels: { app: { driver: 'file', rotate: '1K', compress: true } },
    });
    const rotated = rotations(channels, 'app', 1);
    for (let i = 0; i < 20; i++) logger.info(pad(i));
    const [first] = await rotated;
    expect(first).toMatch(/app-\d{4}-\d{2}-\d{2}(\.\d+)?\.log\.gz$/);
    await channels.close();
    const gz = readdirSync(join(root, 'var/log')).filter((n) => n.endsWith('.gz'));
    expect(gz.length).toBeGreaterThan(0);
    const lines = jsonLines(gunzipSync(readFileSync(first!)).toString());
    expect(lines[0]!.msg).toBe(pad(0));
  });

  it('rotates at midnight UTC with daily rotation, naming the file after the day it holds', async () => {
    // The clock rotation reads runs 300 ms before the next UTC midnight.
    const now = Date.now();
    const midnight = Math.ceil(now / 86_400_000) * 86_400_000;
    const offset = midnight - 300 - now;
    const clock = () => new Date(Date.now() + offset);
    const { logger, channels, root, jsonLines, file } = setup(
      { default: 'app', channels: { app: { driver: 'file', rotate: 'daily' } } },
      { clock },
    );
    const rotated = rotations(channels, 'app', 1);
    logger.info('before midnight');
    const [name] = await rotated;
    logger.info('after midnight');
    await channels.close();
    const yesterday = new Date(midnight - 1).toISOString().slice(0, 10);
    expect(name).toBe(join(root, 'var/log', `app-${yesterday}.log`));
    expect(jsonLines(readFileSync(name!, 'utf8')).map((l) => l.msg)).toEqual(['before midnight']);
    expect(jsonLines(file('var/log/app.log')).map((l) => l.msg)).toEqual(['after midnight']);
  });

  it('sends each line to every channel of a stack whose level admits it', async () => {
    const { logger, channels, stdout, file, jsonLines } = setup({
      level: 'info',
      default: 'stack',
      channels: {
        app: { driver: 'file' },
        errors: { driver: 'file', path: 'var/log/errors.log', level: 'error' },
        stack: { driver: 'stack', channels: ['stdout', 'app', 'errors', 'app'] },
      },
    });
    logger.debug('debug');
    logger.info('info');
    logger.warn('warn');
    logger.error('error');
    logger.fatal('fatal');
    await channels.close();
    const all = ['info', 'warn', 'error', 'fatal'];
    expect(jsonLines(stdout.text()).map((l) => l.msg)).toEqual(all);
    // Listed twice in the stack, opened once.
    expect(jsonLines(file('var/log/app.log')).map((l) => l.msg)).toEqual(all);
    expect(jsonLines(file('var/log/errors.log')).map((l) => l.msg)).toEqual(['error', 'fatal']);
    // The same fields on every channel.
    expect(jsonLines(file('var/log/errors.log'))[0]).toEqual(jsonLines(stdout.text())[2]);
  });

  it('takes the lowest level of its channels as the logger level, a lone errors channel included', () => {
    const { logger } = setup({
      level: 'debug',
      default: 'errors',
      channels: { errors: { driver: 'file', level: 'error' } },
    });
    expect(logger.level).toBe('error');
  });

  it('keeps a hostile value on one line in every channel: JSON, pretty and file', async () => {
    const hostile = 'x\r\n{"level":30,"msg":"forged"}\n[12:00:00.000] INFO: forged\u001b[2K';
    const root = tempRoot();
    const stdout = sink();
    const stderr = sink();
    const { logger, channels } = createApplicationLogger({
      name: 'shop',
      env: 'development',
      version: '1.0.0',
      root,
      stdout,
      stderr,
      config: resolveLoggingConfig({
        default: 'stack',
        channels: {
          pretty: { driver: 'stderr', pretty: true },
          app: { driver: 'file' },
          stack: { driver: 'stack', channels: ['stdout', 'pretty', 'app'] },
        },
      }),
    });
    open.push(channels);
    logger.info({ note: hostile, [hostile]: true }, hostile);
    logger.error(new Error(hostile), hostile);
    await channels.close();
    const file = readFileSync(join(root, 'var/log/app.log'), 'utf8');
    for (const json of [stdout.text(), file]) {
      const lines = json.split('\n').filter(Boolean);
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    }
    // Pretty output: one line per entry starts at column 0, its fields and stack indented.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping colours
    const pretty = stderr.text().replace(/\u001b\[\d+m/g, '');
    const lines = pretty.split('\n').filter(Boolean);
    const entries = lines.filter((line) => !/^\s/.test(line));
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(entry).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] /);
    expect(pretty).not.toContain('\u001b[2K');
    expect(pretty).not.toContain('\r');
  });
});

describe('config errors', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'an unknown driver',
      { channels: { app: { driver: 'syslog' } } },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.channels\.app\.driver/,
    ],
    ['a bad level', { level: 'loud' }, 'E_LOGGING_CONFIG_INVALID', /logging\.level/],
    [
      'a bad rotation size',
      { channels: { app: { driver: 'file', rotate: '10 MB' } } },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.channels\.app\.rotate/,
    ],
    [
      'a bad keep',
      { channels: { app: { driver: 'file', keep: '2w' } } },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.channels\.app\.keep/,
    ],
    [
      'an unknown option',
      { channels: { app: { driver: 'file', rotation: 'daily' } } },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.channels\.app/,
    ],
    [
      'a processor that is not a function',
      { processors: ['addTenant'] },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.processors\.0/,
    ],
    [
      'a skip path without a slash',
      { requests: { skip: ['healthz'] } },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.requests\.skip\.0/,
    ],
    [
      'an unknown default',
      { default: 'papertrail' },
      'E_LOGGING_UNKNOWN_CHANNEL',
      /"papertrail" \(used by logging\.default\)/,
    ],
    [
      'a stack member that does not exist',
      { channels: { stack: { driver: 'stack', channels: ['stdout', 'audit'] } } },
      'E_LOGGING_UNKNOWN_CHANNEL',
      /"audit" \(used by logging\.channels\.stack\.channels\)/,
    ],
    [
      'a stack inside a stack',
      {
        channels: {
          a: { driver: 'stack', channels: ['stdout'] },
          b: { driver: 'stack', channels: ['a'] },
        },
      },
      'E_LOGGING_CONFIG_INVALID',
      /logging\.channels\.b\.channels\.0/,
    ],
  ];
  it.each(cases)('rejects %s, naming the key', (_name, config, code, message) => {
    let error: unknown;
    try {
      resolveLoggingConfig(config);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a file channel it cannot write, naming the channel and the path', () => {
    const root = tempRoot();
    writeFileSync(join(root, 'var'), 'a file where the folder should be');
    expect(() =>
      setup({ default: 'app', channels: { app: { driver: 'file' } } }, { root }),
    ).toThrow(
      expect.objectContaining({
        code: 'E_LOGGING_FILE_UNWRITABLE',
        message: expect.stringContaining(`"app" cannot write to ${join(root, 'var/log/app.log')}`),
      }),
    );
    expect(existsSync(join(root, 'var/log'))).toBe(false);
  });

  it('applies LOG_LEVEL and LOG_CHANNEL, the file winning over them', () => {
    const env = (name: string) => ({ LOG_LEVEL: 'warn', LOG_CHANNEL: 'stderr' })[name];
    const fromEnv = resolveLoggingConfig({ channels: { stderr: { driver: 'stderr' } } }, { env });
    expect([fromEnv.level, fromEnv.default]).toEqual(['warn', 'stderr']);
    const fromFile = resolveLoggingConfig({ level: 'error', default: 'stdout' }, { env });
    expect([fromFile.level, fromFile.default]).toEqual(['error', 'stdout']);
    expect(resolveLoggingConfig({}, { production: true }).level).toBe('info');
    expect(resolveLoggingConfig({}).level).toBe('debug');
  });
});
