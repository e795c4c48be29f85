import semver from 'semver';
import { type Awaitable, type KeelError, suggest } from '../support/index.js';
import { resolveLazy } from './define-module.js';
import {
  E_MODULE_HAS_DEPENDENTS,
  E_MODULE_HOOK_CONTEXT_MISSING,
  E_MODULE_HOOK_FAILED,
  E_MODULE_LOAD_FAILED,
  E_MODULE_NOT_FOUND,
} from './errors.js';
import { errorMessage } from './json-file.js';
import { ModuleGraph } from './module-graph.js';
import type { ModuleState, ModuleStateStore } from './module-state-store.js';
import type { DiscoveredModule, ModuleHookContext, ModuleHookName, ModuleHooks } from './types.js';

/** Builds the context a module's hooks receive. Called at most once per module per operation. */
export type HookContextFactory<App = unknown> = (
  module: DiscoveredModule<App>,
) => Awaitable<ModuleHookContext<App>>;

export interface ModuleManagerOptions<App = unknown> {
  /** Every discovered module, enabled or not. */
  modules: readonly DiscoveredModule<App>[];
  store: ModuleStateStore;
  /** Context for hooks run by enable/disable/setup when the call does not pass one. */
  context?: HookContextFactory<App>;
  /** Whether a module with no entry in the state file counts as enabled. Default true. */
  enableNew?: boolean;
  /** Clock for the recorded timestamps. */
  now?: () => Date;
}

export interface ToggleOptions<App = unknown> {
  /** Enable the disabled dependencies too / disable the enabled dependents too. */
  cascade?: boolean;
  /** Flip the switch without running onEnable/onDisable. */
  skipHooks?: boolean;
  context?: HookContextFactory<App>;
}

export type SetupAction = 'beforeSetup' | 'install' | 'upgrade' | 'downgrade' | 'afterSetup';

/** One step of a setup: what happens to which module, and the hook it runs (if any). */
export interface SetupStep {
  module: string;
  action: SetupAction;
  /** The hook called by this step; absent when the module has none or hooks are skipped. */
  hook?: ModuleHookName;
  from?: string;
  to?: string;
}

export interface SetupOptions {
  /** Plan only: report the steps, run no hook, write nothing. */
  dryRun?: boolean;
  /** Record versions without running any hook. */
  skipHooks?: boolean;
  /** Called after each step completes (for each planned step in a dry run). */
  onStep?: (step: SetupStep) => void;
}

export interface SetupReport {
  dryRun: boolean;
  steps: SetupStep[];
}

/** One discovered module as the CLI lists it. */
export interface ModuleStatus {
  name: string;
  version: string;
  description?: string;
  dir: string;
  enabled: boolean;
  installedVersion?: string;
  /** What the next setup would do for it (enabled modules only). */
  pending?: 'install' | 'upgrade' | 'downgrade';
}

/**
 * Enables, disables and sets up modules, running their lifecycle hooks in dependency order
 * and recording the outcome in a {@link ModuleStateStore} after every step.
 *
 * @example
 * ```ts
 * const manager = new ModuleManager({
 *   modules: await discoverModules('modules'),
 *   store: new ModuleStateStore('var/state/modules.json'),
 *   context: (m) => ({ app, module: m.manifest, dir: m.dir }),
 * });
 * await manager.setup();
 * await manager.disable('billing', { cascade: true });
 * ```
 */
export class ModuleManager<App = unknown> {
  readonly #modules: readonly DiscoveredModule<App>[];
  readonly #byName = new Map<string, DiscoveredModule<App>>();
  readonly #store: ModuleStateStore;
  readonly #context: HookContextFactory<App> | undefined;
  readonly #enableNew: boolean;
  readonly #now: () => Date;
  readonly #hooks = new Map<string, Promise<ModuleHooks<App>>>();
  /** Built once: it validates duplicate names, and enable/disable reuse its relations. */
  readonly #fullGraph: ModuleGraph<DiscoveredModule<App>>;

  constructor(options: ModuleManagerOptions<App>) {
    this.#modules = options.modules;
    this.#fullGraph = new ModuleGraph(options.modules);
    for (const module of options.modules) this.#byName.set(module.manifest.name, module);
    this.#store = options.store;
    this.#context = options.context;
    this.#enableNew = options.enableNew ?? true;
    this.#now = options.now ?? (() => new Date());
  }

