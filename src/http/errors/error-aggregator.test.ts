import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorAggregator, errorKey, topFrame } from './error-aggregator.js';
import { ErrorReporterRegistry } from './error-reporter.js';
import { E_ERROR_SNAPSHOT_INVALID, E_NOT_FOUND } from './errors.js';
import { httpError } from './http-error.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-errors-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An error thrown at a given place, as V8 would print it. */
function thrownAt(message: string, frames: string[], name = 'Error'): Error {
  const error = new Error(message);
  error.name = name;
  error.stack = [`${name}: ${message}`, ...frames.map((frame) => `    at ${frame}`)].join('\n');
  return error;
}

function clock(start = Date.parse('2024-05-01T10:00:00Z')): {
  now: () => Date;
  tick(ms: number): void;
} {
  let time = start;
  return { now: () => new Date(time), tick: (ms) => (time += ms) };
}

describe('topFrame()', () => {
  const root = '/srv/app';

  it('keeps file and function of the first application frame, without line and column', () => {
    expect(
      topFrame(
        [
          'Error: x',
          'at Parser.parse (node:internal/json:10:5)',
          'at Client.query (/srv/app/node_modules/pg/lib/client.js:520:17)',
          'at async OrderService.find (file:///srv/app/modules/orders/order-service.ts?t=1714:42:9)',
          'at handler (/srv/app/modules/orders/routes.ts:10:3)',
        ],
        root,
      ),
    ).toBe('modules/orders/order-service.ts:OrderService.find');
  });

  it('handles anonymous frames, constructors and paths outside the root', () => {
    expect(topFrame(['at /srv/app/x.js:1:2'], root)).toBe('x.js:<anonymous>');
    expect(topFrame(['at new Invoice (/srv/app/invoice.ts:3:4)'], root)).toBe(
      'invoice.ts:new Invoice',
    );
    expect(topFrame(['at run (/opt/lib/run.js:1:1)'], root)).toBe('/opt/lib/run.js:run');
  });

  it('falls back to the first frame when all are internal, and to "" without frames', () => {
    expect(topFrame(['at JSON.parse (<anonymous>)', 'at x (node:internal/a:1:1)'], root)).toBe(
      'node:internal/a:x',
    );
    expect(topFrame(['Error: only a message'], root)).toBe('');
    expect(topFrame(undefined, root)).toBe('');
  });
});

