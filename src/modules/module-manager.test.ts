import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  fakeModule,
  makeTempDir,
  manifestSource,
  names,
  rejection,
  removeTempDir,
  writeModuleFile,
} from './__fixtures__/module-fixtures.js';
import {
  E_MODULE_CYCLE,
  E_MODULE_DEPENDENCY_DISABLED,
  E_MODULE_DEPENDENCY_INCOMPATIBLE,
  E_MODULE_DEPENDENCY_MISSING,
  E_MODULE_HAS_DEPENDENTS,
  E_MODULE_HOOK_CONTEXT_MISSING,
  E_MODULE_HOOK_FAILED,
  E_MODULE_LOAD_FAILED,
  E_MODULE_NOT_FOUND,
} from './errors.js';
import { discoverModules } from './module-discovery.js';
import { type HookContextFactory, ModuleManager, type SetupStep } from './module-manager.js';
import { ModuleStateStore } from './module-state-store.js';
import type { DiscoveredModule, ModuleHookContext, ModuleHooks } from './types.js';

interface App {
  log: string[];
}

let root: string;
let store: ModuleStateStore;
let app: App;
const clock = { time: Date.parse('2024-06-01T12:00:00.000Z') };
const now = () => new Date(clock.time);
const context: HookContextFactory<App> = (module) => ({
  app,
  module: module.manifest,
  dir: module.dir,
});

beforeEach(async () => {
  root = await makeTempDir();
  store = new ModuleStateStore(path.join(root, 'var/state/modules.json'));
  app = { log: [] };
});
afterEach(async () => {
  await removeTempDir(root);
});

/** Hooks that log `<hook>:<module>` (and the from-version of upgrades) into `app.log`. */
function loggingHooks(name: string, fail?: keyof ModuleHooks): ModuleHooks<App> {
  const hook =
    (label: string) =>
    ({ app }: ModuleHookContext<App>, from?: string) => {
      if (label === fail) throw new Error(`${label} broke`);
      app.log.push(`${label}:${name}${from ? `@${from}` : ''}`);
    };
  return {
    onInstall: hook('onInstall'),
    onUpgrade: hook('onUpgrade'),
    onEnable: hook('onEnable'),
    onDisable: hook('onDisable'),
    beforeSetup: hook('beforeSetup'),
    afterSetup: hook('afterSetup'),
  };
}

function mod(
  name: string,
  version = '1.0.0',
  dependsOn: Record<string, string> = {},
  fail?: keyof ModuleHooks,
): DiscoveredModule<App> {
  return fakeModule<App>(name, version, dependsOn, { hooks: loggingHooks(name, fail) });
}

const erp = () => [
  mod('reports', '1.0.0', { billing: '^1.0.0' }),
  mod('billing', '1.0.0', { customers: '^1.0.0' }),
  mod('customers', '1.0.0', { core: '*' }),
  mod('core'),
  mod('audit'),
];

const manager = (modules: DiscoveredModule<App>[], extra = {}) =>
  new ModuleManager<App>({ modules, store, context, now, ...extra });