  /** The module called `name`; throws with a suggestion when there is none. */
  get(name: string): DiscoveredModule<App> {
    const module = this.#byName.get(name);
    if (!module) throw new E_MODULE_NOT_FOUND(name, suggest(name, this.#byName.keys()));
    return module;
  }

  /** The dependency graph of the currently enabled modules. */
  async graph(): Promise<ModuleGraph<DiscoveredModule<App>>> {
    return this.#graph(await this.#store.read());
  }

  /** The enabled modules in load order; throws when they cannot load (see ModuleGraph). */
  async enabledModules(): Promise<DiscoveredModule<App>[]> {
    return (await this.graph()).order();
  }

  /** Every discovered module with its state, sorted by name. */
  async list(): Promise<ModuleStatus[]> {
    const state = await this.#store.read();
    return this.#fullGraph.all().map(({ manifest, dir }) => {
      const entry = state.modules[manifest.name];
      const enabled = this.#isEnabled(state, manifest.name);
      const status: ModuleStatus = { name: manifest.name, version: manifest.version, dir, enabled };
      if (manifest.description !== undefined) status.description = manifest.description;
      if (entry?.installedVersion !== undefined) status.installedVersion = entry.installedVersion;
      const pending = enabled
        ? pendingChange(entry?.installedVersion, manifest.version)
        : undefined;
      if (pending) status.pending = pending;
      return status;
    });
  }

  /**
   * Enable a module. Refused (E_MODULE_DEPENDENCY_DISABLED) while its dependencies are
   * disabled, unless `cascade`, which enables them first. Returns the names enabled, in
   * load order. A module that was never installed is only switched on: the next setup
   * installs it, so its onEnable hook runs from the second enable on.
   */
  async enable(name: string, options: ToggleOptions<App> = {}): Promise<string[]> {
    this.get(name);
    const state = await this.#store.read();
    if (this.#isEnabled(state, name)) return [];
    const enabled = this.#enabledNames(state);
    const wanted = [name];
    if (options.cascade)
      for (const dep of this.#fullGraph.dependencies(name, { transitive: true }))
        if (!enabled.has(dep)) wanted.push(dep);
    const graph = new ModuleGraph(this.#modules, { enabled: [...enabled, ...wanted] });
    const blocking = graph.problems().filter((problem) => concerns(problem, wanted));
    if (blocking[0]) throw blocking[0];
    // Problems elsewhere in the graph were there before and are not this call's to fix.
    const order = graph
      .order({ validate: false })
      .filter((module) => wanted.includes(module.manifest.name));
    await this.#toggle(order, true, state, options);
    return order.map((module) => module.manifest.name);
  }

  /**
   * Disable a module. Refused (E_MODULE_HAS_DEPENDENTS) while enabled modules depend on it,
   * unless `cascade`, which disables those first (dependents before what they depend on).
   * Returns the names disabled, in that order.
   */
  async disable(name: string, options: ToggleOptions<App> = {}): Promise<string[]> {
    this.get(name);
    const state = await this.#store.read();
    if (!this.#isEnabled(state, name)) return [];
    const dependents = this.#graph(state).dependents(name, { transitive: true });
    if (dependents.length > 0 && !options.cascade)
      throw new E_MODULE_HAS_DEPENDENTS(name, dependents);
    const order = [...dependents.reverse(), name].map((module) => this.get(module));
    await this.#toggle(order, false, state, options);
    return order.map((module) => module.manifest.name);
  }

  /**
   * Bring every enabled module up to date, in load order: `beforeSetup` for all, then
   * `onInstall` for new modules and `onUpgrade(from)` for modules whose version changed
   * (recording each version as soon as its hook succeeds), then `afterSetup` for all. A
   * failed hook stops the setup with E_MODULE_HOOK_FAILED; running it again resumes.
   */
  async setup(context?: HookContextFactory<App>, options: SetupOptions = {}): Promise<SetupReport> {
    const state = await this.#store.read();
    const order = this.#graph(state).order();
    const skipHooks = options.skipHooks ?? false;
    const factory = context ?? this.#context;
    const hooks = new Map<string, ModuleHooks<App>>();
    for (const module of order)
      hooks.set(module.manifest.name, skipHooks ? {} : await this.#loadHooks(module));

    const steps: SetupStep[] = [];
    const plan = (
      module: DiscoveredModule<App>,
      action: SetupAction,
      hook: ModuleHookName,
      extra = {},
    ) => {
      const defined = typeof hooks.get(module.manifest.name)?.[hook] === 'function';
      if (defined && !factory) throw new E_MODULE_HOOK_CONTEXT_MISSING(module.manifest.name, hook);
      steps.push({ module: module.manifest.name, action, ...(defined ? { hook } : {}), ...extra });
    };
    for (const module of order) plan(module, 'beforeSetup', 'beforeSetup');
    for (const module of order) {
      const from = state.modules[module.manifest.name]?.installedVersion;
      const to = module.manifest.version;
      const change = pendingChange(from, to);
      if (change === 'install') plan(module, 'install', 'onInstall', { to });
      else if (change) plan(module, change, 'onUpgrade', { from, to });
    }
    for (const module of order) plan(module, 'afterSetup', 'afterSetup');
    // Setup hooks that are absent do nothing: keep only the steps that run a hook or record a version.
    const report = { dryRun: options.dryRun ?? false, steps: steps.filter((s) => s.hook || s.to) };
    if (report.dryRun) {
      for (const step of report.steps) options.onStep?.(step);
      return report;
    }

    const contexts = new Map<string, Promise<ModuleHookContext<App>>>();
    for (const step of report.steps) {
      const module = this.get(step.module);
      if (step.hook) {
        const ctx = contexts.get(step.module) ?? Promise.resolve(factory!(module));
        contexts.set(step.module, ctx);
        await callHook(module, hooks.get(step.module)!, step.hook, await ctx, step.from);
      }
      if (step.action === 'install' || step.action === 'upgrade' || step.action === 'downgrade') {
        const at = this.#now().toISOString();
        await this.#store.set(step.module, {
          enabled: true,
          installedVersion: step.to!,
          updatedAt: at,
          ...(step.action === 'install' ? { installedAt: at } : {}),
        });
      }
      options.onStep?.(step);
    }
    const at = this.#now().toISOString();
    await this.#store.update((current) => {
      for (const module of order) {
        const name = module.manifest.name;
        current.modules[name] = { enabled: true, ...current.modules[name], lastSetupAt: at };
      }
    });
    return report;
  }

  async #toggle(
    modules: readonly DiscoveredModule<App>[],
    enabled: boolean,
    state: ModuleState,
    options: ToggleOptions<App>,
  ): Promise<void> {
    const factory = options.context ?? this.#context;
    const hookName = enabled ? 'onEnable' : 'onDisable';
    for (const module of modules) {
      const name = module.manifest.name;
      // A module never installed has nothing to switch on or off yet: setup installs it.
      if (!options.skipHooks && state.modules[name]?.installedVersion !== undefined) {
        const hooks = await this.#loadHooks(module);
        if (typeof hooks[hookName] === 'function') {
          if (!factory) throw new E_MODULE_HOOK_CONTEXT_MISSING(name, hookName);
          await callHook(module, hooks, hookName, await factory(module));
        }
      }
      await this.#store.set(name, { enabled });
    }
  }

