import { type ChildProcess, spawn } from 'node:child_process';
import type { Application, CommandUI } from '../kernel/index.js';
import {
  AUTOSCALE_DEFAULTS,
  type AutoscaleOptions,
  decideScale,
  type ScaleState,
  totalLoad,
} from './autoscale-decision.js';
import { durationMs } from './backoff.js';
import type { QueueStats } from './driver.js';

export {
  AUTOSCALE_DEFAULTS,
  type AutoscaleOptions,
  crashBackoffMs,
  decideScale,
  type ScaleDecision,
  type ScaleState,
  totalLoad,
} from './autoscale-decision.js';

/**
 * `keel queue:work --autoscale=min,max`: a supervisor process that runs `queue:work` children
 * and sizes their number to the queues' backlog. The scaling decision is a pure function
 * (`decideScale`, in autoscale-decision.ts); the {@link Supervisor} feeds it and carries it out.
 */

/** Messages between the supervisor and its children, over the IPC channel. */
export const READY_MESSAGE = { type: 'keel:queue:ready' } as const;
export const STOP_MESSAGE = { type: 'keel:queue:stop' } as const;
/** Set in a child's environment: it runs supervised. */
export const SUPERVISED_ENV = 'KEEL_QUEUE_SUPERVISED';

/** A child worker as the supervisor drives it (a real process, or a fake in tests). */
export interface SupervisedChild {
  readonly pid: number | undefined;
  /** Ask for a graceful stop: finish running jobs, claim no more. */
  stop(): void;
  kill(signal: NodeJS.Signals): void;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  onReady(listener: () => void): void;
}

export interface SupervisorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SupervisorOptions extends AutoscaleOptions {
  readonly queues: readonly string[];
  /** Read the backlog: the queue driver's `stats`. */
  readonly stats: (queues: readonly string[]) => Promise<QueueStats[]>;
  /** Start one child. */
  readonly spawn: () => SupervisedChild;
  readonly logger: SupervisorLogger;
  readonly now?: () => number;
}

interface Tracked {
  readonly id: number;
  readonly child: SupervisedChild;
  ready: boolean;
  stopping: boolean;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
}

