import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Container } from '../../container/index.js';
import {
  ENV_KEYS,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
  writeFiles,
} from '../../modules/commands/__fixtures__/cli-fixture.js';
import {
  addSetupUpdateStep,
  gitHash,
  type SetupUpdateStep,
  type SetupUpdateSummary,
  setupUpdateSteps,
  setupUpdateStepsFor,
} from './setup-update-command.js';

const apps: string[] = [];
async function app(overrides: Record<string, string> = {}): Promise<string> {
  const root = await makeFixtureApp(overrides);
  apps.push(root);
  return root;
}

beforeEach(() => {
  for (const key of ENV_KEYS) vi.stubEnv(key, undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(apps.splice(0).map(removeFixtureApp));
});

const ARTIFACTS = ['modules.json', 'config.json', 'events.json', 'container.json'];

async function modulesState(root: string): Promise<Record<string, { installedVersion?: string }>> {
  return JSON.parse(await readFile(join(root, 'var/state/modules.json'), 'utf8')).modules;
}

async function hookLog(root: string): Promise<string> {
  const file = join(root, 'hooks.log');
  return existsSync(file) ? readFile(file, 'utf8') : '';
}

describe('setup:update', () => {
  it('creates var folders, installs modules with their hooks and compiles', async () => {
    const root = await app();
    const result = await runKeel(root, 'setup:update', '--json');
    expect(result.code).toBe(0);
    const summary = result.json<SetupUpdateSummary>();
    expect(summary).toMatchObject({
      app: 'Fixture',
      env: 'development',
      version: '1.2.3',
      git: 'n/a',
      dryRun: false,
      warnings: [],
    });
    expect(summary.steps).toEqual([
      { name: 'var-folders', status: 'done', detail: '7 created' },
      { name: 'modules', status: 'done', detail: '3 installed, 2 hooks run' },
      { name: 'clear-cache', status: 'done', detail: 'nothing to clear' },
      {
        name: 'compile',
        status: 'done',
        detail: expect.stringMatching(/^\d+ of \d+ artifacts written/),
      },
    ]);
    expect((await stat(join(root, 'var/state'))).mode & 0o777).toBe(0o700);
    expect(await modulesState(root)).toMatchObject({
      core: { installedVersion: '1.0.0' },
      billing: { installedVersion: '2.0.0' },
      reports: { installedVersion: '0.1.0' },
    });
    // Install hooks run in dependency order, on a booted application.
    expect(await hookLog(root)).toBe('onInstall core booted\nonInstall billing booted\n');
    for (const name of ARTIFACTS) expect(existsSync(join(root, 'var/cache', name))).toBe(true);

    const health = await runKeel(root, 'health:check', '--json');
    expect(
      health
        .json<{ checks: Array<{ name: string; status: string }> }>()
        .checks.filter((c) => c.status !== 'ok'),
    ).toEqual([]);
  });

  it('is idempotent', async () => {
    const root = await app();
    expect((await runKeel(root, 'setup:update')).code).toBe(0);
    const again = await runKeel(root, 'setup:update', '--json');
    expect(
      again
        .json<SetupUpdateSummary>()
        .steps.map((s) => s.detail)
        .slice(0, 3),
    ).toEqual([
      'all present',
      'up to date',
      // Providers may add artifacts of their own (routes.json, ...).
      expect.stringMatching(/^removed config\.json, container\.json, events\.json, modules\.json/),
    ]);
    expect(await hookLog(root)).toBe('onInstall core booted\nonInstall billing booted\n');
  });

  it('runs onUpgrade from the recorded version and records the new one', async () => {
    const installed = { enabled: true, installedVersion: '1.0.0' };
    const root = await app({
      'modules/billing/module.ts': `export default { name: 'billing', version: '2.1.0', dependsOn: { core: '^1.0.0' },
  hooks: { onUpgrade({ module }, from) { process.env.KEEL_TEST_UPGRADE = from + ' -> ' + module.version; } } };\n`,
      'var/state/modules.json': JSON.stringify({
        version: 1,
        modules: {
          core: installed,
          billing: { enabled: true, installedVersion: '2.0.0' },
          reports: { enabled: true, installedVersion: '0.1.0' },
        },
      }),
    });
    vi.stubEnv('KEEL_TEST_UPGRADE', undefined);
    const upgrade = await runKeel(root, 'setup:update', '--skip-compile');
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain('upgrade billing 2.0.0 → 2.1.0 (onUpgrade)');
    expect(upgrade.stdout).toContain('1 upgraded, 1 hook run');
    expect(process.env.KEEL_TEST_UPGRADE).toBe('2.0.0 -> 2.1.0');
    expect((await modulesState(root)).billing?.installedVersion).toBe('2.1.0');
  });

  it('--dry-run prints every step it would run and changes nothing', async () => {
    const root = await app();
    const envBefore = await readFile(join(root, '.env'), 'utf8');
    const result = await runKeel(root, 's:up', '--dry-run', '--env', 'prod');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('env: would set APP_ENV=production in .env');
    expect(out).toContain('would create var/state');
    expect(out).toContain('would install core 1.0.0 (onInstall)');
    expect(out).toContain('would install reports 0.1.0');
    expect(out).toContain('3 to install, 2 hooks to run');
    expect(out).toContain(
      'would write modules.json, config.json, events.json, container.json and the artifacts providers add',
    );
    expect(out).toContain('(dry run: nothing changed)');
    expect(out).toMatch(/env\s+production/);
    expect(existsSync(join(root, 'var'))).toBe(false);
    expect(await readFile(join(root, '.env'), 'utf8')).toBe(envBefore);
    expect(await hookLog(root)).toBe('');
  });

  it('--dry-run lists the artifacts it would clear', async () => {
    const root = await app();
    await runKeel(root, 'setup:update', '--skip-hooks');
    const result = await runKeel(root, 'setup:update', '--dry-run', '--json');
    const steps = result.json<SetupUpdateSummary>().steps;
    expect(steps.every((s) => s.status === 'planned')).toBe(true);
    expect(steps.find((s) => s.name === 'clear-cache')?.detail).toMatch(
      /^would remove config\.json, container\.json, events\.json, modules\.json/,
    );
    expect(steps.find((s) => s.name === 'var-folders')?.detail).toBe('all present');
  });

  it('--env switches APP_ENV in .env, normalising the name, and warns about debug in production', async () => {
    const root = await app({
      '.env': `# deployment\nAPP_ENV=dev\nAPP_DEBUG=true\nAPP_KEY=${'base64:'}${Buffer.alloc(32, 1).toString('base64')}\n`,
    });
    const result = await runKeel(root, 'setup:update', '--env', 'PROD', '--skip-compile', '--json');
    expect(result.code).toBe(0);
    const env = await readFile(join(root, '.env'), 'utf8');
    expect(env).toMatch(/^# deployment\nAPP_ENV=production\nAPP_DEBUG=true\n/);
    const summary = result.json<SetupUpdateSummary>();
    expect(summary.env).toBe('production');
    expect(summary.steps[0]).toEqual({ name: 'env', status: 'done', detail: 'APP_ENV=production' });
    expect(summary.warnings).toEqual([
      'APP_DEBUG is on in production: error pages and logs may expose internals',
    ]);
    expect(result.stderr).toContain('APP_DEBUG is on in production');

    const stage = await runKeel(root, 'setup:update', '--env', 'stage', '--skip-compile');
    expect(stage.code).toBe(0);
    expect(await readFile(join(root, '.env'), 'utf8')).toContain('APP_ENV=staging\n');
    const same = await runKeel(root, 'setup:update', '--env', 'staging', '--skip-compile');
    expect(same.stdout).toContain('APP_ENV is already staging in .env');
  });

  it('creates .env when there is none, readable by the owner only', async () => {
    const root = await app();
    const { rm } = await import('node:fs/promises');
    await rm(join(root, '.env'));
    const result = await runKeel(root, 'setup:update', '--env', 'test', '--skip-compile');
    expect(result.code).toBe(0);
    expect(await readFile(join(root, '.env'), 'utf8')).toBe('APP_ENV=test\n');
    expect((await stat(join(root, '.env'))).mode & 0o777).toBe(0o600);
  });

  it('warns when the process environment or .env.local hides the switch', async () => {
    const root = await app({ '.env.local': 'APP_ENV=development\n' });
    vi.stubEnv('APP_ENV', 'staging');
    const result = await runKeel(root, 'setup:update', '--env', 'test', '--skip-compile', '--json');
    expect(result.code).toBe(0);
    expect(result.json<SetupUpdateSummary>()).toMatchObject({
      env: 'staging',
      warnings: [
        'APP_ENV=staging in the process environment overrides .env',
        'APP_ENV=development in .env.local overrides .env',
      ],
    });
  });

  it('refuses an unknown environment with E_APP_ENV_INVALID and a suggestion', async () => {
    const root = await app();
    const result = await runKeel(root, 'setup:update', '--env', 'prdo');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_APP_ENV_INVALID: Unknown APP_ENV "prdo"');
    expect(result.stderr).toContain('did you mean "prod"?');
    expect(existsSync(join(root, 'var'))).toBe(false);
  });

  it('--skip-hooks records versions without running hooks; --skip-cache and --skip-compile keep var/cache as is', async () => {
    const root = await app();
    const result = await runKeel(root, 'setup:update', '--skip-hooks', '--skip-compile', '--json');
    expect(result.json<SetupUpdateSummary>().steps.slice(1)).toEqual([
      { name: 'modules', status: 'done', detail: '3 installed, hooks skipped' },
      { name: 'clear-cache', status: 'done', detail: 'nothing to clear' },
      { name: 'compile', status: 'skipped', detail: '--skip-compile' },
    ]);
    expect(await hookLog(root)).toBe('');
    expect((await modulesState(root)).core?.installedVersion).toBe('1.0.0');
    expect(existsSync(join(root, 'var/cache/modules.json'))).toBe(false);

    await writeFiles(root, { 'var/cache/modules.json': '{"sources":"old"}' });
    const kept = await runKeel(root, 'setup:update', '--skip-cache', '--skip-compile');
    expect(kept.stdout).toContain('clear-cache: skipped (--skip-cache)');
    expect(await readFile(join(root, 'var/cache/modules.json'), 'utf8')).toBe('{"sources":"old"}');
  });

  it('stops at a failing hook with its code, exit 1, keeping what was done', async () => {
    const root = await app({
      'modules/billing/hooks.ts': `export default { onInstall() { throw new Error('ledger locked'); } };\n`,
    });
    const result = await runKeel(root, 'setup:update');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'E_MODULE_HOOK_FAILED: Hook onInstall of module "billing" failed: ledger locked',
    );
    const state = await modulesState(root);
    expect(state.core?.installedVersion).toBe('1.0.0');
    expect(state.billing?.installedVersion).toBeUndefined();
    expect(existsSync(join(root, 'var/cache/modules.json'))).toBe(false);
  });

  it('fails when the application cannot be created', async () => {
    const root = await app({ '.env': 'APP_ENV=production\n' });
    const result = await runKeel(root, 'setup:update');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_ENV_INVALID');
    expect(result.stderr).toContain('APP_KEY: required when APP_ENV is production');
  });

  it('prints the summary as text', async () => {
    const root = await app();
    const result = await runKeel(root, 'setup:update', '--skip-compile');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ Fixture is up to date');
    expect(result.stdout).toMatch(/app\s+Fixture 1\.2\.3/);
    expect(result.stdout).toMatch(/git\s+n\/a/);
    expect(result.stdout).toContain(
      'steps    var-folders (done), modules (done), clear-cache (done), compile (skipped)',
    );
  });

  it('reports the git commit of a repository', async () => {
    const root = await app();
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=keel', '-c', 'user.email=keel@example.com', ...args], {
        cwd: root,
        stdio: 'pipe',
      });
    git('init', '-q');
    git('commit', '-q', '--allow-empty', '-m', 'first');
    const expected = git('rev-parse', '--short', 'HEAD').toString().trim();
    expect(await gitHash(root)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{7,}$/);
    expect(await gitHash(join(root, 'no-such-dir'))).toBe('n/a');
  });

  it('keeps a named, ordered step list that later subsystems extend', () => {
    expect(setupUpdateSteps.map((s) => s.name)).toEqual([
      'var-folders',
      'modules',
      'clear-cache',
      'compile',
    ]);
    for (const step of setupUpdateSteps) expect(step.description).not.toBe('');
  });

  it('places the steps providers add before the step they name, or at the end', () => {
    const container = new Container();
    expect(setupUpdateStepsFor(container)).toEqual(setupUpdateSteps);
    const make = (name: string, before?: string): SetupUpdateStep => ({
      name,
      description: name,
      ...(before ? { before } : {}),
      run: async () => name,
      plan: async () => name,
    });
    addSetupUpdateStep(container, make('migrate', 'modules'));
    addSetupUpdateStep(container, make('warm-up'));
    addSetupUpdateStep(container, make('reindex', 'no-such-step'));
    // Adding a step again replaces it.
    addSetupUpdateStep(container, make('migrate', 'modules'));
    expect(setupUpdateStepsFor(container).map((s) => s.name)).toEqual([
      'var-folders',
      'migrate',
      'modules',
      'clear-cache',
      'compile',
      'warm-up',
      'reindex',
    ]);
  });

  it('runs, plans, skips or leaves out the step a module provider adds', async () => {
    const root = await app({
      'modules/core/core-provider.ts': `import { ServiceProvider } from 'keel';
import { addSetupUpdateStep } from 'keel/kernel/commands';

export class CoreProvider extends ServiceProvider {
  register() {
    addSetupUpdateStep(this.app.container, {
      name: 'warm-up',
      description: 'warm the caches',
      before: 'compile',
      skip: ({ options }) => (options.skipDb ? '--skip-db' : undefined),
      applies: () => process.env.KEEL_TEST_WARM !== 'off',
      run: async ({ options }) => (options.backup ? 'warmed' : 'warmed without backup'),
      plan: async () => 'would warm',
    });
  }
}
`,
    });
    const names = (summary: SetupUpdateSummary) =>
      summary.steps.map((s) => `${s.name}:${s.status}:${s.detail}`);
    const run = await runKeel(root, 'setup:update', '--skip-compile', '--no-backup', '--json');
    expect(names(run.json<SetupUpdateSummary>()).slice(3)).toEqual([
      'warm-up:done:warmed without backup',
      'compile:skipped:--skip-compile',
    ]);
    const plan = await runKeel(root, 'setup:update', '--dry-run', '--json');
    expect(names(plan.json<SetupUpdateSummary>())).toContain('warm-up:planned:would warm');
    const skipped = await runKeel(root, 'setup:update', '--skip-db', '--skip-compile', '--json');
    expect(names(skipped.json<SetupUpdateSummary>())).toContain('warm-up:skipped:--skip-db');
    vi.stubEnv('KEEL_TEST_WARM', 'off');
    const out = await runKeel(root, 'setup:update', '--skip-compile', '--json');
    expect(out.json<SetupUpdateSummary>().steps.map((s) => s.name)).not.toContain('warm-up');
  });
});
