import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from './__fixtures__/http-get.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const APP = fileURLToPath(new URL('./__fixtures__/cluster-app.ts', import.meta.url));

interface LogLine {
  msg?: string;
  code?: number | null;
  signal?: string | null;
  pid?: number;
  port?: number;
  level?: string;
  error?: string;
}

interface Cluster {
  child: ChildProcess;
  lines: () => LogLine[];
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const workerPids = new Set<number>();

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const pid of workerPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  workerPids.clear();
});

function launch(env: Record<string, string> = {}): Cluster {
  const child = spawn(process.execPath, ['--import', TSX, APP], {
    env: { ...process.env, VITEST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const lines = (): LogLine[] =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, output: () => output, exited };
}

function listening(cluster: Cluster): LogLine[] {
  const found = cluster.lines().filter((line) => line.msg === 'worker listening');
  for (const line of found) if (line.pid) workerPids.add(line.pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function servingPids(port: number, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < count; i++) {
    const response = await get(port);
    expect(response.status).toBe(200);
    pids.add(Number(response.headers['x-worker-pid']));
  }
  return pids;
}

describe('runCluster (real processes)', () => {
  it('serves from N workers, replaces a killed one, and stops cleanly on SIGTERM', async () => {
    const cluster = launch();
    await expect.poll(() => listening(cluster).length, { timeout: 20_000, interval: 50 }).toBe(2);
    const [first, second] = listening(cluster);
    expect(first?.port).toBe(second?.port);
    const port = first?.port ?? 0;

    const before = await servingPids(port, 20);
    expect(before.size).toBeGreaterThanOrEqual(1);
    const victim = [...before][0] ?? 0;
    process.kill(victim, 'SIGKILL');

    await expect.poll(() => listening(cluster).length, { timeout: 20_000, interval: 50 }).toBe(3);
    const replacement = listening(cluster)[2]?.pid ?? 0;
    expect(replacement).not.toBe(victim);
    expect(alive(victim)).toBe(false);
    await expect
      .poll(async () => (await servingPids(port, 4)).has(replacement), { timeout: 10_000 })
      .toBe(true);
    expect(await servingPids(port, 10)).not.toContain(victim);
    expect(cluster.output()).toContain(`killed by SIGKILL; restarting in`);

    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
    for (const line of listening(cluster)) expect(alive(line.pid ?? 0)).toBe(false);
    const stopped = cluster.lines().filter((line) => line.msg === 'Cluster worker stopped');
    expect(stopped.map((line) => line.code)).toEqual([0, 0]);
    expect(cluster.lines().at(-1)).toMatchObject({ msg: 'Cluster stopped', code: 0 });
  }, 60_000);

  it('stops a crash loop with exit code 1, naming the cause', async () => {
    const cluster = launch({ CRASH_ON_START: '1', MAX_RESTARTS: '2' });
    expect(await cluster.exited).toEqual({ code: 1, signal: null });
    const loop = cluster.lines().find((line) => line.msg?.startsWith('Workers crashed'));
    expect(loop?.level).toBe('error');
    expect(loop?.msg).toMatch(
      /^Workers crashed 3 times within a minute; stopped restarting\. Last cause: worker \d+ failed to start: database unreachable$/,
    );
  }, 60_000);

  it('kills workers on a second signal when they hang in shutdown', async () => {
    const cluster = launch({ HANG_ON_SHUTDOWN: '1' });
    await expect.poll(() => listening(cluster).length, { timeout: 20_000, interval: 50 }).toBe(2);
    cluster.child.kill('SIGTERM');
    await expect.poll(() => cluster.output(), { timeout: 10_000 }).toContain('SIGTERM received');
    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toEqual({ code: 143, signal: null });
    for (const line of listening(cluster)) expect(alive(line.pid ?? 0)).toBe(false);
  }, 60_000);

  it('stops gracefully when Ctrl-C signals the whole process group', async () => {
    const cluster = launch({ SLOW_SHUTDOWN: '1000' });
    await expect.poll(() => listening(cluster).length, { timeout: 20_000, interval: 50 }).toBe(2);
    // A terminal sends SIGINT to every process in the group. Take the worst order: the
    // workers have begun their own shutdown when the primary's forward reaches them, and
    // must not take it as a second, forcing signal.
    for (const line of listening(cluster)) process.kill(line.pid ?? 0, 'SIGINT');
    await expect
      .poll(() => cluster.lines().filter((line) => line.msg === 'worker stopping').length)
      .toBe(2);
    cluster.child.kill('SIGINT');
    expect(await cluster.exited).toEqual({ code: 0, signal: null });
    expect(cluster.output()).not.toContain('worker forced exit');
    const stopped = cluster.lines().filter((line) => line.msg === 'Cluster worker stopped');
    expect(stopped).toHaveLength(2);
    for (const line of stopped) expect(line).toMatchObject({ code: 0, signal: null });
    for (const line of listening(cluster)) expect(alive(line.pid ?? 0)).toBe(false);
  }, 60_000);
});
