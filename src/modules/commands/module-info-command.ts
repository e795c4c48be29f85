import { join, relative } from 'node:path';
import { EventBus, type ListenersDefinition, registerListeners } from '../../events/index.js';
import { type Application, type CommandUI, defineCommand, isEnvRef } from '../../kernel/index.js';
import { isPlainObject } from '../../support/index.js';
import { resolveLazy } from '../define-module.js';
import type { ModuleErrorRecord, ModuleTransition } from '../module-runtime.js';
import { type ModuleStateEntry, ModuleStateStore } from '../module-state-store.js';
import type { DiscoveredModule } from '../types.js';
import {
  errorSummary,
  formatDuration,
  type ModuleProblem,
  moduleProblems,
  moduleRuntime,
  openModuleWorkspace,
  readRuntimeView,
} from './module-workspace.js';

/** What `module:info --json` prints. */
export interface ModuleInfoOutput {
  name: string;
  version: string;
  description?: string;
  dependsOn: Record<string, string>;
  /** Enabled modules that depend on this one. */
  dependents: string[];
  folders: { dir: string; file: string; migrations?: string; seeders?: string; views?: string };
  hooks: string[];
  enabled: boolean;
  /** Whether this run loaded the module (enabled and the application could be created). */
  loaded: boolean;
  state: ModuleStateEntry | null;
  runtime: {
    state: string;
    live: boolean;
    uptime: number;
    restartCount: number;
    errorCount: number;
    lastError?: ModuleErrorRecord;
    history: ModuleTransition[];
  };
  problems: ModuleProblem[];
  providers: Array<{ name: string; deferred: boolean; state: string }>;
  commands: Array<{ name: string; description: string; aliases: string[] }>;
  listeners: Array<{ event: string; name: string; priority: number; once: boolean }>;
  /** Every config key of the module's namespace, with the layer its value comes from. */
  config: Array<{ key: string; value: unknown; source: string; sources: string[] }>;
  /** Why part of the above could not be read (the application did not load or boot). */
  warnings: string[];
}

// Same rule as the compiler's: such values are shown redacted, so `module:info` output can be pasted.
const SECRET_KEY = /(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|app_?key)$/i;

export const moduleInfoCommand = defineCommand({
  name: 'module:info',
  description:
    'Show one module: manifest, state, runtime history, providers, commands, listeners, config',
  arguments: [{ name: 'name', description: 'the module name', required: true }],
  json: true,
  // Loaded inside (and booted only for its listeners), so a broken app still gets answers.
  needs: 'nothing',
  async handle({ cwd, args, ui, createApp }) {
    const workspace = await openModuleWorkspace(cwd, { json: ui.json, createApp });
    try {
      const module = workspace.manager.get(String(args.name));
      const { manifest } = module;
      const name = manifest.name;
      const warnings: string[] = [];
      const statuses = await workspace.manager.list();
      const status = statuses.find((s) => s.name === name)!;
      const entry = await new ModuleStateStore(join(workspace.paths.state, 'modules.json')).get(
        name,
      );
      const app = workspace.app;
      const loaded = app?.modules.some((m) => m.manifest.name === name) ?? false;
      if (workspace.appError !== undefined)
        warnings.push(
          `the application cannot load (${errorSummary(workspace.appError)}): showing the manifest only`,
        );
      else if (!status.enabled)
        warnings.push('the module is disabled: showing what its manifest declares');

      const runtimeView = await readRuntimeView(workspace.paths);
      if (runtimeView.error)
        warnings.push(`runtime snapshot ignored: ${runtimeView.error.message}`);
      const runtime = moduleRuntime(runtimeView, name);
      const graph = await workspace.manager.graph();

      const output: ModuleInfoOutput = {
        name,
        version: manifest.version,
        ...(manifest.description !== undefined ? { description: manifest.description } : {}),
        dependsOn: { ...(manifest.dependsOn ?? {}) },
        dependents: status.enabled ? graph.dependents(name) : [],
        folders: {
          dir: relative(cwd, module.dir) || '.',
          file: relative(cwd, module.file),
          ...(manifest.migrations ? { migrations: manifest.migrations } : {}),
          ...(manifest.seeders ? { seeders: manifest.seeders } : {}),
          ...(manifest.views ? { views: manifest.views } : {}),
        },
        hooks: definedHooks((await resolveLazy(manifest.hooks)) ?? {}),
        enabled: status.enabled,
        loaded,
        state: entry ?? null,
        runtime: {
          state: runtime.state,
          live: runtime.live,
          uptime: runtime.uptime,
          restartCount: runtime.restartCount,
          errorCount: runtime.errorCount,
          ...(runtime.lastError ? { lastError: runtime.lastError } : {}),
          history: runtime.history,
        },
        problems: moduleProblems(workspace.discovered, statuses).get(name) ?? [],
        providers: [],
        commands: [],
        listeners: [],
        config: [],
        warnings,
      };

      if (loaded) {
        // Listeners are attached at boot, and provider states read best after it.
        try {
          const booted = await workspace.bootedApp();
          output.listeners = booted.events
            .listeners()
            .filter((l) => l.module === name)
            .map(({ event, name: listener, priority, once }) => ({
              event,
              name: listener,
              priority,
              once,
            }));
        } catch (error) {
          warnings.push(
            `listeners unknown: the application failed to boot (${errorSummary(error)})`,
          );
        }
        output.providers = app!
          .providers()
          .filter((p) => p.module === name)
          .map((p) => ({ name: p.name, deferred: p.deferred, state: p.state }));
        output.commands = app!.commands
          .filter((c) => (c as { module?: string }).module === name)
          .map(describeCommand);
        output.config = configEntries(app!, name);
      } else {
        await fromManifest(module, output);
      }

      ui.output(output, () => render(ui, output));
      return 0;
    } finally {
      await workspace.close();
    }
  },
});

