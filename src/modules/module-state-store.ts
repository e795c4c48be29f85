import path from 'node:path';
import semver from 'semver';
import { isPlainObject } from '../support/index.js';
import { isModuleName, isSemver } from './define-module.js';
import { E_MODULE_STATE_CORRUPT } from './errors.js';
import { readJsonFile, stableStringify, writeFileAtomic } from './json-file.js';
import { compareNames } from './module-discovery.js';
import type { ModuleNode } from './types.js';

/** What `var/state/modules.json` records about one module. Times are ISO 8601 strings. */
export interface ModuleStateEntry {
  enabled: boolean;
  /** The version whose install (or upgrade) completed; absent until the first setup. */
  installedVersion?: string;
  installedAt?: string;
  updatedAt?: string;
  lastSetupAt?: string;
}

/** The content of `var/state/modules.json`. */
export interface ModuleState {
  version: 1;
  modules: Record<string, ModuleStateEntry>;
}

/** How the discovered modules differ from the recorded state. */
export interface ModuleStateDiff {
  /** Discovered, with no entry in the state file. */
  added: string[];
  /** In the state file, no longer discovered. */
  removed: string[];
  /** Installed at a lower version than discovered. */
  upgraded: Array<{ name: string; from: string; to: string }>;
  /** Installed at a higher version than discovered. */
  downgraded: Array<{ name: string; from: string; to: string }>;
}

export interface ReconcileOptions {
  /** Whether newly discovered modules start enabled. Default true. */
  enableNew?: boolean;
  /** Drop the entries of modules no longer discovered. Default false: they are kept, so a
   * module put back later is not installed a second time. */
  prune?: boolean;
}

const TIME_FIELDS = ['installedAt', 'updatedAt', 'lastSetupAt'] as const;

/** An empty state: no module recorded. */
export function emptyModuleState(): ModuleState {
  return { version: 1, modules: {} };
}

/**
 * Compare discovered modules with a recorded state. Pure: reads and writes nothing.
 *
 * @example
 * ```ts
 * diffModuleState(state, modules).upgraded; // [{ name: 'billing', from: '1.0.0', to: '1.1.0' }]
 * ```
 */
export function diffModuleState(
  state: ModuleState,
  discovered: readonly ModuleNode[],
): ModuleStateDiff {
  const diff: ModuleStateDiff = { added: [], removed: [], upgraded: [], downgraded: [] };
  const names = new Set<string>();
  for (const { manifest } of [...discovered].sort((a, b) =>
    compareNames(a.manifest.name, b.manifest.name),
  )) {
    names.add(manifest.name);
    const entry = state.modules[manifest.name];
    if (!entry) {
      diff.added.push(manifest.name);
      continue;
    }
    const from = entry.installedVersion;
    if (from === undefined || from === manifest.version) continue;
    const change = { name: manifest.name, from, to: manifest.version };
    if (semver.lt(manifest.version, from)) diff.downgraded.push(change);
    else diff.upgraded.push(change);
  }
  diff.removed = Object.keys(state.modules)
    .filter((name) => !names.has(name))
    .sort(compareNames);
  return diff;
}

/**
 * The enabled/installed state of every module, kept in `var/state/modules.json`. Writes are
 * atomic (temporary file + rename) and byte-stable (sorted keys), and serialised within the
 * process so that concurrent updates do not lose each other's changes.
 *
 * @example
 * ```ts
 * const store = new ModuleStateStore('var/state/modules.json');
 * await store.update((state) => { state.modules.billing = { enabled: false } });
 * ```
 */