describe('errorKey()', () => {
  it('uses the Keel code, a Node code, the error name or the kind of value', () => {
    expect(errorKey(new E_NOT_FOUND())).toBe('E_NOT_FOUND');
    expect(errorKey(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorKey(Object.assign(new Error('x'), { code: 'not a code' }))).toBe('Error');
    expect(errorKey(new TypeError('x'))).toBe('TypeError');
    expect(errorKey('boom')).toBe('string');
    expect(errorKey(null)).toBe('null');
  });
});

describe('ErrorAggregator', () => {
  it('groups occurrences by code, route and top frame, not by line or message', () => {
    const time = clock();
    const aggregator = new ErrorAggregator({ root: '/srv/app', now: time.now });
    const at = (line: number): string => `find (/srv/app/orders.ts:${line}:3)`;
    aggregator.record({
      error: thrownAt('Order 1 missing', [at(10)]),
      status: 500,
      route: '/o/:id',
      requestId: 'r1',
    });
    time.tick(1000);
    const group = aggregator.record({
      error: thrownAt('Order 2 missing', [at(99)]),
      status: 500,
      route: '/o/:id',
      requestId: 'r2',
    });
    expect(aggregator.size).toBe(1);
    expect(group).toMatchObject({
      code: 'Error',
      route: '/o/:id',
      frame: 'orders.ts:find',
      count: 2,
      firstSeen: '2024-05-01T10:00:00.000Z',
      lastSeen: '2024-05-01T10:00:01.000Z',
      lastMessage: 'Order 2 missing',
      sampleRequestId: 'r2',
      status: 500,
    });
    expect(group.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    aggregator.record({ error: thrownAt('x', [at(10)]), status: 500, route: '/other' });
    aggregator.record({
      error: thrownAt('x', [at(10)], 'TypeError'),
      status: 500,
      route: '/o/:id',
    });
    aggregator.record({
      error: thrownAt('x', ['other (/srv/app/orders.ts:1:1)']),
      status: 500,
      route: '/o/:id',
    });
    aggregator.record({ error: 'thrown string', status: 500 });
    expect(aggregator.size).toBe(5);
  });

  it('sorts top(n) by count, then by most recent', () => {
    const time = clock();
    const aggregator = new ErrorAggregator({ now: time.now });
    const record = (route: string): void => {
      time.tick(1);
      aggregator.record({ error: new E_NOT_FOUND(), status: 404, route });
    };
    for (const route of ['/a', '/b', '/b', '/c', '/c', '/c', '/d']) record(route);
    expect(aggregator.top(3).map((g) => [g.route, g.count])).toEqual([
      ['/c', 3],
      ['/b', 2],
      ['/d', 1],
    ]);
    expect(aggregator.top()).toHaveLength(4);
    expect(aggregator.top(-1)).toEqual([]);
  });

  it('keeps at most maxGroups, dropping the least recently seen', () => {
    const aggregator = new ErrorAggregator({ maxGroups: 3 });
    for (const route of ['/a', '/b', '/c'])
      aggregator.record({ error: new Error('x'), status: 500, route });
    aggregator.record({ error: new Error('x'), status: 500, route: '/a' }); // /a is recent again
    aggregator.record({ error: new Error('x'), status: 500, route: '/d' }); // evicts /b
    expect(aggregator.size).toBe(3);
    expect(
      aggregator
        .top()
        .map((g) => g.route)
        .sort(),
    ).toEqual(['/a', '/c', '/d']);
  });

  it('bounds messages and survives hostile errors', () => {
    const aggregator = new ErrorAggregator();
    const group = aggregator.record({ error: new Error('m'.repeat(10_000)), status: 500 });
    expect(group.lastMessage.length).toBeLessThanOrEqual(301);
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    expect(aggregator.record({ error: hostile, status: 500 }).code).toBe('object');
  });

  it('records through the reporter registry', async () => {
    const aggregator = new ErrorAggregator();
    const registry = new ErrorReporterRegistry();
    registry.add(aggregator.reporter);
    await registry.report(new Error('a'), { route: '/x', requestId: 'r9' });
    await registry.report(httpError(404)); // under the threshold
    expect(aggregator.top()).toEqual([
      expect.objectContaining({ route: '/x', sampleRequestId: 'r9' }),
    ]);
  });

  it('writes the snapshot atomically and reads it back', async () => {
    const file = join(dir, 'state', 'errors.json');
    const aggregator = new ErrorAggregator({ file, writeIntervalMs: 60_000 });
    aggregator.record({ error: new E_NOT_FOUND('User 1'), status: 404, route: '/u/:id' });
    aggregator.record({ error: new Error('boom'), status: 500, route: '/u/:id' });
    aggregator.record({ error: new Error('boom'), status: 500, route: '/u/:id' });
    await aggregator.flush();
    expect(await readdir(join(dir, 'state'))).toEqual(['errors.json']);
    const snapshot = await ErrorAggregator.readSnapshot(file);
    expect(snapshot.version).toBe(1);
    expect(snapshot.pid).toBe(process.pid);
    expect(typeof snapshot.updatedAt).toBe('string');
    expect(snapshot.groups.map((g) => [g.code, g.count])).toEqual([
      ['Error', 2],
      ['E_NOT_FOUND', 1],
    ]);
    expect(snapshot.groups).toEqual(aggregator.snapshot().groups);
  });

  it('throttles writes to one per interval', async () => {
    const file = join(dir, 'errors.json');
    const aggregator = new ErrorAggregator({ file, writeIntervalMs: 20 });
    aggregator.record({ error: new Error('a'), status: 500 });
    aggregator.record({ error: new Error('b'), status: 500 });
    expect((await ErrorAggregator.readSnapshot(file)).updatedAt).toBeNull();
    await vi.waitFor(async () => {
      expect((await ErrorAggregator.readSnapshot(file)).groups[0]?.count).toBe(2);
    });
    await aggregator.close();
  });

  it('writes nothing without a file or without changes', async () => {
    const memory = new ErrorAggregator();
    memory.record({ error: new Error('a'), status: 500 });
    await memory.flush();
    const file = join(dir, 'errors.json');
    const aggregator = new ErrorAggregator({ file });
    await aggregator.flush();
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    aggregator.clear();
    await aggregator.close();
    expect((await ErrorAggregator.readSnapshot(file)).groups).toEqual([]);
  });

  it('reports write failures and retries on the next flush', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const onWriteError = vi.fn();
    const aggregator = new ErrorAggregator({ file: join(blocker, 'errors.json'), onWriteError });
    aggregator.record({ error: new Error('a'), status: 500 });
    await aggregator.flush();
    expect(onWriteError).toHaveBeenCalledTimes(1);
    await aggregator.flush();
    expect(onWriteError).toHaveBeenCalledTimes(2);
    await new ErrorAggregator({ file: join(blocker, 'x.json') }).flush(); // no callback: silent
  });

  it('loads a previous snapshot so counts survive a restart', async () => {
    const file = join(dir, 'errors.json');
    const time = clock();
    const first = new ErrorAggregator({ file, now: time.now });
    first.record({ error: new Error('old'), status: 500, route: '/a' });
    first.record({ error: new Error('old'), status: 500, route: '/b' });
    await first.close();

    const second = new ErrorAggregator({ file, maxGroups: 2, now: time.now });
    time.tick(1000);
    second.record({ error: new Error('new'), status: 500, route: '/c' });
    await second.load();
    // Loaded groups are older than what this process saw: /c survives, the oldest goes.
    expect(
      second
        .top()
        .map((g) => g.route)
        .sort(),
    ).toEqual(['/b', '/c']);
    second.record({ error: new Error('again'), status: 500, route: '/b' });
    expect(second.top()[0]).toMatchObject({ route: '/b', count: 2, lastMessage: 'again' });
    await new ErrorAggregator().load(); // no file: nothing to do
  });

  it('reads a missing snapshot as empty', async () => {
    expect(await ErrorAggregator.readSnapshot(join(dir, 'none.json'))).toEqual({
      version: 1,
      updatedAt: null,
      groups: [],
    });
  });

  it('refuses corrupt or unreadable snapshots with E_ERROR_SNAPSHOT_INVALID', async () => {
    const file = join(dir, 'errors.json');
    for (const content of ['{not json', 'null', '[]', '{"groups":{}}']) {
      await writeFile(file, content);
      await expect(ErrorAggregator.readSnapshot(file), content).rejects.toThrow(
        E_ERROR_SNAPSHOT_INVALID,
      );
    }
    const folder = join(dir, 'folder.json');
    await mkdir(folder);
    await expect(ErrorAggregator.readSnapshot(folder)).rejects.toThrow(/EISDIR/);
  });

  it('skips malformed groups and fills missing fields', async () => {
    const file = join(dir, 'errors.json');
    await writeFile(
      file,
      JSON.stringify({
        updatedAt: 5,
        groups: [null, { fingerprint: 'a' }, { count: 1 }, { fingerprint: 'b', count: 3 }],
      }),
    );
    expect(await ErrorAggregator.readSnapshot(file)).toEqual({
      version: 1,
      updatedAt: null,
      groups: [
        {
          fingerprint: 'b',
          count: 3,
          code: '',
          route: '',
          frame: '',
          status: 500,
          firstSeen: '',
          lastSeen: '',
          lastMessage: '',
        },
      ],
    });
  });
});