  #loadHooks(module: DiscoveredModule<App>): Promise<ModuleHooks<App>> {
    const name = module.manifest.name;
    let hooks = this.#hooks.get(name);
    if (!hooks) {
      hooks = (async () => {
        try {
          return ((await resolveLazy(module.manifest.hooks)) ?? {}) as ModuleHooks<App>;
        } catch (error) {
          this.#hooks.delete(name);
          throw new E_MODULE_LOAD_FAILED(
            `the hooks of module "${name}"`,
            errorMessage(error),
          ).withCause(error);
        }
      })();
      this.#hooks.set(name, hooks);
    }
    return hooks;
  }

  #isEnabled(state: ModuleState, name: string): boolean {
    return state.modules[name]?.enabled ?? this.#enableNew;
  }

  #enabledNames(state: ModuleState): Set<string> {
    return new Set(
      this.#modules.map((m) => m.manifest.name).filter((n) => this.#isEnabled(state, n)),
    );
  }

  #graph(state: ModuleState): ModuleGraph<DiscoveredModule<App>> {
    return new ModuleGraph(this.#modules, { enabled: this.#enabledNames(state) });
  }
}

function pendingChange(from: string | undefined, to: string): ModuleStatus['pending'] {
  if (from === undefined) return 'install';
  if (from === to) return undefined;
  // Versions differing only in build metadata rank equal: treat that as an upgrade so it is recorded.
  return semver.lt(to, from) ? 'downgrade' : 'upgrade';
}

/** Whether a graph problem involves one of `names` (so that enabling them must be refused). */
function concerns(problem: KeelError, names: readonly string[]): boolean {
  const details = problem.details ?? {};
  if (Array.isArray(details.cycle))
    return names.some((name) => (details.cycle as string[]).includes(name));
  return typeof details.module === 'string' && names.includes(details.module);
}

async function callHook<App>(
  module: DiscoveredModule<App>,
  hooks: ModuleHooks<App>,
  hook: ModuleHookName,
  ctx: ModuleHookContext<App>,
  from?: string,
): Promise<void> {
  try {
    if (hook === 'onUpgrade') await hooks.onUpgrade?.(ctx, from!);
    else await hooks[hook]?.(ctx);
  } catch (error) {
    throw new E_MODULE_HOOK_FAILED(module.manifest.name, hook, errorMessage(error)).withCause(
      error,
    );
  }
}