export class ModuleStateStore {
  readonly file: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = path.resolve(file);
  }

  /** The recorded state; an empty one when the file does not exist yet. */
  async read(): Promise<ModuleState> {
    const raw = await readJsonFile(this.file, (reason) => {
      throw new E_MODULE_STATE_CORRUPT(this.file, reason);
    });
    return raw === undefined ? emptyModuleState() : this.#parse(raw);
  }

  /** Replace the recorded state. */
  write(state: ModuleState): Promise<void> {
    return this.#serialize(() => this.#write(state));
  }

  /**
   * Read, change and write the state as one step (within this process). `change` may mutate
   * the state it receives or return a new one.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets `change` be a mutating callback with no return
  update(change: (state: ModuleState) => ModuleState | void): Promise<ModuleState> {
    return this.#serialize(async () => {
      const current = await this.read();
      const next = change(current) ?? current;
      await this.#write(next);
      return next;
    });
  }

  /** One module's entry, or undefined when it has none. */
  async get(name: string): Promise<ModuleStateEntry | undefined> {
    return (await this.read()).modules[name];
  }

  /** Merge `patch` into one module's entry (creating it, disabled, when missing). */
  async set(name: string, patch: Partial<ModuleStateEntry>): Promise<ModuleStateEntry> {
    const state = await this.update((state) => {
      state.modules[name] = { enabled: false, ...state.modules[name], ...patch };
    });
    return state.modules[name]!;
  }

  /** How the discovered modules differ from the recorded state. */
  async diff(discovered: readonly ModuleNode[]): Promise<ModuleStateDiff> {
    return diffModuleState(await this.read(), discovered);
  }

  /**
   * Record newly discovered modules (enabled unless `enableNew: false`) and, with `prune`,
   * forget removed ones. Returns the diff found before the change.
   */
  async reconcile(
    discovered: readonly ModuleNode[],
    options: ReconcileOptions = {},
  ): Promise<ModuleStateDiff> {
    let diff: ModuleStateDiff | undefined;
    await this.update((state) => {
      diff = diffModuleState(state, discovered);
      for (const name of diff.added) state.modules[name] = { enabled: options.enableNew ?? true };
      if (options.prune) for (const name of diff.removed) delete state.modules[name];
    });
    return diff!;
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(state: ModuleState): Promise<void> {
    // Validate what we write with the same rules as what we read, so that a bad update
    // cannot produce a file the next read refuses.
    const clean = this.#parse(JSON.parse(JSON.stringify(state)) as unknown);
    await writeFileAtomic(this.file, stableStringify(clean));
  }

  #parse(raw: unknown): ModuleState {
    const corrupt = (reason: string): never => {
      throw new E_MODULE_STATE_CORRUPT(this.file, reason);
    };
    if (!isPlainObject(raw)) return corrupt('the top level is not an object');
    if (raw.version !== 1)
      return corrupt(
        `unsupported "version" ${JSON.stringify(raw.version) ?? 'undefined'} (expected 1)`,
      );
    if (!isPlainObject(raw.modules)) return corrupt('"modules" is not an object');
    const modules: Record<string, ModuleStateEntry> = {};
    for (const [name, value] of Object.entries(raw.modules)) {
      if (!isModuleName(name)) corrupt(`${JSON.stringify(name)} is not a valid module name`);
      if (!isPlainObject(value)) return corrupt(`the entry of "${name}" is not an object`);
      if (typeof value.enabled !== 'boolean') corrupt(`"modules.${name}.enabled" is not a boolean`);
      const entry: ModuleStateEntry = { enabled: value.enabled as boolean };
      const { installedVersion } = value;
      if (installedVersion !== undefined) {
        if (!isSemver(installedVersion))
          corrupt(`"modules.${name}.installedVersion" is not a semantic version`);
        entry.installedVersion = installedVersion as string;
      }
      for (const field of TIME_FIELDS) {
        const time = value[field];
        if (time === undefined) continue;
        if (typeof time !== 'string' || Number.isNaN(Date.parse(time)))
          corrupt(`"modules.${name}.${field}" is not a date`);
        entry[field] = time as string;
      }
      modules[name] = entry;
    }
    return { version: 1, modules };
  }
}
