import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModuleRuntimeRegistry } from '../module-runtime-registry.js';
import {
  ENV_KEYS,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
  writeFiles,
} from './__fixtures__/cli-fixture.js';
import type { ModuleInfoOutput } from './module-info-command.js';

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

async function info(root: string, name: string): Promise<ModuleInfoOutput> {
  const result = await runKeel(root, 'module:info', name, '--json');
  expect(result.code).toBe(0);
  return result.json<ModuleInfoOutput>();
}

describe('module:info', () => {
  it('shows the manifest, state, providers, commands, listeners and config of a loaded module', async () => {
    const root = await app({
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: {
          core: {
            enabled: true,
            installedVersion: '0.9.0',
            installedAt: '2025-01-01T00:00:00.000Z',
          },
        },
      }),
    });
    const core = await info(root, 'core');
    expect(core).toMatchObject({
      name: 'core',
      version: '1.0.0',
      description: 'Shared services',
      dependsOn: {},
      dependents: ['billing'],
      folders: { dir: 'modules/core', file: 'modules/core/module.ts', migrations: 'migrations' },
      hooks: ['onInstall', 'onEnable', 'onDisable'],
      enabled: true,
      loaded: true,
      state: { enabled: true, installedVersion: '0.9.0', installedAt: '2025-01-01T00:00:00.000Z' },
      runtime: { state: 'not running', uptime: 0, restartCount: 0, errorCount: 0, history: [] },
      problems: [],
      providers: [{ name: 'CoreProvider', deferred: false, state: 'booted' }],
      commands: [{ name: 'core:hello', description: 'Say hello', aliases: ['hi'] }],
      listeners: [{ event: 'core.ping', name: 'answer-ping', priority: 5, once: false }],
      warnings: [],
    });
    // Secret-looking keys are redacted, and each key names the layer it comes from.
    expect(core.config).toEqual([
      { key: 'apiToken', value: '[redacted]', source: 'module:core', sources: ['module:core'] },
      { key: 'currency', value: 'EUR', source: 'module:core', sources: ['module:core'] },
    ]);
  });

  it('names the layer that wins for each config key', async () => {
    const root = await app();
    const billing = await info(root, 'billing');
    expect(billing.config).toEqual([
      { key: 'currency', value: 'EUR', source: 'module:billing', sources: ['module:billing'] },
      { key: 'perPage', value: 50, source: 'app', sources: ['module:billing', 'app'] },
    ]);
    expect(billing.listeners).toEqual([
      { event: 'billing.paid', name: 'billing.paid', priority: 0, once: false },
    ]);
    expect(billing.dependents).toEqual(['reports']);
    expect(billing.state).toBeNull();
  });

  it('shows the runtime history, restarts and last error a running application recorded', async () => {
    const root = await app();
    let clock = Date.UTC(2025, 0, 1);
    const registry = new ModuleRuntimeRegistry({ now: () => clock });
    const core = registry.register('core');
    for (const state of [
      'initializing',
      'initialized',
      'starting',
      'running',
      'stopping',
      'stopped',
      'starting',
    ] as const) {
      clock += 1000;
      core.transition(state, state === 'stopping' ? 'reload' : undefined);
    }
    core.fail(Object.assign(new Error('redis went away'), { name: 'RedisError' }));
    await writeFiles(root, {
      'var/state/module-runtime.json': JSON.stringify({ ...registry.snapshot(), pid: process.pid }),
    });
    const result = await info(root, 'core');
    expect(result.runtime).toMatchObject({
      state: 'failed',
      live: true,
      restartCount: 1,
      errorCount: 1,
      lastError: { message: 'redis went away', name: 'RedisError' },
    });
    expect(result.runtime.history.map((t) => t.to)).toEqual([
      'initializing',
      'initialized',
      'starting',
      'running',
      'stopping',
      'stopped',
      'starting',
      'failed',
    ]);

    const text = await runKeel(root, 'module:info', 'core');
    expect(text.stdout).toContain('runtime: failed, uptime -, restarts 1, errors 1');
    expect(text.stdout).toContain('last error: redis went away');
    expect(text.stdout).toMatch(
      /Runtime history\n.*\n.*\n2025-01-01T00:00:01\.000Z\s+uninitialized\s+initializing/,
    );
    expect(text.stdout).toMatch(/stopping\s+reload/);
  });

  it('reads a disabled module from its manifest', async () => {
    const root = await app({
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: { core: { enabled: false } },
      }),
      // Core is off, so billing and reports would not load: disable them too.
      'modules/billing/module.ts': `export default { name: 'billing', version: '2.0.0' };\n`,
    });
    const core = await info(root, 'core');
    expect(core).toMatchObject({
      enabled: false,
      loaded: false,
      dependents: [],
      providers: [{ name: 'CoreProvider', deferred: false, state: 'not loaded' }],
      commands: [{ name: 'core:hello' }],
      listeners: [{ event: 'core.ping', name: 'answer-ping', priority: 5 }],
      warnings: ['the module is disabled: showing what its manifest declares'],
    });
    expect(core.config.map((c) => [c.key, c.value, c.source])).toEqual([
      ['apiToken', 'env(CORE_API_TOKEN)', 'module:core'],
      ['currency', 'EUR', 'module:core'],
    ]);
  });

  it('answers from the manifest when the application cannot load, and lists the problem', async () => {
    const root = await app({
      'modules/audit/module.ts': `export default {
  name: 'audit',
  version: '1.0.0',
  dependsOn: { ghost: '^1.0.0' },
  events: (app) => ({ kind: 'keel.listeners', entries: [] }),
};\n`,
    });
    const audit = await info(root, 'audit');
    expect(audit.loaded).toBe(false);
    expect(audit.problems.map((p) => p.code)).toEqual(['E_MODULE_DEPENDENCY_MISSING']);
    expect(audit.warnings[0]).toMatch(
      /^the application cannot load \(Module "audit" depends on "ghost"/,
    );
    expect(audit.warnings[1]).toBe(
      'listeners unknown: events.ts exports a function of the application',
    );
  });

  it('still answers when the application fails to boot', async () => {
    const root = await app({
      'modules/core/core-provider.ts': `import { ServiceProvider } from 'keel';
export class CoreProvider extends ServiceProvider {
  async boot() { throw new Error('database down'); }
}
`,
    });
    const core = await info(root, 'core');
    expect(core.loaded).toBe(true);
    expect(core.listeners).toEqual([]);
    expect(core.warnings[0]).toMatch(
      /^listeners unknown: the application failed to boot \(.*database down/,
    );
    expect(core.providers[0]).toMatchObject({ name: 'CoreProvider', state: 'failed' });
  });

  it('prints every section as text', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:info', 'core');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('core 1.0.0 — Shared services');
    expect(out).toContain('enabled: yes, never installed (run `keel setup:update`)');
    expect(out).toContain('folder: modules/core (migrations: migrations, seeders: -, views: -)');
    expect(out).toContain('depends on: -; dependents: billing');
    expect(out).toContain('hooks: onInstall, onEnable, onDisable');
    for (const section of ['Providers', 'Commands', 'Listeners', 'Config'])
      expect(out).toContain(`\n${section}\n`);
    expect(out).toMatch(/apiToken\s+\[redacted\]\s+module:core/);
    expect(out).not.toContain('not-for-output');
    expect(out).toMatch(/core:hello\s+hi\s+Say hello/);
  });

  it('answers an unknown module with E_MODULE_NOT_FOUND and a suggestion', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:info', 'repots');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'E_MODULE_NOT_FOUND: Unknown module "repots". Did you mean "reports"?',
    );
  });
});
