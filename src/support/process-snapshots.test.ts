import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isProcessRunning,
  isProcessSnapshotFile,
  PeriodicSnapshotWriter,
  type ProcessSnapshotHeader,
  processSnapshotFileName,
  readProcessSnapshots,
  writeFileAtomic,
} from './index.js';

const folders: string[] = [];
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-process-snapshots-'));
  folders.push(dir);
  return join(dir, 'snapshots');
}

const HOUR = 3_600_000;
const NOW = new Date('2026-03-01T12:00:00.000Z');

interface Counts extends ProcessSnapshotHeader {
  counts: number[];
}

/** The subsystem part of a file: a `counts` array of numbers. */
function parseCounts(d: Record<string, unknown>): Counts | string {
  if (!Array.isArray(d.counts) || !d.counts.every((n) => typeof n === 'number'))
    return 'no "counts"';
  return d as unknown as Counts;
}

function file(pid: number, host: string, updatedAt: Date, extra: object = {}): string {
  return JSON.stringify({ pid, host, updatedAt: updatedAt.toISOString(), counts: [1], ...extra });
}

describe('processSnapshotFileName / isProcessSnapshotFile', () => {
  it('names files by host and pid, never with path characters, and knows its own names', () => {
    expect(processSnapshotFileName('api.example.com', 12)).toBe('api.example.com-12.json');
    expect(processSnapshotFileName('../../etc/passwd', 1)).toBe('.._.._etc_passwd-1.json');
    expect(processSnapshotFileName('', 7)).toBe('host-7.json');
    expect(processSnapshotFileName('h'.repeat(300), 3)).toBe(`${'h'.repeat(100)}-3.json`);
    expect(isProcessSnapshotFile(processSnapshotFileName('web 1/a', 42))).toBe(true);
    for (const name of ['reset.json', 'web-1.json.ab12.tmp', 'web-x.json', '../a-1.json'])
      expect(isProcessSnapshotFile(name), name).toBe(false);
  });

  it('tells a running pid from a gone one', () => {
    expect(isProcessRunning(process.pid)).toBe(true);
    // Past the largest pid Linux hands out (2^22): never a process.
    expect(isProcessRunning(2 ** 22 + 12_345)).toBe(false);
  });
});

describe('writeFileAtomic', () => {
  it('writes beside the file and renames over it, creating the folder', async () => {
    const dir = await folder();
    const target = join(dir, 'nested', 'a-1.json');
    await writeFileAtomic(target, 'one\n');
    await writeFileAtomic(target, 'two\n');
    expect(await readFile(target, 'utf8')).toBe('two\n');
    // No temp file survives a successful write.
    expect(await readdir(join(dir, 'nested'))).toEqual(['a-1.json']);
  });

  it('never lets a reader see half a file while it is rewritten', async () => {
    const dir = await folder();
    const target = join(dir, 'a-1.json');
    const contents = ['a', 'b'].map((c) => c.repeat(512 * 1024));
    await writeFileAtomic(target, contents[0] as string);
    let writing = true;
    const seen = new Set<number>();
    const reader = (async () => {
      while (writing) seen.add((await readFile(target, 'utf8')).length);
    })();
    for (let i = 1; i <= 20; i++) await writeFileAtomic(target, contents[i % 2] as string);
    writing = false;
    await reader;
    // A truncate-then-write would show the reader empty or cut files.
    expect([...seen]).toEqual([512 * 1024]);
  });

  it('removes its temp file when the rename fails, and rejects', async () => {
    const dir = await folder();
    // A folder where the file should be: the rename over it fails.
    const target = join(dir, 'a-1.json');
    await mkdir(join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({
      code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/),
    });
    expect(await readdir(dir)).toEqual(['a-1.json']);
  });
});

