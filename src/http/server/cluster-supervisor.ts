import cluster from 'node:cluster';
import os from 'node:os';
import { parseDuration } from '../../support/index.js';
import {
  type GatherAskMessage,
  type GatheredMessage,
  type GatherRequestMessage,
  isGatherAnswer,
  isGatherRequest,
} from './cluster-gather.js';
import { isStartFailedMessage, runClusterWorker, type ShutdownMessage } from './cluster-worker.js';
import { E_CLUSTER_CRASH_LOOP, E_INVALID_CLUSTER_OPTIONS } from './errors.js';
import type { ServerLogger } from './server-options.js';

/** Options for {@link runCluster}. Durations are milliseconds or strings such as `'1s'`. */
export interface ClusterOptions {
  /** Worker processes to keep running. Default `'auto'`: one per available CPU. */
  workers?: number | 'auto';
  /** Runs in each worker: boot the application and start serving. */
  start: () => Promise<void>;
  logger?: ServerLogger;
  /** Delay before restarting a crashed worker; doubles with each crash in the last minute. Default 1 s. */
  restartDelay?: number | string;
  /** Crashes tolerated within a minute; one more stops the cluster with exit code 1. Default 10. */
  maxRestartsPerMinute?: number;
  /** How long workers get to shut down after a signal before they are killed. Default 30 s. */
  shutdownTimeout?: number | string;
}

interface ResolvedClusterOptions {
  workers: number;
  logger: ServerLogger;
  restartDelay: number;
  maxRestartsPerMinute: number;
  shutdownTimeout: number;
}

/** A worker as the supervisor drives it; `node:cluster` workers are adapted to this. */
export interface SupervisedWorker {
  readonly id: number;
  readonly pid: number | undefined;
  send(message: ShutdownMessage | GatherAskMessage | GatheredMessage): void;
  kill(signal: NodeJS.Signals): void;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** What the supervisor needs from its environment: `node:cluster` and `process`, or fakes. */
export interface ClusterHost {
  fork(): SupervisedWorker;
  onSignal(signal: NodeJS.Signals, listener: () => void): void;
  exit(code: number): void;
  now(): number;
  schedule(task: () => void, ms: number): { cancel(): void };
}

const MINUTE = 60_000;
const MAX_BACKOFF = 30_000;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
/** The longest a gather may wait for the workers, whatever the requester asked. */
const MAX_GATHER_MS = 30_000;

/** One gather in progress: who asked, and the workers still to answer. */
interface Gather {
  requester: SupervisedWorker;
  requestId: string;
  waiting: Set<number>;
  answers: unknown[];
  /** Workers that answered with an error. */
  failed: number;
  timer: { cancel(): void };
}

const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} };

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
}

function clusterDuration(option: string, value: number | string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new E_INVALID_CLUSTER_OPTIONS(option, value, 'a duration such as 1000 or "1s"').withCause(
      error,
    );
  }
}

/** Check options and apply defaults. */
export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  if (typeof options.start !== 'function') {
    throw new E_INVALID_CLUSTER_OPTIONS(
      'start',
      typeof options.start,
      'a function returning a promise',
    );
  }
  const workers = options.workers ?? 'auto';
  const count = workers === 'auto' ? os.availableParallelism() : workers;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new E_INVALID_CLUSTER_OPTIONS('workers', workers, 'a positive integer or "auto"');
  }
  const max = options.maxRestartsPerMinute ?? 10;
  if (!Number.isInteger(max) || max < 0) {
    throw new E_INVALID_CLUSTER_OPTIONS('maxRestartsPerMinute', max, 'an integer from 0');
  }
  return {
    workers: count,
    logger: options.logger ?? silentLogger,
    restartDelay: clusterDuration('restartDelay', options.restartDelay ?? 1_000),
    maxRestartsPerMinute: max,
    shutdownTimeout: clusterDuration('shutdownTimeout', options.shutdownTimeout ?? 30_000),
  };
}

/**
 * The primary's job: keep N workers alive, restart crashed ones with backoff, give up on a
 * crash loop, and turn SIGTERM/SIGINT into a graceful shutdown of every worker.
 */
