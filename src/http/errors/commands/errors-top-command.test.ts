import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleUI } from '../../../cli/console-ui.js';
import { resolveAppPaths } from '../../../kernel/index.js';
import { ErrorAggregator } from '../error-aggregator.js';
import { E_ERROR_SNAPSHOT_INVALID, E_NOT_FOUND } from '../errors.js';
import { type ErrorsTopOutput, errorsTopCommand } from './errors-top-command.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'keel-errors-top-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(options: Record<string, unknown> = {}, json = false) {
  const out = capture();
  const err = capture();
  const ui = new ConsoleUI({ json, stdout: out.stream, stderr: err.stream, colors: false });
  const code = await errorsTopCommand.handle({
    app: { paths: resolveAppPaths(root) },
    cwd: root,
    args: {},
    options: { limit: '20', ...options },
    ui,
    verbose: false,
  });
  return { code, out: out.text(), err: err.text() };
}

async function seed(): Promise<void> {
  let time = Date.parse('2024-05-01T10:00:00Z');
  const aggregator = new ErrorAggregator({
    file: join(root, 'var', 'state', 'errors.json'),
    now: () => {
      time += 1000;
      return new Date(time);
    },
  });
  const db = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432\nsecond line'), {
    code: 'ECONNREFUSED',
  });
  for (let i = 0; i < 3; i++) aggregator.record({ error: db, status: 500, route: '/orders' });
  aggregator.record({
    error: new E_NOT_FOUND(`User ${'x'.repeat(100)}`),
    status: 404,
    route: '/users/:id',
  });
  aggregator.record({ error: new TypeError('x is undefined'), status: 500 });
  await aggregator.close();
}

describe('errors:top', () => {
  it('is a created-level command with --json and --limit', () => {
    expect(errorsTopCommand.name).toBe('errors:top');
    expect(errorsTopCommand.needs).toBe('created');
    expect(errorsTopCommand.json).toBe(true);
    expect(errorsTopCommand.options).toEqual([
      expect.objectContaining({ flags: '--limit <n>', default: '20' }),
    ]);
  });

  it('prints the groups as a table, most frequent first', async () => {
    await seed();
    const { code, out } = await run();
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^code\s+route\s+count\s+first seen\s+last seen\s+message\s*$/);
    expect(lines[2]).toMatch(
      /^ECONNREFUSED\s+\/orders\s+3\s+2024-05-01 10:00:01\s+2024-05-01 10:00:03\s+connect ECONNREFUSED 127\.0\.0\.1:5432$/,
    );
    expect(out).toContain('TypeError');
    expect(out).toMatch(/TypeError\s+-\s+1/);
    expect(out).not.toContain('second line');
    expect(out).toContain('…');
    expect(lines.at(-1)).toMatch(
      /^3 of 3 groups; snapshot written \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    );
  });

  it('limits the groups shown', async () => {
    await seed();
    const { out } = await run({ limit: '1' });
    expect(out).toContain('ECONNREFUSED');
    expect(out).not.toContain('TypeError');
    expect(out).toContain('1 of 3 groups');
  });

  it('prints JSON with --json', async () => {
    await seed();
    const { code, out } = await run({ limit: '2' }, true);
    expect(code).toBe(0);
    const data = JSON.parse(out) as ErrorsTopOutput;
    expect(data.file).toBe(join(root, 'var', 'state', 'errors.json'));
    expect(data.total).toBe(3);
    expect(data.groups.map((g) => [g.code, g.count])).toEqual([
      ['ECONNREFUSED', 3],
      ['TypeError', 1],
    ]);
    expect(data.groups[0]?.lastMessage).toContain('second line');
  });

  it('says so when no snapshot exists yet', async () => {
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(out).toContain('No errors recorded yet');
    const json = JSON.parse((await run({}, true)).out) as ErrorsTopOutput;
    expect(json).toMatchObject({ updatedAt: null, total: 0, groups: [] });
  });

  it('refuses a bad --limit', async () => {
    for (const limit of ['0', '-3', 'abc', '2.5']) {
      const { code, err } = await run({ limit });
      expect(code, limit).toBe(1);
      expect(err).toContain('--limit must be a whole number');
    }
  });

  it('fails with E_ERROR_SNAPSHOT_INVALID on a corrupt snapshot', async () => {
    await mkdir(join(root, 'var', 'state'), { recursive: true });
    await writeFile(join(root, 'var', 'state', 'errors.json'), '{oops');
    await expect(run()).rejects.toThrow(E_ERROR_SNAPSHOT_INVALID);
  });
});