describe('PeriodicSnapshotWriter', () => {
  it('writes the header and the snapshot, only when there is one', async () => {
    const dir = await folder();
    let body: { n: number } | undefined;
    const writer = new PeriodicSnapshotWriter({
      folder: dir,
      snapshot: () => body,
      intervalMs: 0,
      indent: 2,
      pid: 4242,
      host: 'web 1/a',
      now: () => NOW,
    });
    expect(writer.file).toBe(join(dir, 'web_1_a-4242.json'));
    expect(await writer.flush()).toBe(false);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
    body = { n: 3 };
    expect(await writer.flush()).toBe(true);
    const text = await readFile(writer.file, 'utf8');
    expect(text).toBe(
      `${JSON.stringify({ pid: 4242, host: 'web 1/a', startedAt: NOW.toISOString(), updatedAt: NOW.toISOString(), n: 3 }, null, 2)}\n`,
    );
  });

  it('runs flushes one after the other, so an older snapshot never lands last', async () => {
    const dir = await folder();
    const order: string[] = [];
    let calls = 0;
    const writer = new PeriodicSnapshotWriter({
      folder: dir,
      intervalMs: 0,
      // The first snapshot is slow: without the queue, the second would finish first and the
      // first would then rename its older content over it.
      snapshot: async () => {
        const call = ++calls;
        order.push(`start ${call}`);
        if (call === 1) await new Promise((resolve) => setTimeout(resolve, 30));
        order.push(`end ${call}`);
        return { call };
      },
    });
    const results = await Promise.all([writer.flush(), writer.flush(), writer.flush()]);
    expect(results).toEqual([true, true, true]);
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(JSON.parse(await readFile(writer.file, 'utf8'))).toMatchObject({ call: 3 });
  });

  it('ticks on an unref-ed timer, starts it once, and writes once more at stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const dir = await folder();
    let snapshots = 0;
    const writer = new PeriodicSnapshotWriter({
      folder: dir,
      snapshot: () => ({ n: ++snapshots }),
      intervalMs: 5_000,
    });
    expect(writer.started).toBe(false);
    writer.start();
    writer.start();
    expect(writer.started).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    // Snapshots must never keep a finished process alive.
    const timer = setIntervalSpy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    // The ticks' writes (real file I/O) are queued; stop waits for them and adds its own.
    await writer.stop();
    expect(writer.started).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(snapshots).toBe(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(snapshots).toBe(3);
    expect(JSON.parse(await readFile(writer.file, 'utf8'))).toMatchObject({ n: 3 });
  });

  it('without an interval starts no timer but still counts as started', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const writer = new PeriodicSnapshotWriter({
      folder: await folder(),
      snapshot: () => undefined,
      intervalMs: 0,
    });
    writer.start();
    expect(writer.started).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await writer.stop();
  });

  it('reports the first failure only and never rejects, whether writing or snapshotting', async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'blocker'), '');
    const onError = vi.fn();
    const writer = new PeriodicSnapshotWriter({
      folder: join(dir, 'blocker', 'inside'),
      snapshot: () => ({ n: 1 }),
      intervalMs: 0,
      onError,
    });
    expect(await writer.flush()).toBe(false);
    expect(await writer.flush()).toBe(false);
    await writer.stop();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'ENOTDIR' });

    const thrower = vi.fn();
    const failing = new PeriodicSnapshotWriter({
      folder: dir,
      snapshot: () => {
        throw new Error('counters broke');
      },
      intervalMs: 0,
      onError: thrower,
    });
    expect(await failing.flush()).toBe(false);
    expect(thrower.mock.calls[0]?.[0]).toMatchObject({ message: 'counters broke' });
  });
});