export class ClusterSupervisor {
  readonly #options: ResolvedClusterOptions;
  readonly #host: ClusterHost;
  readonly #workers = new Map<number, SupervisedWorker>();
  readonly #startFailures = new Map<number, string>();
  readonly #pendingRestarts = new Set<{ cancel(): void }>();
  readonly #gathers = new Map<string, Gather>();
  #gatherSeq = 0;
  #crashes: number[] = [];
  #stopping: NodeJS.Signals | undefined;
  #deadline: { cancel(): void } | undefined;
  #exitCode: number | undefined;
  #unclean = false;
  #finished = false;

  constructor(options: ResolvedClusterOptions, host: ClusterHost) {
    this.#options = options;
    this.#host = host;
  }

  /** Workers alive right now. */
  get size(): number {
    return this.#workers.size;
  }

  start(): void {
    this.#options.logger.info({ workers: this.#options.workers }, 'Cluster starting');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      this.#host.onSignal(signal, () => this.#onSignal(signal));
    }
    for (let i = 0; i < this.#options.workers; i++) this.#spawn();
  }

  #spawn(): void {
    const worker = this.#host.fork();
    this.#workers.set(worker.id, worker);
    worker.onMessage((message) => {
      if (isStartFailedMessage(message)) this.#startFailures.set(worker.id, message.error);
      else if (isGatherRequest(message)) this.#gather(worker, message);
      else if (isGatherAnswer(message)) this.#answered(worker.id, message.id, message);
    });
    worker.onExit((code, signal) => this.#onExit(worker, code, signal));
    this.#options.logger.info({ worker: worker.id, pid: worker.pid }, 'Cluster worker started');
  }

  /**
   * Relay a worker's gather to every worker (the asker too) and send it the answers that come
   * within its time limit; a worker that exits meanwhile is not waited for.
   */
  #gather(requester: SupervisedWorker, request: GatherRequestMessage): void {
    const id = String(++this.#gatherSeq);
    const ms = Math.min(Math.max(1, request.timeoutMs), MAX_GATHER_MS);
    const gather: Gather = {
      requester,
      requestId: request.id,
      waiting: new Set(this.#workers.keys()),
      answers: [],
      failed: 0,
      timer: this.#host.schedule(() => this.#gathered(id), ms),
    };
    this.#gathers.set(id, gather);
    const ask: GatherAskMessage = { type: 'keel:cluster:gather-ask', id, topic: request.topic };
    for (const worker of this.#workers.values()) worker.send(ask);
    if (gather.waiting.size === 0) this.#gathered(id);
  }

  #answered(workerId: number, id: string, answer: { data?: unknown; error?: string }): void {
    const gather = this.#gathers.get(id);
    if (gather === undefined || !gather.waiting.has(workerId)) return;
    gather.waiting.delete(workerId);
    // An error answer counts as missing; the worker is no longer waited for.
    if (answer.error === undefined) gather.answers.push(answer.data);
    else gather.failed++;
    if (gather.waiting.size === 0) this.#gathered(id);
  }

  #gathered(id: string): void {
    const gather = this.#gathers.get(id);
    if (gather === undefined) return;
    this.#gathers.delete(id);
    gather.timer.cancel();
    gather.requester.send({
      type: 'keel:cluster:gathered',
      id: gather.requestId,
      answers: gather.answers,
      missing: gather.waiting.size + gather.failed,
    });
  }

