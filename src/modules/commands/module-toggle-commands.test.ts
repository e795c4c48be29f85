import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV_KEYS, makeFixtureApp, removeFixtureApp, runKeel } from './__fixtures__/cli-fixture.js';
import type { ModuleListOutput } from './module-list-command.js';
import type { ModuleToggleOutput } from './module-toggle-commands.js';

const apps: string[] = [];
async function app(overrides: Record<string, string> = {}): Promise<string> {
  const root = await makeFixtureApp(overrides);
  apps.push(root);
  return root;
}

beforeAll(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map(removeFixtureApp));
});

/** The fixture with every module installed (so enable/disable run their hooks). */
async function installedApp(overrides: Record<string, string> = {}): Promise<string> {
  const at = '2025-01-01T00:00:00.000Z';
  const entry = (version: string) => ({
    enabled: true,
    installedVersion: version,
    installedAt: at,
  });
  return app({
    'var/state/modules.json': JSON.stringify({
      version: 1,
      modules: { core: entry('1.0.0'), billing: entry('2.0.0'), reports: entry('0.1.0') },
    }),
    ...overrides,
  });
}

async function state(root: string): Promise<Record<string, { enabled: boolean }>> {
  return JSON.parse(await readFile(join(root, 'var/state/modules.json'), 'utf8')).modules;
}

async function hookLog(root: string): Promise<string[]> {
  const file = join(root, 'hooks.log');
  return existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n') : [];
}

describe('module:disable', () => {
  it('refuses while enabled modules depend on it, with the code and help, exit 1', async () => {
    const root = await installedApp();
    const result = await runKeel(root, 'module:disable', 'core');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'E_MODULE_HAS_DEPENDENTS: Cannot disable module "core": enabled modules "billing", "reports" depend on it',
    );
    expect(result.stdout).toContain(
      'help: Disable the dependents first, or disable with --cascade',
    );
    expect((await state(root)).core!.enabled).toBe(true);
    expect(await hookLog(root)).toEqual([]);
  });

  it('--cascade disables the dependents first and runs onDisable on a booted application', async () => {
    const root = await installedApp();
    const result = await runKeel(root, 'module:disable', 'core', '--cascade', '--json');
    expect(result.code).toBe(0);
    expect(result.json<ModuleToggleOutput>()).toEqual({
      action: 'disable',
      module: 'core',
      changed: ['reports', 'billing', 'core'],
    });
    const modules = await state(root);
    expect([modules.core!.enabled, modules.billing!.enabled, modules.reports!.enabled]).toEqual([
      false,
      false,
      false,
    ]);
    expect(await hookLog(root)).toEqual(['onDisable billing booted', 'onDisable core booted']);
  });

  it('--skip-hooks switches without running hooks and boots nothing', async () => {
    const root = await installedApp();
    const result = await runKeel(root, 'module:disable', 'reports', '--skip-hooks');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('disabled: reports');
    const billing = await runKeel(root, 'module:disable', 'billing', '--skip-hooks');
    expect(billing.code).toBe(0);
    expect(await hookLog(root)).toEqual([]);
  });

  it('says so when the module is already disabled', async () => {
    const root = await installedApp();
    await runKeel(root, 'module:disable', 'reports');
    const again = await runKeel(root, 'module:disable', 'reports');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('module "reports" is already disabled; nothing changed');
  });

  it('takes out a module whose missing dependency stops the application from loading', async () => {
    const root = await app({
      'modules/audit/module.ts': `export default { name: 'audit', version: '1.0.0', dependsOn: { ghost: '^1.0.0' } };\n`,
    });
    const before = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    expect(before.appError?.code).toBe('E_MODULE_DEPENDENCY_MISSING');
    const result = await runKeel(root, 'module:disable', 'audit');
    expect(result.code).toBe(0);
    const after = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    expect(after.appError).toBeUndefined();
  });

  it('refuses to run a hook when the application cannot load, unless --skip-hooks', async () => {
    const root = await installedApp({
      'modules/audit/module.ts': `export default { name: 'audit', version: '1.0.0', dependsOn: { ghost: '*' }, hooks: { onDisable() {} } };\n`,
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: { audit: { enabled: true, installedVersion: '1.0.0' } },
      }),
    });
    const refused = await runKeel(root, 'module:disable', 'audit');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'E_MODULE_APP_UNAVAILABLE: Module "audit" has a onDisable hook',
    );
    expect(refused.stderr).toContain('depends on "ghost"');
    expect(refused.stdout).toContain('--skip-hooks');
    const forced = await runKeel(root, 'module:disable', 'audit', '--skip-hooks');
    expect(forced.code).toBe(0);
  });

  it('reports a hook that fails', async () => {
    const root = await installedApp({
      'modules/reports/module.ts': `export default { name: 'reports', version: '0.1.0', hooks: { onDisable() { throw new Error('still exporting'); } } };\n`,
    });
    const result = await runKeel(root, 'module:disable', 'reports');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'E_MODULE_HOOK_FAILED: Hook onDisable of module "reports" failed: still exporting',
    );
    expect((await state(root)).reports!.enabled).toBe(true);
  });
});

describe('module:enable', () => {
  it('refuses while a dependency is disabled, and --cascade enables it first', async () => {
    const root = await installedApp();
    await runKeel(root, 'module:disable', 'core', '--cascade', '--skip-hooks');
    const refused = await runKeel(root, 'module:enable', 'billing');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'E_MODULE_DEPENDENCY_DISABLED: Module "billing" depends on disabled module "core"',
    );
    expect(refused.stdout).toContain('help: Enable the dependencies first');

    const result = await runKeel(root, 'module:enable', 'reports', '--cascade');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('enabled: core, billing, reports');
    // The hooks see the application as it was: every module was disabled, so it booted empty.
    expect(await hookLog(root)).toEqual(['onEnable core booted', 'onEnable billing booted']);
    const modules = await state(root);
    expect([modules.core!.enabled, modules.billing!.enabled, modules.reports!.enabled]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('switches on a module never installed without running hooks', async () => {
    const root = await app({
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: { reports: { enabled: false } },
      }),
    });
    const result = await runKeel(root, 'module:enable', 'reports', '--json');
    expect(result.json<ModuleToggleOutput>().changed).toEqual(['reports']);
    expect(await hookLog(root)).toEqual([]);
  });

  it('suggests a compile when compiled artifacts exist', async () => {
    const root = await installedApp({ 'var/cache/modules.json': '{}' });
    await runKeel(root, 'module:disable', 'reports');
    const result = await runKeel(root, 'module:enable', 'reports');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('run `keel compile`');
  });

  it('answers an unknown module with E_MODULE_NOT_FOUND and a suggestion', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:enable', 'biling');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'E_MODULE_NOT_FOUND: Unknown module "biling". Did you mean "billing"?',
    );
  });

  it('is idempotent', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:enable', 'core', '--json');
    expect(result.code).toBe(0);
    expect(result.json<ModuleToggleOutput>().changed).toEqual([]);
    expect(existsSync(join(root, 'var/state/modules.json'))).toBe(false);
  });
});
