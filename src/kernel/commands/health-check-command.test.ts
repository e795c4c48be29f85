import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ENV_KEYS,
  FIXTURE_APP_KEY,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
  writeFiles,
} from '../../modules/commands/__fixtures__/cli-fixture.js';
import { type HealthReport, type HealthStatus, runHealthChecks } from './health-check-command.js';

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

async function health(
  root: string,
  ...argv: string[]
): Promise<{ code: number; report: HealthReport }> {
  const result = await runKeel(root, 'health:check', '--json', ...argv);
  return { code: result.code, report: result.json<HealthReport>() };
}

function statuses(report: HealthReport): Record<string, HealthStatus> {
  return Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
}

function check(report: HealthReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}

const PRODUCTION_ENV = `APP_ENV=production\nAPP_DEBUG=false\nAPP_KEY=${FIXTURE_APP_KEY}\n`;

describe('health:check', () => {
  it('passes a fresh development checkout with warnings for what setup would do', async () => {
    const root = await app();
    const { code, report } = await health(root);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.env).toBe('development');
    expect(statuses(report)).toEqual({
      app: 'ok',
      env: 'ok',
      'app-key': 'ok',
      'var-folders': 'warn',
      compiled: 'ok',
      modules: 'warn',
      boot: 'ok',
      // Checks subsystems register once booted: the default SQLite connection answers,
      // and the health provider's own (disk, memory, queue backlog, migrations).
      'db:default': 'ok',
      disk: 'ok',
      memory: 'ok',
      queue: 'ok',
      migrations: 'ok',
    });
    expect(check(report, 'db:default').message).toMatch(/^sqlite answered in [\d.]+ ms/);
    expect(check(report, 'app').message).toBe('keel.config.ts defines "Fixture"');
    expect(check(report, 'compiled').message).toBe('not compiled: boot scans the sources');
    expect(check(report, 'modules').details).toContain(
      '"core" was never set up (run `keel setup:update`)',
    );
    expect(check(report, 'boot').message).toMatch(/^booted 3 module\(s\)/);
    expect(report.summary).toEqual({ ok: 10, warn: 2, fail: 0 });
    // Registered checks carry their latency and structured details in --json.
    expect(check(report, 'disk')).toMatchObject({
      latencyMs: expect.any(Number),
      data: { freeBytes: expect.any(Number), totalBytes: expect.any(Number) },
    });
  });

  it('is all green after setup:update, in production too', async () => {
    const root = await app({ '.env': PRODUCTION_ENV });
    expect((await runKeel(root, 'setup:update')).code).toBe(0);
    const { code, report } = await health(root);
    expect(code).toBe(0);
    expect(report.summary).toEqual({ ok: 12, warn: 0, fail: 0 });
    expect(check(report, 'boot').message).toContain('compiled: fresh artifacts');
  });

  it('reports every invalid env key and fails, exit 1', async () => {
    const root = await app({
      '.env': `PORT=http\nLOG_LEVEL=loud\nAPP_DEBUG=maybe\nAPP_KEY=${FIXTURE_APP_KEY}\n`,
    });
    const { code, report } = await health(root);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const env = check(report, 'env');
    expect(env.status).toBe('fail');
    expect(env.message).toBe('3 invalid variables: APP_DEBUG, PORT, LOG_LEVEL');
    expect(env.details).toEqual([
      'APP_DEBUG: expected true/false, 1/0, yes/no or on/off',
      'PORT: expected a port number from 0 to 65535',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    ]);
    // The application cannot boot either: reported, not thrown.
    expect(check(report, 'boot')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^E_ENV_INVALID/),
    });
  });

  it('validates the variables keel.config.ts adds', async () => {
    const root = await app({
      'keel.config.ts': `import { z } from 'zod';\nexport default { name: 'Fixture', env: { MAIL_FROM: z.email() } };\n`,
      '.env': `APP_KEY=${FIXTURE_APP_KEY}\nMAIL_FROM=nobody\n`,
    });
    const { report } = await health(root);
    expect(check(report, 'env')).toMatchObject({
      status: 'fail',
      details: [expect.stringMatching(/^MAIL_FROM: /)],
    });
  });

  it('fails on a malformed .env with its line number', async () => {
    const root = await app({ '.env': 'APP_NAME="never closed\n' });
    const { code, report } = await health(root);
    expect(code).toBe(1);
    expect(check(report, 'env')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('Cannot parse'),
    });
    expect(check(report, 'env').details?.[0]).toMatch(/^line 1: /);
  });

  it('requires a valid APP_KEY in production and staging, and only warns without one in development', async () => {
    const root = await app({ '.env': 'APP_ENV=staging\n' });
    let { report } = await health(root);
    expect(check(report, 'app-key')).toEqual({
      name: 'app-key',
      status: 'fail',
      message: 'APP_KEY is not set; it is required in staging',
    });

    await writeFiles(root, { '.env': 'APP_ENV=prod\nAPP_KEY=base64:c2hvcnQ=\n' });
    ({ report } = await health(root));
    expect(report.env).toBe('production');
    expect(check(report, 'app-key')).toMatchObject({
      status: 'fail',
      message: 'E_APP_KEY_INVALID: Invalid APP_KEY: it decodes to 5 bytes; 32 are required',
    });
    // The key never appears in the report.
    expect(JSON.stringify(report)).not.toContain('c2hvcnQ');

    await writeFiles(root, { '.env': 'APP_ENV=development\n' });
    ({ report } = await health(root));
    expect(check(report, 'app-key').status).toBe('warn');
  });

  it('checks the var folders: missing fails in production, wrong modes warn, a file in the way fails', async () => {
    const root = await app({ '.env': PRODUCTION_ENV });
    let { report } = await health(root);
    expect(check(report, 'var-folders')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^missing: var, var\/cache/),
    });

    await runKeel(root, 'setup:permissions');
    await chmod(join(root, 'var/state'), 0o755);
    ({ report } = await health(root));
    expect(check(report, 'var-folders')).toMatchObject({
      status: 'warn',
      details: ['var/state has mode 755, expected 700'],
    });

    await rm(join(root, 'var/tmp'), { recursive: true });
    await writeFile(join(root, 'var/tmp'), '');
    ({ report } = await health(root));
    expect(check(report, 'var-folders')).toMatchObject({
      status: 'fail',
      details: expect.arrayContaining(['var/tmp is not a folder']),
    });
  });

  it('fails on stale compiled caches in production and warns in development', async () => {
    const root = await app({ '.env': PRODUCTION_ENV });
    expect((await runKeel(root, 'setup:update')).code).toBe(0);
    await writeFiles(root, { 'config/billing.ts': 'export default { perPage: 75 };\n' });
    let result = await health(root);
    expect(result.code).toBe(1);
    expect(check(result.report, 'compiled')).toMatchObject({
      status: 'fail',
      message: 'stale: sources changed since `keel compile` (run it again)',
      details: expect.arrayContaining(ARTIFACT_LINES('stale')),
    });
    expect(check(result.report, 'boot')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^E_COMPILED_STALE/),
    });

    await writeFiles(root, { '.env': `APP_KEY=${FIXTURE_APP_KEY}\n` });
    result = await health(root);
    expect(result.code).toBe(0);
    expect(statuses(result.report)).toMatchObject({ compiled: 'warn', boot: 'ok' });
  });

  it('fails in production without compiled artifacts, and flags an incomplete set', async () => {
    const root = await app({ '.env': PRODUCTION_ENV });
    const { report } = await health(root);
    expect(check(report, 'compiled')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('production boot requires them'),
    });

    await runKeel(root, 'setup:update');
    await rm(join(root, 'var/cache/events.json'));
    const partial = await health(root);
    expect(check(partial.report, 'compiled')).toMatchObject({
      status: 'fail',
      details: ['var/cache/events.json is missing'],
    });
  });

  it('fails on a corrupt artifact and a compiled module file that is gone', async () => {
    const root = await app();
    await runKeel(root, 'setup:update', '--skip-hooks');
    await writeFiles(root, { 'var/cache/config.json': '{ broken' });
    let { report } = await health(root);
    expect(check(report, 'compiled')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^E_COMPILED_CORRUPT/),
    });

    await runKeel(root, 'compile');
    await rm(join(root, 'modules/reports'), { recursive: true });
    ({ report } = await health(root));
    expect(check(report, 'modules')).toMatchObject({
      status: 'fail',
      details: expect.arrayContaining([
        'var/cache/modules.json lists modules/reports/module.ts, which does not exist',
        '"reports" is enabled in var/state/modules.json but not found on disk',
      ]),
    });
  });

  it('fails on a corrupt state file without crashing', async () => {
    const root = await app({
      'var/state/modules.json': '{"version":1,"modules":{"core":{"enabled":"yes"}}}',
    });
    const { code, report } = await health(root);
    expect(code).toBe(1);
    expect(check(report, 'modules')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        /^E_MODULE_STATE_CORRUPT: .*"modules.core.enabled" is not a boolean/,
      ),
    });
    expect(check(report, 'boot').status).toBe('fail');
  });

  it('fails on dependency problems in the module graph', async () => {
    const root = await app({
      'modules/audit/module.ts': `export default { name: 'audit', version: '1.0.0', dependsOn: { core: '^2.0.0', ghost: '*' } };\n`,
    });
    const { code, report } = await health(root);
    expect(code).toBe(1);
    const modules = check(report, 'modules');
    expect(modules.status).toBe('fail');
    expect(modules.message).toBe('2 problem(s) in the module graph');
    expect(modules.details?.slice(0, 2)).toEqual([
      'Module "audit" requires "core" ^2.0.0, but version 1.0.0 is installed',
      'Module "audit" depends on "ghost" (*), which is not installed',
    ]);
  });

  it('fails on a module file that does not load', async () => {
    const root = await app({ 'modules/broken/module.ts': 'export default { name: "Broken" };\n' });
    const { report } = await health(root);
    expect(check(report, 'modules')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^E_INVALID_MODULE_MANIFEST/),
    });
  });

  it('reports an application that cannot be defined, and skips the boot', async () => {
    const root = await app({ 'keel.config.ts': 'export default { name: "" };\n' });
    const { code, report } = await health(root);
    expect(code).toBe(1);
    expect(check(report, 'app')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^E_INVALID_APP_CONFIG/),
    });
    expect(report.checks.some((c) => c.name === 'boot')).toBe(false);
  });

  it('reports a provider that fails to boot, with its cause', async () => {
    const root = await app({
      'modules/core/core-provider.ts': `import { ServiceProvider } from 'keel';
export class CoreProvider extends ServiceProvider {
  boot() { throw new Error('database down'); }
}
`,
    });
    const { report } = await health(root);
    expect(check(report, 'boot')).toMatchObject({
      status: 'fail',
      message:
        'E_APP_FAILED: Application failed during boot: Provider CoreProvider (module core) failed in boot()',
      details: [
        'cause: E_PROVIDER_FAILED: Provider CoreProvider (module core) failed in boot()',
        'cause: database down',
      ],
    });
  });

  it('prints one line per check and a summary, under its aliases', async () => {
    const root = await app({ '.env': 'APP_ENV=production\n' });
    for (const name of ['health:check', 'doctor', 'sys:check']) {
      const result = await runKeel(root, name);
      expect(result.code, name).toBe(1);
      expect(result.stdout).toMatch(/✔ ok {3}app {10}keel\.config\.ts defines "Fixture"/);
      expect(result.stdout).toMatch(
        /✖ fail app-key {6}APP_KEY is not set; it is required in production/,
      );
      expect(result.stdout).toMatch(/ {2}- var\/cache\/|missing: var/);
      expect(result.stderr).toMatch(/\d ok, \d warnings?, \d failures? \(APP_ENV=production\)/);
    }
  });

  it('can be run as a function with its own process environment', async () => {
    const root = await app({ '.env': '' });
    const report = await runHealthChecks(root, {
      processEnv: { APP_ENV: 'test', APP_KEY: FIXTURE_APP_KEY },
    });
    expect(report.env).toBe('test');
    expect(check(report, 'app-key').status).toBe('ok');
    await mkdir(join(root, 'var'), { recursive: true });
  });
});

