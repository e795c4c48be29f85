import { EventEmitter } from 'node:events';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import {
  type ClusterHost,
  type ClusterOptions,
  ClusterSupervisor,
  resolveClusterOptions,
  type SupervisedWorker,
} from './cluster-supervisor.js';
import type { ShutdownMessage } from './cluster-worker.js';
import type { ServerLogger } from './server-options.js';

class FakeWorker implements SupervisedWorker {
  readonly id: number;
  readonly pid: number;
  readonly sent: ShutdownMessage[] = [];
  readonly signals: NodeJS.Signals[] = [];
  readonly #events = new EventEmitter();

  constructor(id: number) {
    this.id = id;
    this.pid = 1000 + id;
  }

  send(message: ShutdownMessage): void {
    this.sent.push(message);
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#events.on('exit', listener);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.#events.on('message', listener);
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.#events.emit('exit', code, signal);
  }

  message(message: unknown): void {
    this.#events.emit('message', message);
  }
}

/** A host whose clock and timers the test drives by hand. */
class FakeHost implements ClusterHost {
  readonly forked: FakeWorker[] = [];
  readonly exits: number[] = [];
  readonly scheduled: Array<{ ms: number; run: () => void; cancelled: boolean }> = [];
  readonly #signals = new Map<string, () => void>();
  clock = 0;

  fork(): FakeWorker {
    const worker = new FakeWorker(this.forked.length + 1);
    this.forked.push(worker);
    return worker;
  }

  onSignal(signal: NodeJS.Signals, listener: () => void): void {
    this.#signals.set(signal, listener);
  }

  exit(code: number): void {
    this.exits.push(code);
  }

  now(): number {
    return this.clock;
  }

  schedule(task: () => void, ms: number): { cancel(): void } {
    const entry = { ms, run: task, cancelled: false };
    this.scheduled.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  signal(signal: NodeJS.Signals): void {
    this.#signals.get(signal)?.();
  }

  /** Run every pending timer that was not cancelled. */
  runTimers(): void {
    for (const entry of this.scheduled.splice(0)) if (!entry.cancelled) entry.run();
  }

  alive(): FakeWorker[] {
    return this.forked.filter((worker) => !this.dead.has(worker));
  }

  readonly dead = new Set<FakeWorker>();

  die(
    worker: FakeWorker | undefined,
    code: number | null,
    signal: NodeJS.Signals | null = null,
  ): void {
    if (!worker) throw new Error('no such worker');
    this.dead.add(worker);
    worker.exit(code, signal);
  }
}

function memoryLogger(): ServerLogger & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    info: (_obj, msg) => messages.push(`info ${msg}`),
    warn: (_obj, msg) => messages.push(`warn ${msg}`),
    error: (_obj, msg) => messages.push(`error ${msg}`),
  };
}

function supervise(options: Partial<ClusterOptions> = {}): {
  host: FakeHost;
  logger: ReturnType<typeof memoryLogger>;
  supervisor: ClusterSupervisor;
} {
  const host = new FakeHost();
  const logger = memoryLogger();
  const supervisor = new ClusterSupervisor(
    resolveClusterOptions({
      workers: 2,
      restartDelay: 100,
      maxRestartsPerMinute: 3,
      start: async () => {},
      logger,
      ...options,
    }),
    host,
  );
  supervisor.start();
  return { host, logger, supervisor };
}