describe('ModuleManager.setup', () => {
  it('runs beforeSetup for all, installs in load order, then afterSetup for all', async () => {
    const steps: SetupStep[] = [];
    const report = await manager(erp()).setup(undefined, { onStep: (step) => steps.push(step) });
    expect(app.log).toEqual([
      'beforeSetup:audit',
      'beforeSetup:core',
      'beforeSetup:customers',
      'beforeSetup:billing',
      'beforeSetup:reports',
      'onInstall:audit',
      'onInstall:core',
      'onInstall:customers',
      'onInstall:billing',
      'onInstall:reports',
      'afterSetup:audit',
      'afterSetup:core',
      'afterSetup:customers',
      'afterSetup:billing',
      'afterSetup:reports',
    ]);
    expect(report.dryRun).toBe(false);
    expect(steps).toEqual(report.steps);
    expect(report.steps[5]).toEqual({
      module: 'audit',
      action: 'install',
      hook: 'onInstall',
      to: '1.0.0',
    });
    const state = await store.read();
    expect(state.modules.billing).toEqual({
      enabled: true,
      installedVersion: '1.0.0',
      installedAt: '2024-06-01T12:00:00.000Z',
      updatedAt: '2024-06-01T12:00:00.000Z',
      lastSetupAt: '2024-06-01T12:00:00.000Z',
    });
  });

  it('runs onUpgrade with the previous version for upgrades and downgrades', async () => {
    await manager(erp()).setup();
    app.log = [];
    clock.time += 60_000;
    const next = [
      ...erp().filter((m) => !['billing', 'core'].includes(m.manifest.name)),
      mod('billing', '1.1.0', { customers: '^1.0.0' }),
      mod('core', '0.9.0'),
    ];
    const report = await manager(next).setup(undefined, { skipHooks: false });
    expect(app.log.filter((line) => line.startsWith('onUpgrade'))).toEqual([
      'onUpgrade:core@1.0.0',
      'onUpgrade:billing@1.0.0',
    ]);
    expect(
      report.steps.filter((s) => s.action !== 'beforeSetup' && s.action !== 'afterSetup'),
    ).toEqual([
      { module: 'core', action: 'downgrade', hook: 'onUpgrade', from: '1.0.0', to: '0.9.0' },
      { module: 'billing', action: 'upgrade', hook: 'onUpgrade', from: '1.0.0', to: '1.1.0' },
    ]);
    const billing = await store.get('billing');
    expect(billing?.installedVersion).toBe('1.1.0');
    expect(billing?.installedAt).toBe('2024-06-01T12:00:00.000Z');
    expect(billing?.updatedAt).toBe('2024-06-01T12:01:00.000Z');
    // Nothing left to do: the next setup only runs the before/after hooks.
    app.log = [];
    const again = await manager(next).setup();
    expect(again.steps.every((s) => s.action === 'beforeSetup' || s.action === 'afterSetup')).toBe(
      true,
    );
  });

  it('stops at a failing hook without recording it, and resumes on the next run', async () => {
    const broken = [mod('core'), mod('billing', '1.0.0', { core: '*' }, 'onInstall'), mod('zeta')];
    const error = await rejection(manager(broken).setup());
    expect(E_MODULE_HOOK_FAILED.is(error)).toBe(true);
    expect(error.message).toBe('Hook onInstall of module "billing" failed: onInstall broke');
    expect((error.cause as Error).message).toBe('onInstall broke');
    const state = await store.read();
    expect(state.modules.core?.installedVersion).toBe('1.0.0');
    expect(state.modules.billing).toBeUndefined();
    expect(state.modules.zeta).toBeUndefined();
    expect(state.modules.core?.lastSetupAt).toBeUndefined();

    app.log = [];
    await manager([mod('core'), mod('billing', '1.0.0', { core: '*' }), mod('zeta')]).setup();
    expect(app.log.filter((line) => line.startsWith('onInstall'))).toEqual([
      'onInstall:billing',
      'onInstall:zeta',
    ]);
  });

  it('reports the failing before/after hook by name', async () => {
    const error = await rejection(manager([mod('core', '1.0.0', {}, 'afterSetup')]).setup());
    expect(error.message).toBe('Hook afterSetup of module "core" failed: afterSetup broke');
    // The install itself succeeded and stays recorded.
    expect((await store.get('core'))?.installedVersion).toBe('1.0.0');
  });

  it('plans without running or writing anything in a dry run', async () => {
    const planned: SetupStep[] = [];
    const report = await manager(erp()).setup(undefined, {
      dryRun: true,
      onStep: (s) => planned.push(s),
    });
    expect(report.dryRun).toBe(true);
    expect(report.steps).toHaveLength(15);
    expect(planned).toEqual(report.steps);
    expect(app.log).toEqual([]);
    await expect(fs.stat(store.file)).rejects.toThrow(/ENOENT/);
  });

  it('records versions without calling hooks when told to skip them', async () => {
    const report = await manager(erp(), { context: undefined }).setup(undefined, {
      skipHooks: true,
    });
    expect(app.log).toEqual([]);
    expect(report.steps.map((s) => s.action)).toEqual(Array(5).fill('install'));
    expect(report.steps.some((s) => s.hook)).toBe(false);
    expect((await store.get('reports'))?.installedVersion).toBe('1.0.0');
  });

  it('needs a context factory only when a hook will run', async () => {
    const bare = new ModuleManager<App>({ modules: [fakeModule('plain')], store, now });
    expect((await bare.setup()).steps).toEqual([
      { module: 'plain', action: 'install', to: '1.0.0' },
    ]);
    const hooked = new ModuleManager<App>({ modules: [mod('core')], store });
    await expect(hooked.setup()).rejects.toThrow(E_MODULE_HOOK_CONTEXT_MISSING);
    await expect(hooked.setup()).rejects.toThrow(
      'Module "core" has a beforeSetup hook, but no hook context factory was given to the module manager',
    );
    // Refused before anything ran or was written.
    expect((await store.get('core'))?.installedVersion).toBeUndefined();
    await hooked.setup(context);
    expect(app.log).toContain('onInstall:core');
  });

  it('builds each module’s context once per setup', async () => {
    const built: string[] = [];
    await manager(erp()).setup((module) => {
      built.push(module.manifest.name);
      return { app, module: module.manifest, dir: module.dir };
    });
    expect(built).toEqual(['audit', 'core', 'customers', 'billing', 'reports']);
  });

  it('refuses to set up an invalid module set', async () => {
    await expect(
      manager([mod('a', '1.0.0', { b: '*' }), mod('b', '1.0.0', { a: '*' })]).setup(),
    ).rejects.toThrow(E_MODULE_CYCLE);
    await expect(manager([mod('a', '1.0.0', { b: '^2.0.0' }), mod('b')]).setup()).rejects.toThrow(
      E_MODULE_DEPENDENCY_INCOMPATIBLE,
    );
    expect(app.log).toEqual([]);
  });

  it('wraps a hooks loader that fails', async () => {
    const module = fakeModule<App>(
      'lazy',
      '1.0.0',
      {},
      {
        hooks: () => Promise.reject(new Error('hooks.ts missing')),
      },
    );
    const error = await rejection(manager([module]).setup());
    expect(E_MODULE_LOAD_FAILED.is(error)).toBe(true);
    expect(error.message).toBe('Could not load the hooks of module "lazy": hooks.ts missing');
  });
});