  #onExit(worker: SupervisedWorker, code: number | null, signal: NodeJS.Signals | null): void {
    this.#workers.delete(worker.id);
    for (const [id, gather] of this.#gathers) {
      if (gather.requester === worker) {
        gather.timer.cancel();
        this.#gathers.delete(id);
      } else if (gather.waiting.delete(worker.id) && gather.waiting.size === 0) this.#gathered(id);
    }
    const failure = this.#startFailures.get(worker.id);
    this.#startFailures.delete(worker.id);
    const cause = failure
      ? `worker ${worker.id} failed to start: ${failure}`
      : `worker ${worker.id} (pid ${worker.pid}) ${describeExit(code, signal)}`;
    if (this.#stopping) {
      // Dying of the very signal it was asked to stop with is a clean stop: the worker
      // simply had no handler for it.
      const clean = code === 0 || signal === this.#stopping;
      if (!clean) this.#unclean = true;
      this.#options.logger[clean ? 'info' : 'warn'](
        { worker: worker.id, pid: worker.pid, code, signal },
        clean ? 'Cluster worker stopped' : `Cluster: ${cause} while stopping`,
      );
      if (this.#workers.size === 0) this.#finish();
      return;
    }
    const now = this.#host.now();
    this.#crashes = [...this.#crashes.filter((at) => at > now - MINUTE), now];
    if (this.#crashes.length > this.#options.maxRestartsPerMinute) {
      const error = new E_CLUSTER_CRASH_LOOP(this.#crashes.length, cause);
      this.#options.logger.error({ err: error, code: error.code }, error.message);
      this.#exitCode = 1;
      this.#stop('SIGTERM');
      return;
    }
    const delay = Math.min(
      this.#options.restartDelay * 2 ** (this.#crashes.length - 1),
      MAX_BACKOFF,
    );
    this.#options.logger.warn(
      { worker: worker.id, code, signal, restartIn: delay },
      `Cluster: ${cause}; restarting in ${delay} ms`,
    );
    const restart = this.#host.schedule(() => {
      this.#pendingRestarts.delete(restart);
      if (!this.#stopping) this.#spawn();
    }, delay);
    this.#pendingRestarts.add(restart);
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (!this.#stopping) {
      this.#options.logger.info(
        { signal, workers: this.#workers.size },
        `Cluster: ${signal} received, stopping workers`,
      );
      this.#stop(signal);
      return;
    }
    this.#options.logger.warn({ signal }, `Cluster: second ${signal}, killing workers`);
    this.#exitCode = SIGNAL_EXIT[signal] ?? 1;
    this.#killAll();
  }

  #stop(signal: NodeJS.Signals): void {
    this.#stopping = signal;
    for (const restart of this.#pendingRestarts) restart.cancel();
    this.#pendingRestarts.clear();
    if (this.#workers.size === 0) {
      this.#finish();
      return;
    }
    for (const worker of this.#workers.values())
      worker.send({ type: 'keel:cluster:shutdown', signal });
    this.#deadline = this.#host.schedule(() => {
      this.#options.logger.error(
        { workers: this.#workers.size, timeout: this.#options.shutdownTimeout },
        'Cluster: workers did not stop in time, killing them',
      );
      this.#exitCode ??= 1;
      this.#killAll();
    }, this.#options.shutdownTimeout);
  }

  #killAll(): void {
    for (const worker of this.#workers.values()) worker.kill('SIGKILL');
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#deadline?.cancel();
    const code = this.#exitCode ?? (this.#unclean ? 1 : 0);
    this.#options.logger.info({ code }, 'Cluster stopped');
    this.#host.exit(code);
  }
}

/** The real host: `node:cluster` workers and this process's signals. */
export function nodeClusterHost(): ClusterHost {
  return {
    fork() {
      const worker = cluster.fork();
      return {
        id: worker.id,
        pid: worker.process.pid,
        send(message) {
          if (worker.isConnected()) worker.send(message);
        },
        kill(signal) {
          worker.process.kill(signal);
        },
        onExit(listener) {
          worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) =>
            listener(code, signal),
          );
        },
        onMessage(listener) {
          worker.on('message', listener);
        },
      };
    },
    onSignal(signal, listener) {
      process.on(signal, listener);
    },
    exit(code) {
      process.exit(code);
    },
    now: () => Date.now(),
    schedule(task, ms) {
      const timer = setTimeout(task, ms);
      return { cancel: () => clearTimeout(timer) };
    },
  };
}

/**
 * Run the application on every core. In the primary process this forks the workers and
 * supervises them (the primary serves nothing and exits once they are all gone); in a
 * worker it calls `start()`. Workers share listening ports through `node:cluster`.
 *
 * SIGTERM/SIGINT on the primary stop every worker gracefully (each receives the signal as
 * its own shutdown would); a second signal kills them. A worker that dies is restarted
 * after `restartDelay`, doubled for each crash in the last minute; more than
 * `maxRestartsPerMinute` crashes stop the cluster with exit code 1.
 *
 * @example
 * ```ts
 * await runCluster({
 *   workers: 'auto',
 *   start: async () => {
 *     const server = new HttpServer(app.handle, { port: 3000 });
 *     await server.listen();
 *     process.once('SIGTERM', async () => { await server.close(); process.exit(0); });
 *   },
 * });
 * ```
 */
export async function runCluster(options: ClusterOptions): Promise<void> {
  const resolved = resolveClusterOptions(options);
  if (cluster.isPrimary) {
    new ClusterSupervisor(resolved, nodeClusterHost()).start();
    return;
  }
  await runClusterWorker(options.start, resolved.logger);
}