describe('ClusterSupervisor', () => {
  it('forks the configured number of workers', () => {
    const { host, supervisor } = supervise({ workers: 3 });
    expect(host.forked).toHaveLength(3);
    expect(supervisor.size).toBe(3);
  });

  it('restarts a worker that dies, after restartDelay', () => {
    const { host, logger, supervisor } = supervise();
    host.die(host.forked[0], null, 'SIGKILL');
    expect(supervisor.size).toBe(1);
    expect(host.scheduled.map((entry) => entry.ms)).toEqual([100]);
    expect(logger.messages).toContain(
      'warn Cluster: worker 1 (pid 1001) killed by SIGKILL; restarting in 100 ms',
    );
    host.runTimers();
    expect(host.forked).toHaveLength(3);
    expect(supervisor.size).toBe(2);
    expect(host.exits).toEqual([]);
  });

  it('doubles the delay for each crash within a minute, and resets after a quiet minute', () => {
    const { host } = supervise({ maxRestartsPerMinute: 10 });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      host.die(host.alive()[0], 1);
      delays.push(host.scheduled.at(-1)?.ms ?? -1);
      host.runTimers();
    }
    expect(delays).toEqual([100, 200, 400]);
    host.clock += 61_000;
    host.die(host.alive()[0], 1);
    expect(host.scheduled.at(-1)?.ms).toBe(100);
  });

  it('caps the backoff at 30 s', () => {
    const { host } = supervise({ restartDelay: '20s', maxRestartsPerMinute: 10 });
    host.die(host.alive()[0], 1);
    host.runTimers();
    host.die(host.alive()[0], 1);
    expect(host.scheduled.at(-1)?.ms).toBe(30_000);
  });

  it('stops a crash loop: exit code 1 with the cause, after stopping the others', () => {
    const { host, logger } = supervise({ maxRestartsPerMinute: 2 });
    host.forked[0]?.message({ type: 'keel:cluster:start-failed', error: 'port 3000 in use' });
    host.die(host.forked[0], 1);
    host.runTimers();
    host.die(host.alive()[0], 1);
    host.runTimers();
    const survivor = host.alive()[1];
    host.alive()[0]?.message({ type: 'keel:cluster:start-failed', error: 'port 3000 in use' });
    host.die(host.alive()[0], 1);

    expect(logger.messages).toContain(
      'error Workers crashed 3 times within a minute; stopped restarting. Last cause: worker 3 failed to start: port 3000 in use',
    );
    expect(survivor?.sent).toEqual([{ type: 'keel:cluster:shutdown', signal: 'SIGTERM' }]);
    expect(host.exits).toEqual([]);
    host.die(survivor, 0);
    expect(host.exits).toEqual([1]);
  });

  it('gives up at once with maxRestartsPerMinute 0', () => {
    const { host } = supervise({ workers: 1, maxRestartsPerMinute: 0 });
    host.die(host.forked[0], 1);
    expect(host.exits).toEqual([1]);
    expect(host.forked).toHaveLength(1);
  });

  it('forwards the first signal as a graceful shutdown and exits 0 when all stop cleanly', () => {
    const { host, logger } = supervise();
    host.signal('SIGTERM');
    for (const worker of host.forked) {
      expect(worker.sent).toEqual([{ type: 'keel:cluster:shutdown', signal: 'SIGTERM' }]);
    }
    host.die(host.forked[0], 0);
    expect(host.exits).toEqual([]);
    // A worker without a handler dies of the forwarded signal itself: still a clean stop.
    host.die(host.forked[1], null, 'SIGTERM');
    expect(host.exits).toEqual([0]);
    expect(host.forked).toHaveLength(2);
    expect(logger.messages.at(-1)).toBe('info Cluster stopped');
  });

  it('exits 1 when a worker fails during shutdown', () => {
    const { host, logger } = supervise();
    host.signal('SIGINT');
    host.die(host.forked[0], 0);
    host.die(host.forked[1], 1);
    expect(host.exits).toEqual([1]);
    expect(logger.messages).toContain(
      'warn Cluster: worker 2 (pid 1002) exit code 1 while stopping',
    );
  });

  it('does not restart workers once stopping, and cancels pending restarts', () => {
    const { host } = supervise();
    host.die(host.forked[0], 1);
    const pending = host.scheduled[0];
    host.signal('SIGTERM');
    expect(pending?.cancelled).toBe(true);
    host.die(host.forked[1], 0);
    host.runTimers();
    expect(host.forked).toHaveLength(2);
    expect(host.exits).toEqual([0]);
  });

  it('kills workers on a second signal and exits 130 for SIGINT', () => {
    const { host } = supervise();
    host.signal('SIGINT');
    host.signal('SIGINT');
    for (const worker of host.forked) expect(worker.signals).toEqual(['SIGKILL']);
    host.die(host.forked[0], null, 'SIGKILL');
    host.die(host.forked[1], null, 'SIGKILL');
    expect(host.exits).toEqual([130]);
  });

  it('exits 143 after a second SIGTERM', () => {
    const { host } = supervise({ workers: 1 });
    host.signal('SIGTERM');
    host.signal('SIGTERM');
    host.die(host.forked[0], null, 'SIGKILL');
    expect(host.exits).toEqual([143]);
  });

  it('kills workers that outlive shutdownTimeout and exits 1', () => {
    const { host, logger } = supervise({ shutdownTimeout: '5s' });
    host.signal('SIGTERM');
    const deadline = host.scheduled.at(-1);
    expect(deadline?.ms).toBe(5_000);
    host.die(host.forked[0], 0);
    host.runTimers();
    expect(host.forked[1]?.signals).toEqual(['SIGKILL']);
    expect(logger.messages).toContain('error Cluster: workers did not stop in time, killing them');
    host.die(host.forked[1], null, 'SIGKILL');
    expect(host.exits).toEqual([1]);
  });

  it('exits once even if more exits are reported', () => {
    const { host } = supervise({ workers: 1 });
    host.signal('SIGTERM');
    host.die(host.forked[0], 0);
    host.forked[0]?.exit(0);
    expect(host.exits).toEqual([0]);
  });

  it('ignores worker messages that are not its own protocol', () => {
    const { host } = supervise({ workers: 1 });
    host.forked[0]?.message('hello');
    host.forked[0]?.message({ type: 'keel:cluster:start-failed' });
    host.die(host.forked[0], 2);
    expect(host.scheduled).toHaveLength(1);
  });
});

describe('resolveClusterOptions', () => {
  const start = async (): Promise<void> => {};

  it('defaults to one worker per CPU', () => {
    const resolved = resolveClusterOptions({ start });
    expect(resolved.workers).toBe(os.availableParallelism());
    expect(resolved.restartDelay).toBe(1_000);
    expect(resolved.maxRestartsPerMinute).toBe(10);
    expect(resolved.shutdownTimeout).toBe(30_000);
  });

  it.each<[string, Partial<ClusterOptions>]>([
    ['zero workers', { workers: 0 }],
    ['fractional workers', { workers: 1.5 }],
    ['a word for workers', { workers: 'many' as 'auto' }],
    ['a negative restart cap', { maxRestartsPerMinute: -1 }],
    ['a bad restartDelay', { restartDelay: 'soon' }],
    ['a negative shutdownTimeout', { shutdownTimeout: -5 }],
    ['no start function', { start: undefined as unknown as () => Promise<void> }],
  ])('refuses %s with E_INVALID_CLUSTER_OPTIONS', (_name, options) => {
    let error: unknown;
    try {
      resolveClusterOptions({ start, ...options });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeelError);
    expect((error as KeelError).code).toBe('E_INVALID_CLUSTER_OPTIONS');
  });
});