describe('ModuleManager enable/disable', () => {
  async function installed(modules = erp()) {
    const m = manager(modules);
    await m.setup();
    app.log = [];
    return m;
  }

  it('refuses to disable a module others depend on, naming them', async () => {
    const m = await installed();
    const error = await rejection(m.disable('customers'));
    expect(E_MODULE_HAS_DEPENDENTS.is(error)).toBe(true);
    expect(error.message).toBe(
      'Cannot disable module "customers": enabled modules "billing", "reports" depend on it',
    );
    expect((await rejection(m.disable('billing'))).message).toBe(
      'Cannot disable module "billing": enabled module "reports" depends on it',
    );
    expect(app.log).toEqual([]);
    expect((await store.get('customers'))?.enabled).toBe(true);
  });

  it('disables dependents first with cascade, calling onDisable', async () => {
    const m = await installed();
    expect(await m.disable('customers', { cascade: true })).toEqual([
      'reports',
      'billing',
      'customers',
    ]);
    expect(app.log).toEqual(['onDisable:reports', 'onDisable:billing', 'onDisable:customers']);
    expect(names(await m.enabledModules())).toEqual(['audit', 'core']);
    expect(await m.disable('customers')).toEqual([]);
  });

  it('refuses to enable a module whose dependencies are disabled, or enables them with cascade', async () => {
    const m = await installed();
    await m.disable('core', { cascade: true });
    app.log = [];
    const error = await rejection(m.enable('billing'));
    expect(E_MODULE_DEPENDENCY_DISABLED.is(error)).toBe(true);
    expect(error.message).toBe('Module "billing" depends on disabled module "customers"');
    expect(app.log).toEqual([]);

    expect(await m.enable('billing', { cascade: true })).toEqual(['core', 'customers', 'billing']);
    expect(app.log).toEqual(['onEnable:core', 'onEnable:customers', 'onEnable:billing']);
    expect(names(await m.enabledModules())).toEqual(['audit', 'core', 'customers', 'billing']);
    expect(await m.enable('billing')).toEqual([]);
  });

  it('does not advance the state past a failing onEnable/onDisable hook', async () => {
    const m = await installed([mod('core'), mod('billing', '1.0.0', { core: '*' }, 'onDisable')]);
    const error = await rejection(m.disable('core', { cascade: true }));
    expect(error.message).toBe('Hook onDisable of module "billing" failed: onDisable broke');
    expect((await store.get('billing'))?.enabled).toBe(true);
    expect((await store.get('core'))?.enabled).toBe(true);
    // Skipping hooks lets an operator get past a broken hook.
    expect(await m.disable('core', { cascade: true, skipHooks: true })).toEqual([
      'billing',
      'core',
    ]);
  });

  it('only switches a module that was never installed: setup installs it later', async () => {
    const m = manager(erp(), { enableNew: false });
    expect(names(await m.enabledModules())).toEqual([]);
    expect(await m.enable('customers', { cascade: true })).toEqual(['core', 'customers']);
    expect(app.log).toEqual([]);
    await m.setup();
    expect(app.log.filter((l) => l.startsWith('onInstall'))).toEqual([
      'onInstall:core',
      'onInstall:customers',
    ]);
  });

  it('refuses what would leave the graph invalid, and unknown names', async () => {
    const m = manager(
      [
        mod('billing', '1.0.0', { customers: '^2.0.0' }),
        mod('customers'),
        mod('loner', '1.0.0', { ghost: '*' }),
      ],
      {
        enableNew: false,
      },
    );
    await expect(m.enable('billing', { cascade: true })).rejects.toThrow(
      E_MODULE_DEPENDENCY_INCOMPATIBLE,
    );
    await expect(m.enable('loner')).rejects.toThrow(E_MODULE_DEPENDENCY_MISSING);
    await expect(m.enable('custmers')).rejects.toThrow(E_MODULE_NOT_FOUND);
    await expect(m.disable('custmers')).rejects.toThrow(
      'Unknown module "custmers". Did you mean "customers"?',
    );
    // An unrelated broken module (enabled by hand in the file) does not block enabling a sound one.
    await store.set('loner', { enabled: true });
    expect(await m.enable('customers')).toEqual(['customers']);
    await expect(m.enabledModules()).rejects.toThrow('Module "loner" depends on "ghost" (*)');
  });

  it('needs a context factory for enable/disable hooks', async () => {
    await installed();
    const bare = new ModuleManager<App>({ modules: erp(), store });
    await expect(bare.disable('reports')).rejects.toThrow(E_MODULE_HOOK_CONTEXT_MISSING);
    expect(await bare.disable('reports', { context })).toEqual(['reports']);
    expect(app.log).toEqual(['onDisable:reports']);
  });
});