/** What a module declares, read without loading it into an application. */
async function fromManifest(
  module: DiscoveredModule<Application>,
  output: ModuleInfoOutput,
): Promise<void> {
  const { manifest } = module;
  const providers = (await resolveLazy(manifest.providers)) ?? [];
  output.providers = providers.map((p) => ({ name: p.name, deferred: false, state: 'not loaded' }));
  output.commands = ((await resolveLazy(manifest.commands)) ?? []).map(describeCommand);
  const events = await resolveLazy(manifest.events);
  if (events && typeof events === 'object') {
    const bus = new EventBus();
    registerListeners(bus, events as ListenersDefinition, manifest.name);
    output.listeners = bus
      .listeners()
      .map(({ event, name, priority, once }) => ({ event, name, priority, once }));
  } else if (typeof events === 'function') {
    output.warnings.push('listeners unknown: events.ts exports a function of the application');
  }
  const config = (await resolveLazy(manifest.config)) ?? {};
  output.config = flatten(config).map(([key, value]) => ({
    key,
    value: redact(key, value),
    source: `module:${manifest.name}`,
    sources: [`module:${manifest.name}`],
  }));
}

function definedHooks(hooks: object): string[] {
  return Object.entries(hooks)
    .filter(([, value]) => typeof value === 'function')
    .map(([key]) => key);
}

function describeCommand(command: unknown): {
  name: string;
  description: string;
  aliases: string[];
} {
  const c = command as { name?: unknown; description?: unknown; aliases?: unknown };
  return {
    name: String(c.name),
    description: typeof c.description === 'string' ? c.description : '',
    aliases: Array.isArray(c.aliases) ? c.aliases.map(String) : [],
  };
}

function configEntries(app: Application, name: string): ModuleInfoOutput['config'] {
  if (!app.config.namespaces().includes(name)) return [];
  return flatten(app.config.namespace(name)).map(([key, value]) => {
    const path = `${name}.${key}`;
    const sources = app.config.sources(path);
    return { key, value: redact(key, value), source: sources.at(-1) ?? 'unset', sources };
  });
}

/** Leaf values by dot path; arrays and env references are leaves. */
function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (!isPlainObject(value) || isEnvRef(value)) return prefix ? [[prefix, value]] : [];
  const out: Array<[string, unknown]> = [];
  for (const key of Object.keys(value).sort())
    out.push(...flatten(value[key], prefix ? `${prefix}.${key}` : key));
  return out;
}

/**
 * Hide values under secret-looking keys. An unresolved env reference (a module not loaded)
 * is shown as `env(NAME)`, with its default unless the key looks secret.
 */
function redact(key: string, value: unknown): unknown {
  const secret = SECRET_KEY.test(key.split('.').at(-1) ?? key);
  if (isEnvRef(value))
    return `env(${value.$env}${value.default !== undefined && !secret ? `, ${JSON.stringify(value.default)}` : ''})`;
  return typeof value === 'string' && value !== '' && secret ? '[redacted]' : value;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function render(ui: CommandUI, info: ModuleInfoOutput): void {
  ui.line(
    `${ui.bold(info.name)} ${info.version}${info.description ? ui.dim(` — ${info.description}`) : ''}`,
  );
  const installed = info.state?.installedVersion
    ? `installed ${info.state.installedVersion}${info.state.installedAt ? ` on ${info.state.installedAt}` : ''}`
    : 'never installed (run `keel setup:update`)';
  ui.line(`  enabled: ${info.enabled ? ui.green('yes') : ui.dim('no')}, ${installed}`);
  ui.line(
    `  folder: ${info.folders.dir} (${['migrations', 'seeders', 'views'].map((k) => `${k}: ${info.folders[k as 'views'] ?? '-'}`).join(', ')})`,
  );
  const deps = Object.entries(info.dependsOn).map(([n, range]) => `${n} ${range}`);
  ui.line(
    `  depends on: ${deps.join(', ') || '-'}; dependents: ${info.dependents.join(', ') || '-'}`,
  );
  ui.line(`  hooks: ${info.hooks.join(', ') || '-'}`);
  const rt = info.runtime;
  ui.line(
    `  runtime: ${rt.state}, uptime ${formatDuration(rt.uptime)}, restarts ${rt.restartCount}, errors ${rt.errorCount}`,
  );
  if (rt.lastError)
    ui.line(
      ui.red(
        `  last error: ${rt.lastError.code ? `${rt.lastError.code}: ` : ''}${rt.lastError.message} (${new Date(rt.lastError.at).toISOString()})`,
      ),
    );
  for (const problem of info.problems) ui.line(ui.red(`  problem: ${problem.message}`));
  for (const warning of info.warnings) ui.warn(warning);
  const section = (
    title: string,
    rows: Array<Record<string, unknown>>,
    columns: string[],
  ): void => {
    ui.line();
    ui.line(ui.bold(title));
    ui.table(rows, columns);
  };
  if (rt.history.length > 0)
    section(
      'Runtime history',
      rt.history.map((t) => ({
        at: new Date(t.at).toISOString(),
        from: t.from,
        to: t.to,
        reason: t.reason ?? '',
      })),
      ['at', 'from', 'to', 'reason'],
    );
  section('Providers', info.providers, ['name', 'deferred', 'state']);
  section(
    'Commands',
    info.commands.map((c) => ({ ...c, aliases: c.aliases.join(', ') })),
    ['name', 'aliases', 'description'],
  );
  section('Listeners', info.listeners, ['event', 'name', 'priority', 'once']);
  section(
    'Config',
    info.config.map((c) => ({ key: c.key, value: show(c.value), source: c.source })),
    ['key', 'value', 'source'],
  );
}