describe('health:check with the registered checks', () => {
  const PROVIDER = (status: string) => `import { ServiceProvider } from 'keel';
export class CoreProvider extends ServiceProvider {
  boot() {
    this.app.health.register('core:ledger', () => ({
      status: '${status}',
      message: 'ledger ${status}',
      details: { entries: 3 },
    }));
  }
}
`;

  it("runs a module's own check: --json shows it, a failure exits 1 and a pass exits 0", async () => {
    const root = await app({ 'modules/core/core-provider.ts': PROVIDER('fail') });
    let { code, report } = await health(root);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(check(report, 'core:ledger')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^ledger fail \([\d.]+ ms\)$/),
      data: { entries: 3 },
    });

    // A new app: this process keeps the modules it imported.
    ({ code, report } = await health(
      await app({ 'modules/core/core-provider.ts': PROVIDER('warn') }),
    ));
    expect(code).toBe(0);
    expect(check(report, 'core:ledger').status).toBe('warn');
  });

  it('applies config/health.ts thresholds: a warning keeps exit 0, a failure exits 1', async () => {
    const root = await app({
      'config/health.ts': `export default { checks: { disk: { warn: '100%', fail: '0%' }, memory: { rss: { warn: '1kb' } } } };\n`,
    });
    let result = await health(root);
    expect(result.code).toBe(0);
    expect(statuses(result.report)).toMatchObject({ disk: 'warn', memory: 'warn' });

    const failing = await app({
      'config/health.ts': `export default { checks: { disk: { fail: '1024tb' } } };\n`,
    });
    result = await health(failing);
    expect(result.code).toBe(1);
    expect(check(result.report, 'disk').status).toBe('fail');
    const text = await runKeel(failing, 'doctor');
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/✖ fail disk +[\d.]+ \w+ free of/);
  });

  it('warns about a pending migration without failing', async () => {
    const root = await app({
      'modules/core/migrations/2026_01_01_000000_create_ledger.ts': `export default {
  async up(db) { await db.schema.createTable('ledger').addColumn('id', 'integer').execute(); },
};\n`,
    });
    const { code, report } = await health(root);
    expect(code).toBe(0);
    expect(check(report, 'migrations')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/^default: 1 pending \(run `keel migrate`\)/),
    });
  });
});

function ARTIFACT_LINES(kind: string): string[] {
  return ['modules.json', 'config.json', 'events.json', 'container.json'].map(
    (n) => `var/cache/${n} is ${kind}`,
  );
}
