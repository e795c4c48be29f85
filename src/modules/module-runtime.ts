import { isKeelError } from '../support/index.js';
import { E_MODULE_ILLEGAL_TRANSITION } from './errors.js';
import { errorMessage } from './json-file.js';

/** Where a module is in the life of the running application. */
export type ModuleRuntimeState =
  | 'uninitialized'
  | 'initializing'
  | 'initialized'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'disabled';

export const MODULE_RUNTIME_STATES: readonly ModuleRuntimeState[] = [
  'uninitialized',
  'initializing',
  'initialized',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
  'disabled',
];

/**
 * The legal moves, besides `→ failed`, which every state but `failed` itself may take.
 * `stopped → starting` and `failed → starting` are restarts; `failed → stopping` lets a
 * failed module release what it holds; `disabled → uninitialized` re-enables it.
 */
const TRANSITIONS: Readonly<Record<ModuleRuntimeState, readonly ModuleRuntimeState[]>> = {
  uninitialized: ['initializing', 'disabled'],
  initializing: ['initialized'],
  initialized: ['starting', 'stopping', 'disabled'],
  starting: ['running', 'stopping'],
  running: ['stopping'],
  stopping: ['stopped'],
  stopped: ['starting', 'initializing', 'disabled'],
  failed: ['initializing', 'starting', 'stopping', 'stopped', 'disabled'],
  disabled: ['uninitialized'],
};

/** One recorded state change. `at` is epoch milliseconds. */
export interface ModuleTransition {
  from: ModuleRuntimeState;
  to: ModuleRuntimeState;
  at: number;
  reason?: string;
}

/** The last error recorded for a module, reduced to what is safe and useful to persist. */
export interface ModuleErrorRecord {
  message: string;
  code?: string;
  name?: string;
  at: number;
}

/** A module runtime as JSON, for the snapshot file the CLI reads. */
export interface ModuleRuntimeSnapshot {
  name: string;
  state: ModuleRuntimeState;
  since: number;
  /** Milliseconds in `running` at the time of the snapshot; 0 when not running. */
  uptime: number;
  restartCount: number;
  errorCount: number;
  lastError?: ModuleErrorRecord;
  history: ModuleTransition[];
}

export interface ModuleRuntimeOptions {
  /** How many transitions to keep. Default 50. */
  historyLimit?: number;
  /** Clock in epoch milliseconds. */
  now?: () => number;
  /** Called after every transition and recorded error. */
  onChange?: (runtime: ModuleRuntime) => void;
}

const MAX_MESSAGE_LENGTH = 2000;
const truncate = (text: string): string =>
  text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;

/**
 * The runtime state machine of one module, with a bounded, timestamped history and
 * restart and error counters.
 *
 * @example
 * ```ts
 * const runtime = new ModuleRuntime('billing');
 * runtime.transition('initializing');
 * runtime.transition('initialized');
 * runtime.transition('starting');
 * runtime.transition('running');
 * runtime.uptime(); // ms since it entered running
 * ```
 */
export class ModuleRuntime {
  readonly name: string;
  #state: ModuleRuntimeState = 'uninitialized';
  #since: number;
  #history: ModuleTransition[] = [];
  #restartCount = 0;
  #errorCount = 0;
  #lastError: ModuleErrorRecord | undefined;
  readonly #historyLimit: number;
  readonly #now: () => number;
  readonly #onChange: ((runtime: ModuleRuntime) => void) | undefined;

  constructor(name: string, options: ModuleRuntimeOptions = {}) {
    this.name = name;
    this.#historyLimit = Math.max(1, options.historyLimit ?? 50);
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
    this.#since = this.#now();
  }

  get state(): ModuleRuntimeState {
    return this.#state;
  }

  /** When the current state was entered (epoch ms). */
  get since(): number {
    return this.#since;
  }

  get restartCount(): number {
    return this.#restartCount;
  }

  get errorCount(): number {
    return this.#errorCount;
  }

  get lastError(): ModuleErrorRecord | undefined {
    return this.#lastError;
  }

  /** The recorded transitions, oldest first (at most `historyLimit`). */
  get history(): readonly ModuleTransition[] {
    return this.#history;
  }

  /** Whether moving to `to` from the current state is legal. */
  can(to: ModuleRuntimeState): boolean {
    if (to === 'failed') return this.#state !== 'failed';
    return TRANSITIONS[this.#state].includes(to);
  }

  /** Move to `to`, or throw E_MODULE_ILLEGAL_TRANSITION naming the module, from and to. */
  transition(to: ModuleRuntimeState, reason?: string): void {
    const from = this.#state;
    if (!this.can(to)) throw new E_MODULE_ILLEGAL_TRANSITION(this.name, from, to);
    if (to === 'starting' && (from === 'stopped' || from === 'failed')) this.#restartCount++;
    const at = this.#now();
    this.#state = to;
    this.#since = at;
    this.#history.push(
      reason === undefined ? { from, to, at } : { from, to, at, reason: truncate(reason) },
    );
    if (this.#history.length > this.#historyLimit)
      this.#history.splice(0, this.#history.length - this.#historyLimit);
    this.#onChange?.(this);
  }

  /** Count an error against this module and remember it as the last one. */
  recordError(error: unknown): void {
    this.#errorCount++;
    const record: ModuleErrorRecord = { message: truncate(errorMessage(error)), at: this.#now() };
    if (isKeelError(error)) record.code = error.code;
    if (error instanceof Error && error.name !== 'Error') record.name = error.name;
    this.#lastError = record;
    this.#onChange?.(this);
  }

  /** Record `error` and move to `failed` (unless already there). */
  fail(error: unknown): void {
    this.recordError(error);
    if (this.#state !== 'failed') this.transition('failed', errorMessage(error));
  }

  /** Milliseconds since the module entered `running`; 0 when it is not running. */
  uptime(): number {
    return this.#state === 'running' ? Math.max(0, this.#now() - this.#since) : 0;
  }

  toJSON(): ModuleRuntimeSnapshot {
    const snapshot: ModuleRuntimeSnapshot = {
      name: this.name,
      state: this.#state,
      since: this.#since,
      uptime: this.uptime(),
      restartCount: this.#restartCount,
      errorCount: this.#errorCount,
      history: this.#history.map((entry) => ({ ...entry })),
    };
    if (this.#lastError) snapshot.lastError = { ...this.#lastError };
    return snapshot;
  }
}
