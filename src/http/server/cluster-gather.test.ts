import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { answerClusterGather, clusterGather } from './cluster-gather.js';
import {
  type ClusterHost,
  ClusterSupervisor,
  resolveClusterOptions,
  type SupervisedWorker,
} from './cluster-supervisor.js';
import { runClusterWorker, type WorkerProcess } from './cluster-worker.js';

class FakeWorker implements SupervisedWorker {
  readonly pid: number;
  readonly sent: Array<Record<string, unknown>> = [];
  readonly #events = new EventEmitter();
  constructor(readonly id: number) {
    this.pid = 2000 + id;
  }
  send(message: object): void {
    this.sent.push(message as Record<string, unknown>);
  }
  kill(): void {}
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#events.on('exit', listener);
  }
  onMessage(listener: (message: unknown) => void): void {
    this.#events.on('message', listener);
  }
  exit(): void {
    this.#events.emit('exit', 1, null);
  }
  message(message: unknown): void {
    this.#events.emit('message', message);
  }
  last(type: string): Record<string, unknown> | undefined {
    return this.sent.filter((m) => m.type === type).at(-1);
  }
}

class FakeHost implements ClusterHost {
  readonly forked: FakeWorker[] = [];
  readonly timers: Array<{ run: () => void; cancelled: boolean }> = [];
  fork(): FakeWorker {
    const worker = new FakeWorker(this.forked.length + 1);
    this.forked.push(worker);
    return worker;
  }
  onSignal(): void {}
  exit(): void {}
  now(): number {
    return 0;
  }
  schedule(task: () => void): { cancel(): void } {
    const timer = { run: task, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
}

function cluster(workers: number): { host: FakeHost; workers: FakeWorker[] } {
  const host = new FakeHost();
  new ClusterSupervisor(resolveClusterOptions({ workers, start: async () => {} }), host).start();
  return { host, workers: host.forked };
}

const request = (id: string) => ({
  type: 'keel:cluster:gather',
  id,
  topic: 'metrics',
  timeoutMs: 500,
});

describe('cluster gather (primary relay)', () => {
  it('asks every worker and sends the answers to the one that asked', () => {
    const { workers } = cluster(3);
    const [a, b, c] = workers as [FakeWorker, FakeWorker, FakeWorker];
    b.message(request('r1'));
    const ask = a.last('keel:cluster:gather-ask');
    expect(ask).toMatchObject({ topic: 'metrics' });
    for (const w of workers) expect(w.last('keel:cluster:gather-ask')?.id).toBe(ask?.id);
    a.message({ type: 'keel:cluster:gather-answer', id: ask?.id, data: 'A' });
    b.message({ type: 'keel:cluster:gather-answer', id: ask?.id, data: 'B' });
    expect(b.last('keel:cluster:gathered')).toBeUndefined();
    // A second answer from the same worker, or one for an unknown gather, changes nothing.
    a.message({ type: 'keel:cluster:gather-answer', id: ask?.id, data: 'A again' });
    c.message({ type: 'keel:cluster:gather-answer', id: 'nope', data: 'X' });
    c.message({ type: 'keel:cluster:gather-answer', id: ask?.id, data: 'C' });
    expect(b.last('keel:cluster:gathered')).toEqual({
      type: 'keel:cluster:gathered',
      id: 'r1',
      answers: ['A', 'B', 'C'],
      missing: 0,
    });
    expect(a.last('keel:cluster:gathered')).toBeUndefined();
  });

  it('answers with what came in time, counting silent, failed and exited workers as missing', () => {
    const { host, workers } = cluster(4);
    const [a, b, c, d] = workers as [FakeWorker, FakeWorker, FakeWorker, FakeWorker];
    a.message(request('r2'));
    const id = a.last('keel:cluster:gather-ask')?.id;
    a.message({ type: 'keel:cluster:gather-answer', id, data: 1 });
    b.message({ type: 'keel:cluster:gather-answer', id, error: 'registry broke' });
    c.exit();
    expect(a.last('keel:cluster:gathered')).toBeUndefined();
    // The gather's deadline was scheduled first (the exit then scheduled a restart).
    host.timers[0]?.run();
    expect(a.last('keel:cluster:gathered')).toMatchObject({ id: 'r2', answers: [1], missing: 2 });
    expect(d.last('keel:cluster:gathered')).toBeUndefined();
  });

  it('ignores malformed gather messages', () => {
    const { workers } = cluster(1);
    const [a] = workers as [FakeWorker];
    for (const junk of [
      { type: 'keel:cluster:gather', id: 5, topic: 'x', timeoutMs: 1 },
      { type: 'keel:cluster:gather', id: 'x', topic: 'x' },
      { type: 'keel:cluster:gather-answer' },
      null,
      'keel:cluster:gather',
    ])
      a.message(junk);
    expect(a.sent).toEqual([]);
  });
});

class FakeProcess extends EventEmitter implements WorkerProcess {
  readonly pid = 4343;
  readonly sent: Array<Record<string, unknown>> = [];
  send: WorkerProcess['send'] = (message, callback) => {
    this.sent.push(message as Record<string, unknown>);
    callback(null);
    return true;
  };
  kill(_pid: number, signal: NodeJS.Signals): boolean {
    if (this.listenerCount(signal) > 0) this.emit(signal, signal);
    return true;
  }
  exit(): void {}
}

describe('cluster gather (worker side)', () => {
  it('resolves undefined outside a cluster worker', async () => {
    expect(await clusterGather('metrics', 100)).toBeUndefined();
  });

  it('answers asks with its handler, and resolves a gather with the primary’s reply', async () => {
    const proc = new FakeProcess();
    await runClusterWorker(async () => {}, { info() {}, warn() {}, error() {} }, proc);
    const off = answerClusterGather('test-topic', async () => ({ pid: proc.pid }));
    try {
      proc.emit('message', { type: 'keel:cluster:gather-ask', id: '7', topic: 'test-topic' });
      proc.emit('message', { type: 'keel:cluster:gather-ask', id: '8', topic: 'unknown-topic' });
      await expect.poll(() => proc.sent.length).toBe(2);
      expect(proc.sent).toContainEqual({
        type: 'keel:cluster:gather-answer',
        id: '7',
        data: { pid: 4343 },
      });
      expect(proc.sent).toContainEqual(
        expect.objectContaining({ id: '8', error: expect.stringContaining('no handler') }),
      );
      const pending = clusterGather('test-topic', 1_000);
      const sent = proc.sent.at(-1) as { type: string; id: string };
      expect(sent.type).toBe('keel:cluster:gather');
      proc.emit('message', {
        type: 'keel:cluster:gathered',
        id: sent.id,
        answers: [1, 2],
        missing: 0,
      });
      expect(await pending).toEqual({ answers: [1, 2], missing: 0 });
    } finally {
      off();
      // Leave the process-wide channel as it was: the signal handler lets go of it.
      proc.emit('SIGTERM', 'SIGTERM');
    }
    expect(await clusterGather('test-topic', 10)).toBeUndefined();
  });
});