describe('ModuleManager.list', () => {
  it('lists every module with its state and pending change', async () => {
    const m = manager([
      mod('core', '1.0.0'),
      fakeModule('billing', '2.0.0', {}, { description: 'Invoices' }),
    ]);
    await m.setup();
    const next = new ModuleManager<App>({
      modules: [mod('core', '1.1.0'), fakeModule('billing', '2.0.0'), fakeModule('extra')],
      store,
      context,
      enableNew: false,
    });
    expect(await next.list()).toEqual([
      {
        name: 'billing',
        version: '2.0.0',
        dir: '/app/modules/billing',
        enabled: true,
        installedVersion: '2.0.0',
      },
      {
        name: 'core',
        version: '1.1.0',
        dir: '/app/modules/core',
        enabled: true,
        installedVersion: '1.0.0',
        pending: 'upgrade',
      },
      { name: 'extra', version: '1.0.0', dir: '/app/modules/extra', enabled: false },
    ]);
    expect((await m.list())[0]).toMatchObject({ name: 'billing', description: 'Invoices' });
    expect(names((await next.graph()).order())).toEqual(['billing', 'core']);
  });
});

describe('ModuleManager from disk', () => {
  it('discovers, sets up and disables modules whose hooks live in lazily imported files', async () => {
    const modulesDir = path.join(root, 'modules');
    await writeModuleFile(
      modulesDir,
      'customers',
      'export default { name: "customers", version: "1.0.0", hooks: () => import("./hooks.js") };',
    );
    await writeModuleFile(
      modulesDir,
      'customers',
      [
        'export async function onInstall({ app, dir }) { app.log.push("install customers in " + dir); }',
        'export async function onDisable({ app, module }) { app.log.push("disable " + module.name); }',
      ].join('\n'),
      'hooks.js',
    );
    await writeModuleFile(
      modulesDir,
      'billing',
      manifestSource({ name: 'billing', version: '1.0.0', dependsOn: { customers: '^1.0.0' } }),
    );
    const m = manager(await discoverModules(modulesDir));
    await m.setup();
    expect(app.log).toEqual([`install customers in ${path.join(modulesDir, 'customers')}`]);
    await m.disable('customers', { cascade: true });
    expect(app.log.at(-1)).toBe('disable customers');
    const saved = JSON.parse(await fs.readFile(store.file, 'utf8'));
    expect(saved.modules.billing.enabled).toBe(false);
    expect(saved.modules.customers).toMatchObject({ enabled: false, installedVersion: '1.0.0' });
  });

  it('types the hook context with the application type', () => {
    expectTypeOf<HookContextFactory<App>>().returns.toEqualTypeOf<
      ModuleHookContext<App> | Promise<ModuleHookContext<App>>
    >();
    expectTypeOf(manager([]).enable).returns.resolves.toEqualTypeOf<string[]>();
  });
});
