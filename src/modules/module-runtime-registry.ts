import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlainObject } from '../support/index.js';
import { E_MODULE_RUNTIME_SNAPSHOT_CORRUPT } from './errors.js';
import { readJsonFile, stableStringify, writeFileAtomic } from './json-file.js';
import {
  MODULE_RUNTIME_STATES,
  ModuleRuntime,
  type ModuleRuntimeSnapshot,
  type ModuleRuntimeState,
} from './module-runtime.js';

/** The content of `var/state/module-runtime.json`. */
export interface ModuleRuntimeRegistrySnapshot {
  version: 1;
  /** The process that wrote it, so a reader can tell a live application from a dead one. */
  pid: number;
  /** Epoch milliseconds. */
  writtenAt: number;
  modules: Record<string, ModuleRuntimeSnapshot>;
}

export interface ModuleRuntimeRegistryOptions {
  /** Where to persist snapshots automatically after changes; none when absent. */
  file?: string;
  /** Wait this long after a change before writing, so a burst of changes makes one write. Default 50. */
  writeDelayMs?: number;
  /** History kept per module. Default 50. */
  historyLimit?: number;
  /** Clock in epoch milliseconds. */
  now?: () => number;
  /**
   * What to do when an automatic write fails. It must not crash the application (the file is
   * only a window for the CLI), so by default a process warning is emitted.
   */
  onWriteError?: (error: unknown) => void;
}

/**
 * The runtimes of all modules of a running application. With a `file`, every change is
 * written there (atomically, coalesced so at most one write is pending) for `keel
 * modules:status` to read from another process.
 *
 * @example
 * ```ts
 * const registry = new ModuleRuntimeRegistry({ file: 'var/state/module-runtime.json' });
 * registry.register('billing').transition('initializing');
 * await registry.flush();
 * ```
 */
export class ModuleRuntimeRegistry {
  readonly file: string | undefined;
  readonly #runtimes = new Map<string, ModuleRuntime>();
  readonly #writeDelayMs: number;
  readonly #historyLimit: number | undefined;
  readonly #now: () => number;
  readonly #onWriteError: (error: unknown) => void;
  #pending: Promise<void> | undefined;
  #dirty = false;

  constructor(options: ModuleRuntimeRegistryOptions = {}) {
    this.file = options.file === undefined ? undefined : path.resolve(options.file);
    this.#writeDelayMs = Math.max(0, options.writeDelayMs ?? 50);
    this.#historyLimit = options.historyLimit;
    this.#now = options.now ?? Date.now;
    this.#onWriteError =
      options.onWriteError ??
      ((error) =>
        process.emitWarning(`Could not write the module runtime snapshot: ${String(error)}`));
  }

  /** The runtime of `name`, created (uninitialized) on first call. */
  register(name: string): ModuleRuntime {
    let runtime = this.#runtimes.get(name);
    if (!runtime) {
      runtime = new ModuleRuntime(name, {
        now: this.#now,
        onChange: () => this.#requestWrite(),
        ...(this.#historyLimit === undefined ? {} : { historyLimit: this.#historyLimit }),
      });
      this.#runtimes.set(name, runtime);
      this.#requestWrite();
    }
    return runtime;
  }

  get(name: string): ModuleRuntime | undefined {
    return this.#runtimes.get(name);
  }

  /** Every runtime, in registration order. */
  all(): ModuleRuntime[] {
    return [...this.#runtimes.values()];
  }

  /** Names of the modules in `state`. */
  inState(state: ModuleRuntimeState): string[] {
    return this.all()
      .filter((runtime) => runtime.state === state)
      .map((runtime) => runtime.name);
  }

  /** All runtimes as JSON. */
  snapshot(): ModuleRuntimeRegistrySnapshot {
    const modules: Record<string, ModuleRuntimeSnapshot> = {};
    for (const runtime of this.#runtimes.values()) modules[runtime.name] = runtime.toJSON();
    return { version: 1, pid: process.pid, writtenAt: this.#now(), modules };
  }

  /** Write the snapshot now, atomically, to `file` (default: the registry's file). */
  async writeSnapshot(file: string | undefined = this.file): Promise<void> {
    if (file === undefined)
      throw new TypeError('writeSnapshot() needs a file: none was configured');
    await writeFileAtomic(path.resolve(file), stableStringify(this.snapshot()));
  }

  /** Wait until the automatic writes requested so far are on disk. */
  async flush(): Promise<void> {
    while (this.#pending) await this.#pending;
  }

  /** Read a snapshot written by {@link writeSnapshot}; undefined when there is none. */
  static readSnapshot(file: string): Promise<ModuleRuntimeRegistrySnapshot | undefined> {
    return readModuleRuntimeSnapshot(file);
  }

  #requestWrite(): void {
    if (this.file === undefined) return;
    this.#dirty = true;
    this.#pending ??= this.#drain();
  }

  /**
   * The single writer. Changes arriving while it sleeps or writes only set `#dirty`, so
   * however fast modules change there is one write in flight and at most one more queued,
   * and the last write always carries the latest state.
   */
  async #drain(): Promise<void> {
    try {
      // A referenced timer: a process shutting down still waits (briefly) for the last write.
      await sleep(this.#writeDelayMs);
      while (this.#dirty) {
        this.#dirty = false;
        await this.writeSnapshot();
      }
    } catch (error) {
      this.#onWriteError(error);
    } finally {
      this.#pending = undefined;
    }
  }
}

const isCount = (value: unknown): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * Read the module runtime snapshot a running application wrote; undefined when there is none.
 *
 * @example
 * ```ts
 * const snapshot = await readModuleRuntimeSnapshot('var/state/module-runtime.json');
 * snapshot?.modules.billing?.state; // 'running'
 * ```
 */
export async function readModuleRuntimeSnapshot(
  file: string,
): Promise<ModuleRuntimeRegistrySnapshot | undefined> {
  const absolute = path.resolve(file);
  const corrupt = (reason: string): never => {
    throw new E_MODULE_RUNTIME_SNAPSHOT_CORRUPT(absolute, reason);
  };
  const raw = await readJsonFile(absolute, corrupt);
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw)) return corrupt('the top level is not an object');
  if (raw.version !== 1)
    return corrupt(`unsupported "version" ${JSON.stringify(raw.version) ?? 'undefined'}`);
  if (!isCount(raw.pid) || !isCount(raw.writtenAt)) corrupt('"pid" or "writtenAt" is not a number');
  if (!isPlainObject(raw.modules)) return corrupt('"modules" is not an object');
  for (const [name, entry] of Object.entries(raw.modules)) {
    if (!isPlainObject(entry)) return corrupt(`the entry of "${name}" is not an object`);
    if (!(MODULE_RUNTIME_STATES as readonly unknown[]).includes(entry.state))
      corrupt(`"modules.${name}.state" is not a module state`);
    for (const field of ['since', 'uptime', 'restartCount', 'errorCount'])
      if (!isCount(entry[field])) corrupt(`"modules.${name}.${field}" is not a number`);
    if (!Array.isArray(entry.history)) corrupt(`"modules.${name}.history" is not an array`);
  }
  return raw as unknown as ModuleRuntimeRegistrySnapshot;
}