describe('readProcessSnapshots', () => {
  const options = { goneRetentionMs: 24 * HOUR, maxBytes: 1024, now: NOW, host: 'here' };

  it('reads nothing from a folder that does not exist', async () => {
    const read = await readProcessSnapshots(join(await folder(), 'none'), parseCounts, options);
    expect(read).toEqual({ snapshots: [], removed: [], skipped: [] });
  });

  it('says which processes run, are gone or live elsewhere, and deletes long-gone ones', async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'here-1.json'), file(1, 'here', NOW));
    await writeFile(join(dir, 'here-2.json'), file(2, 'here', new Date(NOW.getTime() - HOUR)));
    await writeFile(join(dir, 'here-3.json'), file(3, 'here', new Date(NOW.getTime() - 25 * HOUR)));
    // Another host's process is never checked, nor deleted, however old.
    await writeFile(join(dir, 'there-3.json'), file(3, 'there', new Date(0)));
    const read = await readProcessSnapshots(dir, parseCounts, {
      ...options,
      isRunning: (pid) => pid === 1,
    });
    expect(read.snapshots.map((s) => [s.file, s.state])).toEqual([
      ['here-1.json', 'running'],
      ['here-2.json', 'gone'],
      ['there-3.json', 'elsewhere'],
    ]);
    expect(read.snapshots[0]?.data).toMatchObject({ pid: 1, host: 'here', counts: [1] });
    expect(read.removed).toEqual(['here-3.json']);
    expect((await readdir(dir)).sort()).toEqual(['here-1.json', 'here-2.json', 'there-3.json']);
  });

  it('skips junk, partial and oversized files with why, and leaves them in place', async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    const good = file(9, 'here', NOW, { startedAt: NOW.toISOString() });
    const bad: Record<string, string> = {
      'a-1.json': 'not json',
      'b-2.json': good.slice(0, good.length / 2), // a write cut short (not ours: never renamed)
      'c-3.json': 'null',
      'd-4.json': '[1, 2]',
      'e-5.json': file(-5, 'here', NOW),
      'f-6.json': file(1.5, 'here', NOW),
      'g-7.json': file(7, '', NOW),
      'h-8.json': JSON.stringify({ pid: 8, host: 'here', updatedAt: 'yesterday', counts: [] }),
      'i-9.json': JSON.stringify({ pid: 9, host: 'here', updatedAt: NOW.toISOString() }),
      'j-10.json': file(10, 'here', NOW, { padding: 'x'.repeat(2000) }),
      'k-11.json': file(11, 'here', NOW, { startedAt: 'never' }),
    };
    for (const [name, content] of Object.entries(bad)) await writeFile(join(dir, name), content);
    await writeFile(join(dir, 'ok-9.json'), good);
    await writeFile(join(dir, 'notes.txt'), 'not a process file name');
    await writeFile(join(dir, 'reset.json'), '{}');
    const read = await readProcessSnapshots(dir, parseCounts, {
      ...options,
      timestamps: ['startedAt', 'updatedAt'],
      isRunning: () => true,
    });
    expect(read.skipped).toEqual([
      { file: 'a-1.json', reason: 'not JSON' },
      { file: 'b-2.json', reason: 'not JSON' },
      { file: 'c-3.json', reason: 'not an object' },
      { file: 'd-4.json', reason: 'not an object' },
      { file: 'e-5.json', reason: 'no valid "pid"' },
      { file: 'f-6.json', reason: 'no valid "pid"' },
      { file: 'g-7.json', reason: 'no valid "host"' },
      { file: 'h-8.json', reason: 'no valid "startedAt"' },
      { file: 'i-9.json', reason: 'no valid "startedAt"' },
      { file: 'j-10.json', reason: 'larger than 1024 bytes' },
      { file: 'k-11.json', reason: 'no valid "startedAt"' },
    ]);
    expect(read.snapshots.map((s) => s.file)).toEqual(['ok-9.json']);
    expect((await readdir(dir)).length).toBe(Object.keys(bad).length + 3);

    // Without `startedAt` among the timestamps, `updatedAt` alone is checked, then `parse`.
    const plain = await readProcessSnapshots(dir, parseCounts, {
      ...options,
      isRunning: () => true,
    });
    expect(plain.skipped.find((s) => s.file === 'h-8.json')?.reason).toBe('no valid "updatedAt"');
    expect(plain.skipped.find((s) => s.file === 'i-9.json')?.reason).toBe('no "counts"');
    expect(plain.snapshots.map((s) => s.file)).toEqual(['k-11.json', 'ok-9.json']);
  });

  it('takes `__proto__` keys for plain keys: no header from a prototype, no pollution', async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'p-1.json'),
      `{"__proto__":{"pid":1,"host":"here","updatedAt":"${NOW.toISOString()}"},"counts":[1]}`,
    );
    await writeFile(
      join(dir, 'p-2.json'),
      `{"pid":2,"host":"here","updatedAt":"${NOW.toISOString()}","counts":[2],"__proto__":{"polluted":true}}`,
    );
    const read = await readProcessSnapshots(dir, parseCounts, {
      ...options,
      isRunning: () => true,
    });
    expect(read.skipped).toEqual([{ file: 'p-1.json', reason: 'no valid "pid"' }]);
    expect(read.snapshots.map((s) => s.data.counts)).toEqual([[2]]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).pid).toBeUndefined();
  });

  it('deletes temp files a dead writer left once past the retention, and only those', async () => {
    const dir = await folder();
    await mkdir(dir, { recursive: true });
    const stale = join(dir, 'here-1.json.ab12cd34.tmp');
    const fresh = join(dir, 'here-2.json.0f0f0f0f.tmp');
    await writeFile(stale, '{');
    await writeFile(fresh, '{');
    const old = new Date(NOW.getTime() - 25 * HOUR);
    await utimes(stale, old, old);
    await utimes(fresh, NOW, NOW);
    const read = await readProcessSnapshots(dir, parseCounts, options);
    // Temp files are neither snapshots nor skipped files, nor listed as removed processes.
    expect(read).toEqual({ snapshots: [], removed: [], skipped: [] });
    expect(await readdir(dir)).toEqual(['here-2.json.0f0f0f0f.tmp']);
  });
});