/**
 * Keeps between `min` and `max` `queue:work` children alive, polls the backlog every
 * `pollMs` and applies {@link decideScale}: adds workers for backlog or age, stops the newest
 * one (gracefully) after an idle cooldown, restarts a child that dies with a capped backoff.
 * `stop()` asks every child to finish its jobs; a second `stop()` kills them. `run()`
 * resolves with the exit code once every child is gone.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ ...AUTOSCALE_DEFAULTS, min: 1, max: 4, queues: ['default'],
 *   stats: (q) => driver.stats(q), spawn: () => spawnWorkerProcess(args), logger });
 * process.once('SIGTERM', () => supervisor.stop('SIGTERM'));
 * process.exitCode = await supervisor.run();
 * ```
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #now: () => number;
  readonly #children = new Map<number, Tracked>();
  #nextId = 1;
  #stats: readonly QueueStats[] | undefined;
  #statsFailing = false;
  #idleSince: number | undefined;
  #lastScaleAt = Number.NEGATIVE_INFINITY;
  #crashes: number[] = [];
  #poll: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #heldBackFor: number | undefined;
  #stopping: NodeJS.Signals | undefined;
  #forced = false;
  #unclean = false;
  #spawned = 0;
  #restarts = 0;
  #done: ((code: number) => void) | undefined;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Children alive, including the ones asked to stop. */
  get size(): number {
    return this.#children.size;
  }

  /** Children alive and not asked to stop. */
  get workers(): number {
    let n = 0;
    for (const c of this.#children.values()) if (!c.stopping) n++;
    return n;
  }

  /** Counts for a summary. */
  get counts(): { spawned: number; restarts: number; crashes: number } {
    return { spawned: this.#spawned, restarts: this.#restarts, crashes: this.#crashes.length };
  }

  /** Start `min` workers and the poll loop; resolves with the exit code once stopped. */
  run(): Promise<number> {
    const finished = new Promise<number>((resolve) => {
      this.#done = resolve;
    });
    const { min, max, queues } = this.#o;
    this.#o.logger.info({ min, max, queues }, `autoscale: starting ${min} to ${max} workers`);
    this.#evaluate();
    void this.#tick();
    return finished;
  }

  /** First call: every child finishes its running jobs and exits. Second call: SIGKILL. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.#stopping !== undefined) {
      if (this.#forced) return;
      this.#forced = true;
      this.#o.logger.warn(
        { signal, workers: this.#children.size },
        `autoscale: second ${signal}, killing ${this.#children.size} worker(s)`,
      );
      for (const c of this.#children.values()) c.child.kill('SIGKILL');
      return;
    }
    this.#stopping = signal;
    clearTimeout(this.#poll);
    clearTimeout(this.#retry);
    this.#o.logger.info(
      { signal, workers: this.#children.size },
      `autoscale: ${signal}, stopping ${this.#children.size} worker(s) (they finish their jobs)`,
    );
    for (const c of this.#children.values()) {
      if (c.stopping) continue; // already asked by a scale down
      c.stopping = true;
      c.child.stop();
    }
    this.#finishIfEmpty();
  }

  async #tick(): Promise<void> {
    if (this.#stopping) return;
    try {
      this.#stats = await this.#o.stats(this.#o.queues);
      if (this.#statsFailing) this.#o.logger.info({}, 'autoscale: reading the backlog again');
      this.#statsFailing = false;
    } catch (error) {
      // Keep the workers as they are (min still kept) until the backlog can be read again.
      this.#stats = undefined;
      if (!this.#statsFailing) {
        this.#o.logger.warn(
          { err: error },
          `autoscale: cannot read the backlog: ${(error as Error).message}`,
        );
      }
      this.#statsFailing = true;
    }
    if (this.#stopping) return;
    const now = this.#now();
    const ready = this.#stats === undefined ? undefined : totalLoad(this.#stats).ready;
    if (ready === 0) this.#idleSince ??= now;
    else if (ready !== undefined) this.#idleSince = undefined;
    this.#evaluate();
    this.#poll = setTimeout(() => void this.#tick(), this.#o.pollMs);
  }

  #state(now: number): ScaleState {
    let workers = 0;
    let starting = 0;
    for (const c of this.#children.values()) {
      if (c.stopping) continue;
      workers++;
      if (!c.ready) starting++;
    }
    this.#crashes = this.#crashes.filter((at) => at > now - this.#o.crashWindowMs);
    return {
      workers,
      starting,
      idleSince: this.#idleSince,
      lastScaleAt: this.#lastScaleAt,
      crashes: this.#crashes,
    };
  }

  #evaluate(): void {
    if (this.#stopping) return;
    const now = this.#now();
    const state = this.#state(now);
    const decision = decideScale(state, this.#stats, this.#o, now);
    clearTimeout(this.#retry);
    if (decision.retryInMs !== undefined) {
      // Once per crash, not at every poll while the backoff runs.
      const crash = state.crashes.at(-1);
      if (crash !== this.#heldBackFor) {
        this.#heldBackFor = crash;
        this.#o.logger.warn({ workers: state.workers }, `autoscale: ${decision.reason}`);
      }
      this.#retry = setTimeout(() => this.#evaluate(), decision.retryInMs);
      return;
    }
    if (decision.spawn > 0) {
      const to = state.workers + decision.spawn;
      this.#o.logger.info(
        { from: state.workers, to, reason: decision.reason },
        `autoscale: ${state.workers} → ${to} workers (${decision.reason})`,
      );
      for (let i = 0; i < decision.spawn; i++) this.#spawn();
      this.#lastScaleAt = now;
    }
    if (decision.stop > 0) {
      const to = state.workers - decision.stop;
      this.#o.logger.info(
        { from: state.workers, to, reason: decision.reason },
        `autoscale: ${state.workers} → ${to} workers (${decision.reason})`,
      );
      // The newest first: the oldest workers have warm connections and caches.
      const newest = [...this.#children.values()].filter((c) => !c.stopping).reverse();
      for (const c of newest.slice(0, decision.stop)) {
        c.stopping = true;
        c.child.stop();
      }
      this.#lastScaleAt = now;
    }
  }

  #spawn(): void {
    const id = this.#nextId++;
    const child = this.#o.spawn();
    const tracked: Tracked = { id, child, ready: false, stopping: false };
    this.#children.set(id, tracked);
    this.#spawned++;
    child.onReady(() => {
      tracked.ready = true;
      this.#o.logger.info({ worker: id, pid: child.pid }, `autoscale: worker #${id} ready`);
      // A stop message sent while it booted found no worker to stop: send it again.
      if (tracked.stopping) child.stop();
    });
    child.onExit((code, signal) => this.#onExit(tracked, code, signal));
    this.#o.logger.info(
      { worker: id, pid: child.pid },
      `autoscale: worker #${id} started (pid ${child.pid})`,
    );
  }

  #onExit(tracked: Tracked, code: number | null, signal: NodeJS.Signals | null): void {
    this.#children.delete(tracked.id);
    const who = `worker #${tracked.id} (pid ${tracked.child.pid})`;
    const fields = { worker: tracked.id, pid: tracked.child.pid, code, signal };
    if (tracked.stopping) {
      const clean = code === 0 || (signal !== null && signal !== 'SIGKILL' && !this.#forced);
      if (!clean && this.#stopping && !this.#forced) this.#unclean = true;
      this.#o.logger[clean ? 'info' : 'warn'](
        fields,
        `autoscale: ${who} stopped (${describeExit(code, signal)})`,
      );
      if (this.#stopping) this.#finishIfEmpty();
      else this.#evaluate();
      return;
    }
    if (this.#stopping) {
      this.#finishIfEmpty();
      return;
    }
    // A clean exit of a worker that ran (--max-jobs, --max-time) is a recycle; one before it
    // ever got ready counts as a crash, or a child that exits at once would spawn in a loop.
    if (code === 0 && tracked.ready) {
      this.#o.logger.info(fields, `autoscale: ${who} finished (exit code 0)`);
    } else {
      this.#crashes.push(this.#now());
      this.#restarts++;
      this.#o.logger.warn(fields, `autoscale: ${who} ${describeExit(code, signal)}; restarting`);
    }
    this.#evaluate();
  }

  #finishIfEmpty(): void {
    if (this.#children.size > 0 || this.#done === undefined) return;
    const done = this.#done;
    this.#done = undefined;
    clearTimeout(this.#poll);
    clearTimeout(this.#retry);
    const signal = this.#stopping ?? 'SIGTERM';
    const code = this.#forced ? (SIGNAL_EXIT[signal] ?? 1) : this.#unclean ? 1 : 0;
    this.#o.logger.info({ code }, 'autoscale: every worker stopped');
    done(code);
  }
}

/** Flags that belong to the supervisor, not to its children. */
const SUPERVISOR_FLAGS = [
  '--autoscale',
  '--scale-backlog',
  '--scale-age',
  '--scale-cooldown',
  '--scale-interval',
];

/** `argv` without the supervisor's flags (and `--json`: a child's summary is not the output). */
export function childArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--json') continue;
    if (SUPERVISOR_FLAGS.includes(token)) {
      i++;
      continue;
    }
    if (SUPERVISOR_FLAGS.some((flag) => token.startsWith(`${flag}=`))) continue;
    out.push(token);
  }
  return out;
}

