import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  isShutdownMessage,
  isStartFailedMessage,
  runClusterWorker,
  type WorkerProcess,
} from './cluster-worker.js';
import type { ServerLogger } from './server-options.js';

/** A stand-in for `process`: signals raised with kill() are delivered to listeners. */
class FakeProcess extends EventEmitter implements WorkerProcess {
  readonly pid = 4242;
  readonly raised: NodeJS.Signals[] = [];
  readonly sent: unknown[] = [];
  exitCode: number | undefined;
  /** Set when a signal was raised with no listener left: the process would have died. */
  killedBy: NodeJS.Signals | undefined;
  send: WorkerProcess['send'] = (message, callback) => {
    this.sent.push(message);
    callback(null);
    return true;
  };

  kill(_pid: number, signal: NodeJS.Signals): boolean {
    this.raised.push(signal);
    if (this.listenerCount(signal) === 0) this.killedBy = signal;
    else this.emit(signal, signal);
    return true;
  }

  exit(code: number): void {
    this.exitCode = code;
  }
}

const logger: ServerLogger = { info() {}, warn() {}, error() {} };

describe('runClusterWorker', () => {
  it('calls start()', async () => {
    const proc = new FakeProcess();
    let started = false;
    await runClusterWorker(
      async () => {
        started = true;
      },
      logger,
      proc,
    );
    expect(started).toBe(true);
    expect(proc.exitCode).toBeUndefined();
  });

  it('turns the primary’s shutdown message into the signal the app handles', async () => {
    const proc = new FakeProcess();
    const handled: string[] = [];
    await runClusterWorker(
      async () => {
        proc.on('SIGTERM', (signal: string) => handled.push(signal));
      },
      logger,
      proc,
    );
    proc.emit('message', { type: 'keel:cluster:shutdown', signal: 'SIGTERM' });
    expect(handled).toEqual(['SIGTERM']);
    // The message listener is gone, so IPC no longer keeps the worker alive.
    expect(proc.listenerCount('message')).toBe(0);
  });

  it('ignores the forwarded shutdown when the worker already got a signal itself', async () => {
    const proc = new FakeProcess();
    const handled: string[] = [];
    await runClusterWorker(
      async () => {
        proc.on('SIGINT', (signal: string) => handled.push(signal));
      },
      logger,
      proc,
    );
    const onMessage = proc.listeners('message')[0] as (message: unknown) => void;
    proc.kill(proc.pid, 'SIGINT');
    onMessage({ type: 'keel:cluster:shutdown', signal: 'SIGINT' });
    expect(handled).toEqual(['SIGINT']);
    expect(proc.raised).toEqual(['SIGINT']);
  });

  it('restores the default action when the app handles no signal', async () => {
    const proc = new FakeProcess();
    await runClusterWorker(async () => {}, logger, proc);
    proc.emit('message', { type: 'keel:cluster:shutdown', signal: 'SIGTERM' });
    expect(proc.killedBy).toBe('SIGTERM');
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('ignores messages that are not a shutdown', async () => {
    const proc = new FakeProcess();
    await runClusterWorker(async () => {}, logger, proc);
    proc.emit('message', { type: 'something-else' });
    proc.emit('message', null);
    expect(proc.raised).toEqual([]);
  });

  it('reports a failed start to the primary and exits 1', async () => {
    const proc = new FakeProcess();
    const errors: string[] = [];
    await runClusterWorker(
      async () => {
        throw new Error('config invalid');
      },
      { ...logger, error: (_obj, msg) => errors.push(msg ?? '') },
      proc,
    );
    expect(proc.sent).toEqual([{ type: 'keel:cluster:start-failed', error: 'config invalid' }]);
    expect(proc.exitCode).toBe(1);
    expect(errors).toEqual(['Cluster worker failed to start: config invalid']);
  });

  it('exits 1 without IPC too', async () => {
    const proc = new FakeProcess();
    proc.send = undefined;
    await runClusterWorker(
      async () => {
        throw 'a string';
      },
      logger,
      proc,
    );
    expect(proc.exitCode).toBe(1);
  });
});

describe('cluster messages', () => {
  it('recognises only well-formed messages', () => {
    expect(isShutdownMessage({ type: 'keel:cluster:shutdown', signal: 'SIGTERM' })).toBe(true);
    expect(isShutdownMessage({ type: 'keel:cluster:shutdown' })).toBe(false);
    expect(isShutdownMessage('keel:cluster:shutdown')).toBe(false);
    expect(isStartFailedMessage({ type: 'keel:cluster:start-failed', error: 'x' })).toBe(true);
    expect(isStartFailedMessage({ type: 'keel:cluster:start-failed', error: 1 })).toBe(false);
    expect(isStartFailedMessage(undefined)).toBe(false);
  });
});
