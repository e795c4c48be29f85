import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ModuleRuntimeRegistry } from '../module-runtime-registry.js';
import {
  ENV_KEYS,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
  writeFiles,
} from './__fixtures__/cli-fixture.js';
import type { ModuleListEntry, ModuleListOutput } from './module-list-command.js';
import { formatDuration } from './module-workspace.js';

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

/** A pid no process has: one that just exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

async function writeSnapshot(root: string, pid: number, writtenAt = Date.now()): Promise<void> {
  let clock = writtenAt - 60_000;
  const registry = new ModuleRuntimeRegistry({ now: () => clock });
  const core = registry.register('core');
  for (const state of ['initializing', 'initialized', 'starting', 'running'] as const)
    core.transition(state);
  clock = writtenAt;
  core.recordError(new Error('cache miss storm'));
  registry.register('billing').fail(new Error('boom'));
  const snapshot = { ...registry.snapshot(), pid, writtenAt };
  await writeFiles(root, { 'var/state/module-runtime.json': JSON.stringify(snapshot) });
}

describe('module:list', () => {
  it('lists every module with version, state, dependencies and health as JSON', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:list', '--json');
    expect(result.code).toBe(0);
    const output = result.json<ModuleListOutput>();
    expect(output.runtime).toBeNull();
    expect(output.appError).toBeUndefined();
    expect(output.modules.map((m) => m.name)).toEqual(['billing', 'core', 'reports']);
    const billing = output.modules[0]!;
    expect(billing).toMatchObject({
      version: '2.0.0',
      enabled: true,
      pending: 'install',
      dependsOn: { core: '^1.0.0' },
      runtime: { state: 'not running', live: false, uptime: 0, errorCount: 0 },
      health: 'ok',
      problems: [],
    });
    expect(output.modules[1]).toMatchObject({ name: 'core', description: 'Shared services' });
  });

  it('prints a table under its alias m:l', async () => {
    const root = await app();
    const result = await runKeel(root, 'm:l');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^module\s+version\s+enabled\s+state\s+uptime\s+depends\s+errors\s+health$/,
    );
    expect(result.stdout).toMatch(
      /reports\s+0\.1\.0 \(install\)\s+yes\s+not running\s+-\s+billing\s+0\s+ok/,
    );
    expect(result.stdout).toContain('no running application recorded a runtime snapshot');
  });

  it('shows the runtime a live application recorded, with projected uptime and errors', async () => {
    const root = await app();
    await writeSnapshot(root, process.pid, Date.now() - 5000);
    const output = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    expect(output.runtime).toMatchObject({
      pid: process.pid,
      live: true,
      file: join('var', 'state', 'module-runtime.json'),
    });
    const core = output.modules.find((m) => m.name === 'core')!;
    expect(core.runtime).toMatchObject({ state: 'running', live: true, errorCount: 1 });
    // 60 s recorded, plus at least the 5 s since the snapshot was written.
    expect(core.runtime.uptime).toBeGreaterThanOrEqual(65_000);
    expect(core.health).toBe('ok');
    const billing = output.modules.find((m) => m.name === 'billing')!;
    expect(billing.runtime.state).toBe('failed');
    expect(billing.health).toBe('problems');
    expect(billing.problems).toEqual([{ code: 'FAILED', message: 'boom' }]);

    const table = await runKeel(root, 'module:list');
    expect(table.stdout).toMatch(
      /core\s+1\.0\.0 \(install\)\s+yes\s+running\s+1m \d+s\s+-\s+1\s+ok/,
    );
  });

  it('says "not running" when the process that wrote the snapshot is gone', async () => {
    const root = await app();
    await writeSnapshot(root, deadPid());
    const output = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    expect(output.runtime?.live).toBe(false);
    const core = output.modules.find((m) => m.name === 'core')!;
    expect(core.runtime).toMatchObject({
      state: 'not running (last: running)',
      uptime: 0,
      errorCount: 1,
    });
    expect(output.modules.find((m) => m.name === 'reports')!.runtime.state).toBe('not running');
  });

  it('keeps "stopped" from a clean shutdown', async () => {
    const root = await app();
    const registry = new ModuleRuntimeRegistry();
    const core = registry.register('core');
    for (const state of [
      'initializing',
      'initialized',
      'starting',
      'running',
      'stopping',
      'stopped',
    ] as const)
      core.transition(state);
    await writeFiles(root, {
      'var/state/module-runtime.json': JSON.stringify({ ...registry.snapshot(), pid: deadPid() }),
    });
    const output = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    expect(output.modules.find((m) => m.name === 'core')!.runtime).toMatchObject({
      state: 'stopped',
      live: false,
    });
  });

  it('has typed JSON output', () => {
    expectTypeOf<ModuleListEntry['health']>().toEqualTypeOf<'ok' | 'problems'>();
    expectTypeOf<ModuleListEntry['pending']>().toEqualTypeOf<
      'install' | 'upgrade' | 'downgrade' | undefined
    >();
    expectTypeOf<ModuleListOutput['runtime']>().toEqualTypeOf<{
      file: string;
      pid: number;
      writtenAt: number;
      live: boolean;
    } | null>();
  });

  it('ignores a corrupt runtime snapshot with a warning', async () => {
    const root = await app({ 'var/state/module-runtime.json': '{"version": 7}' });
    const result = await runKeel(root, 'module:list', '--json');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('runtime snapshot ignored');
    expect(result.stderr).toContain('unsupported "version" 7');
    expect(result.json<ModuleListOutput>().runtime).toBeNull();
  });

  it('still lists the modules when a missing dependency stops the application from loading', async () => {
    const root = await app({
      'modules/audit/module.ts': `export default { name: 'audit', version: '1.0.0', dependsOn: { biling: '^2.0.0' } };\n`,
    });
    const result = await runKeel(root, 'module:list', '--json');
    expect(result.code).toBe(0);
    const output = result.json<ModuleListOutput>();
    expect(output.appError?.code).toBe('E_MODULE_DEPENDENCY_MISSING');
    const audit = output.modules.find((m) => m.name === 'audit')!;
    expect(audit.health).toBe('problems');
    expect(audit.problems[0]).toMatchObject({ code: 'E_MODULE_DEPENDENCY_MISSING' });
    expect(audit.problems[0]!.message).toContain('Did you mean "billing"?');
    expect(output.modules.find((m) => m.name === 'core')!.health).toBe('ok');

    const table = await runKeel(root, 'module:list');
    expect(table.stdout).toMatch(/audit\s+.*E_MODULE_DEPENDENCY_MISSING/);
    expect(table.stderr).toContain('the application cannot load: E_MODULE_DEPENDENCY_MISSING');
  });

  it('flags a disabled module whose dependency is missing, before anyone enables it', async () => {
    const root = await app({
      'modules/audit/module.ts': `export default { name: 'audit', version: '1.0.0', dependsOn: { ghost: '^1.0.0' } };\n`,
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: { audit: { enabled: false } },
      }),
    });
    const output = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    expect(output.appError).toBeUndefined();
    const audit = output.modules.find((m) => m.name === 'audit')!;
    expect(audit).toMatchObject({ enabled: false, health: 'problems' });
    expect(audit.problems.map((p) => p.code)).toEqual(['E_MODULE_DEPENDENCY_MISSING']);
  });

  it('reports a dependency on a disabled module and a cycle', async () => {
    const root = await app({
      'modules/a/module.ts': `export default { name: 'a', version: '1.0.0', dependsOn: { b: '*' } };\n`,
      'modules/b/module.ts': `export default { name: 'b', version: '1.0.0', dependsOn: { a: '*' } };\n`,
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: { core: { enabled: false } },
      }),
    });
    const output = (await runKeel(root, 'module:list', '--json')).json<ModuleListOutput>();
    const codes = (name: string) =>
      output.modules.find((m) => m.name === name)!.problems.map((p) => p.code);
    expect(codes('a')).toEqual(['E_MODULE_CYCLE']);
    expect(codes('b')).toEqual(['E_MODULE_CYCLE']);
    expect(codes('billing')).toEqual(['E_MODULE_DEPENDENCY_DISABLED']);
    expect(codes('core')).toEqual([]);
  });

  it('fails with E_MODULE_STATE_CORRUPT and its help when the state file is corrupt', async () => {
    const root = await app({ 'var/state/modules.json': '{ not json' });
    const result = await runKeel(root, 'module:list');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_MODULE_STATE_CORRUPT');
    // The runner prints the help line as ordinary output.
    expect(result.stdout).toContain('help: Fix the file by hand');
  });

  it('fails outside an application', async () => {
    const root = await app();
    await writeFile(join(root, 'keel.config.ts'), 'export default 42;\n');
    const result = await runKeel(root, 'module:list');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_INVALID_APP_CONFIG');
    expect(await readFile(join(root, 'package.json'), 'utf8')).toContain('module');
  });
});

describe('formatDuration', () => {
  it('prints the two largest units', () => {
    expect(formatDuration(0)).toBe('-');
    expect(formatDuration(450)).toBe('450ms');
    expect(formatDuration(12_000)).toBe('12s');
    expect(formatDuration(250_000)).toBe('4m 10s');
    expect(formatDuration(3_600_000 * 2 + 60_000 * 5)).toBe('2h 5m');
    expect(formatDuration(86_400_000 * 3 + 3_600_000 * 4 + 1000)).toBe('3d 4h');
    expect(formatDuration(86_400_000)).toBe('1d');
  });
});
