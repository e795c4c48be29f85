import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from '../../kernel/command.js';
import {
  type AppDefinition,
  Application,
  type AppPaths,
  createLogger,
  loadAppDefinition,
  registerTypeScriptLoader,
  resolveAppPaths,
} from '../../kernel/index.js';
import type { KeelError } from '../../support/index.js';
import { discoverModules } from '../module-discovery.js';
import { ModuleGraph } from '../module-graph.js';
import { ModuleManager, type ModuleStatus } from '../module-manager.js';
import type { ModuleErrorRecord, ModuleRuntimeSnapshot } from '../module-runtime.js';
import {
  type ModuleRuntimeRegistrySnapshot,
  readModuleRuntimeSnapshot,
} from '../module-runtime-registry.js';
import { ModuleStateStore } from '../module-state-store.js';
import type { DiscoveredModule } from '../types.js';

/**
 * What the module commands work on. The application is created when it can be; when it
 * cannot (a module depends on a missing one, a config schema fails, the env is invalid)
 * the commands still work from the modules on disk and the state file, so that
 * `module:list` can show the problem and `module:disable` can take the culprit out.
 */
export interface ModuleWorkspace {
  readonly root: string;
  readonly paths: AppPaths;
  readonly definition: AppDefinition;
  /** The application in state `created`, when it could be created. */
  readonly app: Application | undefined;
  /** Why the application could not be created. */
  readonly appError: unknown;
  readonly discovered: readonly DiscoveredModule<Application>[];
  readonly manager: ModuleManager<Application>;
  /** The application, booted on first call; throws when it could not be created or booted. */
  bootedApp(): Promise<Application>;
  close(): Promise<void>;
}

export interface ModuleWorkspaceOptions {
  /** Send the application's log lines to stderr, so stdout holds only JSON output. */
  json?: boolean;
  /** How to create the application: the CLI's `ctx.createApp` (framework providers included). */
  createApp?: CommandContext['createApp'];
}

/** Open the application in `root` for the module commands (see {@link ModuleWorkspace}). */
export async function openModuleWorkspace(
  root: string,
  options: ModuleWorkspaceOptions = {},
): Promise<ModuleWorkspace> {
  let app: Application | undefined;
  let appError: unknown;
  try {
    const extra = options.json
      ? { logger: createLogger({ name: 'keel', destination: process.stderr }) }
      : {};
    // The CLI's factory boots with the same framework providers as `keel serve`, so hooks
    // and listings see the real app.
    app = options.createApp
      ? await options.createApp(extra)
      : await Application.create({ root, environment: 'console', ...extra });
  } catch (error) {
    appError = error;
  }
  let definition: AppDefinition;
  let paths: AppPaths;
  let discovered: readonly DiscoveredModule<Application>[];
  let manager: ModuleManager<Application>;
  if (app) {
    ({ definition, paths, discovered } = app);
    manager = app.moduleManager;
  } else {
    // Without an application, rebuild what the module commands read; an error here (no
    // keel.config, a module file that does not load) is the real problem, so it propagates.
    ({ definition } = await loadAppDefinition(root));
    paths = resolveAppPaths(root, {
      ...(definition.modules ? { modules: definition.modules } : {}),
      ...(definition.config ? { config: definition.config } : {}),
    });
    await registerTypeScriptLoader();
    discovered = await discoverModules<Application>(paths.modules);
    manager = new ModuleManager<Application>({
      modules: discovered,
      store: new ModuleStateStore(join(paths.state, 'modules.json')),
      enableNew: definition.enableNewModules ?? true,
    });
  }
  let booting: Promise<Application> | undefined;
  return {
    root,
    paths,
    definition,
    app,
    appError,
    discovered,
    manager,
    bootedApp() {
      if (!app) return Promise.reject(appError);
      const created = app;
      booting ??= (async () => {
        if (created.lifecycle.is('created', 'registered')) await created.boot();
        return created;
      })();
      return booting;
    },
    async close() {
      if (app && !app.lifecycle.is('stopped', 'stopping')) await app.shutdown('command finished');
    },
  };
}

/** The runtime snapshot a running application wrote, and whether its process is alive. */
export interface RuntimeView {
  file: string;
  snapshot: ModuleRuntimeRegistrySnapshot | undefined;
  /** True when the process that wrote the snapshot is still alive. */
  live: boolean;
  /** Set when the file exists but cannot be read. */
  error?: KeelError | Error;
}