/**
 * Start `queue:work` as a child: this Node with its flags (a TypeScript loader included), the
 * same script, `args`. Output goes to the supervisor's; the IPC channel carries the ready and
 * stop messages, and its loss tells an orphaned child to stop.
 */
export function spawnWorkerProcess(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SupervisedChild {
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1]!, ...args],
    {
      cwd: options.cwd ?? process.cwd(),
      env: { ...(options.env ?? process.env), [SUPERVISED_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  // A failed spawn (EAGAIN, ENOMEM) reports 'error' and then 'exit': the exit restarts it.
  child.on('error', () => undefined);
  return {
    pid: child.pid,
    stop() {
      if (child.connected) child.send(STOP_MESSAGE, () => undefined);
      else child.kill('SIGTERM');
    },
    kill(signal) {
      child.kill(signal);
    },
    onExit(listener) {
      child.once('exit', listener);
    },
    onReady(listener) {
      child.on('message', (message: unknown) => {
        if ((message as { type?: unknown } | null)?.type === READY_MESSAGE.type) listener();
      });
    },
  };
}

/**
 * In a supervised child (run by {@link spawnWorkerProcess}): tell the supervisor the worker is
 * running, stop on its stop message or when it disappears, and ignore SIGINT (Ctrl+C reaches
 * the whole process group; the supervisor relays it as a stop message). Outside a supervised
 * child, `active` is false and nothing is installed.
 */
export function superviseChild(stop: () => void): { active: boolean; remove(): void } {
  if (process.env[SUPERVISED_ENV] !== '1' || typeof process.send !== 'function') {
    return { active: false, remove() {} };
  }
  const onMessage = (message: unknown): void => {
    if ((message as { type?: unknown } | null)?.type === STOP_MESSAGE.type) stop();
  };
  const ignore = (): void => {};
  process.on('message', onMessage);
  process.on('disconnect', stop);
  process.on('SIGINT', ignore);
  process.send(READY_MESSAGE, () => undefined);
  return {
    active: true,
    remove() {
      process.off('message', onMessage);
      process.off('disconnect', stop);
      process.off('SIGINT', ignore);
      // The open channel would keep the process alive once the worker is done.
      process.disconnect?.();
    },
  };
}

/** Parse `--autoscale=min,max` and the `--scale-*` flags; throws a message on bad input. */
export function autoscaleOptions(options: Record<string, unknown>): AutoscaleOptions {
  const match = /^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$/.exec(String(options.autoscale));
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (!match || min < 1 || min > max || max > 64) {
    throw new Error(
      `--autoscale must be "min,max" with 1 ≤ min ≤ max ≤ 64 (got ${JSON.stringify(String(options.autoscale))})`,
    );
  }
  const duration = (name: string, value: unknown, fallback: number, least: number): number => {
    if (value === undefined) return fallback;
    let ms: number;
    try {
      ms = durationMs(/^\d+$/.test(String(value)) ? Number(value) : String(value));
    } catch {
      ms = Number.NaN;
    }
    if (!Number.isFinite(ms) || ms < least) {
      throw new Error(`--${name} must be a duration of at least ${least} ms, such as 30s`);
    }
    return ms;
  };
  let backlogPerWorker: number = AUTOSCALE_DEFAULTS.backlogPerWorker;
  if (options.scaleBacklog !== undefined) {
    backlogPerWorker = Number(options.scaleBacklog);
    if (!Number.isInteger(backlogPerWorker) || backlogPerWorker < 1) {
      throw new Error('--scale-backlog must be a positive integer');
    }
  }
  return {
    ...AUTOSCALE_DEFAULTS,
    min,
    max,
    backlogPerWorker,
    maxAgeMs: duration('scale-age', options.scaleAge, AUTOSCALE_DEFAULTS.maxAgeMs, 0),
    cooldownMs: duration('scale-cooldown', options.scaleCooldown, AUTOSCALE_DEFAULTS.cooldownMs, 0),
    pollMs: duration('scale-interval', options.scaleInterval, AUTOSCALE_DEFAULTS.pollMs, 100),
  };
}

/**
 * `queue:work --autoscale=min,max`: run the {@link Supervisor} in this process until
 * SIGTERM/SIGINT (a second one kills the children). Returns the command's exit code.
 */
export async function runAutoscaler(input: {
  app: Application;
  options: Record<string, unknown>;
  ui: CommandUI;
  queues: readonly string[];
}): Promise<number> {
  const { app, options, ui, queues } = input;
  let scale: AutoscaleOptions;
  try {
    if (options.stopWhenEmpty === true) {
      throw new Error('--stop-when-empty cannot be used with --autoscale');
    }
    scale = autoscaleOptions(options);
  } catch (error) {
    ui.error((error as Error).message);
    return 1;
  }
  const queue = app.make('queue');
  const driver = await queue.driver(
    options.connection !== undefined ? String(options.connection) : undefined,
  );
  const args = childArgv(process.argv.slice(2));
  const supervisor = new Supervisor({
    ...scale,
    queues,
    stats: (names) => driver.stats(names),
    spawn: () => spawnWorkerProcess(args),
    logger: app.logger,
  });
  const onSignal = (signal: NodeJS.Signals): void => supervisor.stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  ui.info(`autoscaling ${scale.min} to ${scale.max} workers on ${queues.join(', ')}`);
  try {
    const code = await supervisor.run();
    ui.output({ ...supervisor.counts, code }, () =>
      ui.success(
        `autoscaler stopped: ${supervisor.counts.spawned} worker(s) run, ` +
          `${supervisor.counts.restarts} restart(s)`,
      ),
    );
    return code;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