/** Read `var/state/module-runtime.json`; a corrupt file is reported, not thrown. */
export async function readRuntimeView(paths: AppPaths): Promise<RuntimeView> {
  const file = join(paths.state, 'module-runtime.json');
  try {
    const snapshot = await readModuleRuntimeSnapshot(file);
    return { file, snapshot, live: snapshot !== undefined && isProcessAlive(snapshot.pid) };
  } catch (error) {
    return { file, snapshot: undefined, live: false, error: error as Error };
  }
}

/** Signal 0 checks for existence without touching the process; EPERM still means alive. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One module's runtime as the commands show it. */
export interface ModuleRuntimeView {
  /** The recorded state, or `not running` when no live process recorded one. */
  state: string;
  live: boolean;
  since?: number;
  /** Milliseconds in `running`, projected to now for a live process. */
  uptime: number;
  restartCount: number;
  errorCount: number;
  lastError?: ModuleErrorRecord;
  history: ModuleRuntimeSnapshot['history'];
}

/** The runtime of one module from a snapshot; `not running` when there is none. */
export function moduleRuntime(
  view: RuntimeView,
  name: string,
  now = Date.now(),
): ModuleRuntimeView {
  const entry = view.snapshot?.modules[name];
  if (!view.snapshot || !entry)
    return {
      state: 'not running',
      live: false,
      uptime: 0,
      restartCount: 0,
      errorCount: 0,
      history: [],
    };
  // A dead writer that never recorded `stopped` crashed or was killed: its last state is history.
  const state =
    view.live || entry.state === 'stopped' ? entry.state : `not running (last: ${entry.state})`;
  const uptime =
    view.live && entry.state === 'running'
      ? entry.uptime + Math.max(0, now - view.snapshot.writtenAt)
      : 0;
  return {
    state,
    live: view.live,
    since: entry.since,
    uptime,
    restartCount: entry.restartCount,
    errorCount: entry.errorCount,
    ...(entry.lastError ? { lastError: entry.lastError } : {}),
    history: entry.history ?? [],
  };
}

/** What is wrong with one module, as code and message. */
export interface ModuleProblem {
  code: string;
  message: string;
}

/**
 * The dependency problems of each module. Enabled modules are checked in the graph that
 * would load; a disabled module is checked as if enabled, so a missing or incompatible
 * dependency shows before someone enables it.
 */
export function moduleProblems(
  discovered: readonly DiscoveredModule<Application>[],
  statuses: readonly ModuleStatus[],
): Map<string, ModuleProblem[]> {
  const enabled = statuses.filter((s) => s.enabled).map((s) => s.name);
  const problems = new Map<string, ModuleProblem[]>(statuses.map((s) => [s.name, []]));
  const add = (names: readonly string[], error: KeelError): void => {
    for (const name of names)
      problems.get(name)?.push({ code: error.code, message: error.message });
  };
  for (const error of new ModuleGraph(discovered, { enabled }).problems())
    add(involved(error), error);
  const disabled = new Set(statuses.filter((s) => !s.enabled).map((s) => s.name));
  for (const error of new ModuleGraph(discovered).problems()) {
    if (
      error.code === 'E_MODULE_DEPENDENCY_MISSING' ||
      error.code === 'E_MODULE_DEPENDENCY_INCOMPATIBLE'
    )
      add(
        involved(error).filter((name) => disabled.has(name)),
        error,
      );
  }
  return problems;
}

function involved(error: KeelError): string[] {
  const details = error.details ?? {};
  if (Array.isArray(details.cycle)) return [...new Set(details.cycle as string[])];
  return typeof details.module === 'string' ? [details.module] : [];
}

/** `3d 4h`, `2h 5m`, `4m 10s`, `12s`; `-` for zero. */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return '-';
  const s = Math.floor(ms / 1000);
  const units: Array<[number, string]> = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first === -1) return `${ms}ms`;
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/** True when the compiled boot artifacts exist (commands that change modules hint to recompile). */
export function hasCompiledArtifacts(paths: AppPaths): boolean {
  return existsSync(join(paths.cache, 'modules.json'));
}

/** The first line of an error's message, with the innermost cause when there is one. */
export function errorSummary(error: unknown): string {
  const line = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  let root: unknown = error;
  while (root instanceof Error && root.cause !== undefined) root = root.cause;
  return root === error ? line(error) : `${line(error)}: ${line(root)}`;
}
