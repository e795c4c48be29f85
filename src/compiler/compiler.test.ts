import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  APP_FILE,
  createFixtureApp,
  type FixtureApp,
  moduleFile,
} from '../../test/support/fixture-app.js';
import { Application } from '../kernel/index.js';
import { compileApp, planCompiledBoot, readArtifact } from './index.js';

const fixtures: FixtureApp[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function fixtureApp(extra: Record<string, string> = {}): Promise<FixtureApp> {
  const app = await createFixtureApp({
    'keel.config.ts': APP_FILE,
    'config/shop.ts': `import { defineConfig, env } from '{{keel}}';
export default defineConfig({ dbPassword: env('SHOP_DB_PASSWORD'), title: 'Shop', port: env.number('SHOP_PORT', 8080) });`,
    'modules/alpha/module.ts': moduleFile(`{
      name: 'alpha', version: '1.0.0', description: 'first',
      config: { size: 3 },
      providers: async () => [(await import('./provider.ts')).AlphaProvider],
      events: () => import('./events.ts'),
    }`),
    'modules/alpha/provider.ts': `import { ServiceProvider } from '{{keel}}';
export class AlphaProvider extends ServiceProvider {
  register() { this.app.container.singleton('alpha.service', () => ({ ok: true })); }
}`,
    'modules/alpha/events.ts': `import { defineListeners } from '{{keel}}';
export default defineListeners({ 'alpha.done': { name: 'alpha-log', priority: 5, handle() {} } });`,
    'modules/beta/module.ts': moduleFile(
      `{ name: 'beta', version: '2.1.0', dependsOn: { alpha: '^1.0.0' } }`,
    ),
    ...extra,
  });
  fixtures.push(app);
  return app;
}

async function bootedApp(
  root: string,
  options: Partial<Parameters<typeof Application.create>[0]> = {},
) {
  const app = await Application.create({
    root,
    environment: 'test',
    processEnv: { SHOP_DB_PASSWORD: 's3cr3t' },
    ...options,
  });
  await app.boot();
  return app;
}

describe('compileApp', () => {
  it('writes the four artifacts, byte-identical on a second run', async () => {
    const fixture = await fixtureApp();
    const app = await bootedApp(fixture.root);
    const first = await compileApp(app);
    expect(first.written).toEqual({
      'modules.json': true,
      'config.json': true,
      'events.json': true,
      'container.json': true,
    });
    const bytes = await readFile(join(fixture.root, 'var/cache/config.json'), 'utf8');
    const second = await compileApp(app);
    expect(Object.values(second.written)).toEqual([false, false, false, false]);
    expect(await readFile(join(fixture.root, 'var/cache/config.json'), 'utf8')).toBe(bytes);
    await app.shutdown();
  });

  it('records modules in load order with their folders, and keeps env references, never secrets', async () => {
    const fixture = await fixtureApp();
    const app = await bootedApp(fixture.root);
    await compileApp(app);
    const modules = await readArtifact(app.paths.cache, 'modules.json');
    expect(modules?.modules.map((m) => [m.name, m.version, m.dir, m.file])).toEqual([
      ['alpha', '1.0.0', 'modules/alpha', 'modules/alpha/module.ts'],
      ['beta', '2.1.0', 'modules/beta', 'modules/beta/module.ts'],
    ]);
    const config = await readArtifact(app.paths.cache, 'config.json');
    const text = JSON.stringify(config);
    expect(text).not.toContain('s3cr3t');
    expect(config?.config.shop).toMatchObject({
      dbPassword: { $env: 'SHOP_DB_PASSWORD' },
      title: 'Shop',
    });
    expect(config?.config.alpha).toEqual({ size: 3 });
    expect(config?.complete).toBe(true);
    const events = await readArtifact(app.paths.cache, 'events.json');
    expect(events?.events['alpha.done']).toEqual([
      { module: 'alpha', name: 'alpha-log', priority: 5, once: false },
    ]);
    const container = await readArtifact(app.paths.cache, 'container.json');
    expect(container?.bindings.map((b) => b.key)).toContain('alpha.service');
    expect(container?.providers).toEqual([
      { name: 'AlphaProvider', module: 'alpha', deferred: false },
    ]);
    await app.shutdown();
  });

  it('refuses a literal secret in config', async () => {
    const fixture = await fixtureApp({
      'config/mail.ts': `export default { password: 'hunter2' };`,
    });
    const app = await bootedApp(fixture.root);
    await expect(compileApp(app)).rejects.toMatchObject({ code: 'E_SECRET_IN_ARTIFACT' });
    await app.shutdown();
  });

  it('marks config with functions incomplete so boot loads the files', async () => {
    const fixture = await fixtureApp({
      'config/hooks.ts': `export default { transform: (x) => x };`,
    });
    const app = await bootedApp(fixture.root);
    const result = await compileApp(app);
    expect(result.configComplete).toBe(false);
    const plan = await planCompiledBoot(fixture.root, 'auto');
    expect(plan.mode).toBe('compiled');
    expect(plan.options.appConfig).toBeUndefined();
    await app.shutdown();
  });
});

describe('planCompiledBoot', () => {
  it('scans when artifacts are missing, uses them when fresh, rescans when stale', async () => {
    const fixture = await fixtureApp();
    expect((await planCompiledBoot(fixture.root, 'auto')).mode).toBe('scan');
    await expect(planCompiledBoot(fixture.root, 'require')).rejects.toMatchObject({
      code: 'E_COMPILED_STALE',
    });
    expect((await planCompiledBoot(fixture.root, 'never')).mode).toBe('scan');

    const app = await bootedApp(fixture.root);
    await compileApp(app);
    await app.shutdown();

    const fresh = await planCompiledBoot(fixture.root, 'require');
    expect(fresh.mode).toBe('compiled');
    expect(fresh.options.moduleSource?.kind).toBe('compiled');
    const compiled = await Application.create({
      root: fixture.root,
      environment: 'test',
      processEnv: { SHOP_DB_PASSWORD: 'from-env', SHOP_PORT: '9000' },
      ...fresh.options,
    });
    expect(compiled.modules.map((m) => m.manifest.name)).toEqual(['alpha', 'beta']);
    expect(compiled.config.get('shop.dbPassword')).toBe('from-env');
    expect(compiled.config.get('shop.port')).toBe(9000);
    expect(compiled.config.get('alpha.size')).toBe(3);

    await fixture.write(
      'modules/beta/module.ts',
      moduleFile(`{ name: 'beta', version: '2.2.0', dependsOn: { alpha: '^1.0.0' } }`),
    );
    const stale = await planCompiledBoot(fixture.root, 'auto');
    expect(stale).toMatchObject({ mode: 'scan', reason: 'var/cache/modules.json stale' });
    await expect(planCompiledBoot(fixture.root, 'require')).rejects.toMatchObject({
      code: 'E_COMPILED_STALE',
      message: expect.stringContaining('modules.json'),
    });
  });

  it('reports a corrupt artifact with its file', async () => {
    const fixture = await fixtureApp();
    const app = await bootedApp(fixture.root);
    await compileApp(app);
    await app.shutdown();
    await writeFile(join(fixture.root, 'var/cache/modules.json'), '{ not json');
    await expect(planCompiledBoot(fixture.root, 'auto')).rejects.toMatchObject({
      code: 'E_COMPILED_CORRUPT',
      message: expect.stringContaining('modules.json'),
    });
    await writeFile(join(fixture.root, 'var/cache/modules.json'), '{"format":1}');
    await expect(planCompiledBoot(fixture.root, 'auto')).rejects.toMatchObject({
      code: 'E_COMPILED_CORRUPT',
    });
  });
});

describe('buildApp', () => {
  it('compiles TypeScript to a JavaScript mirror and bundles a server that runs', async () => {
    const { buildApp } = await import('./app-builder.js');
    const fixture = await fixtureApp({
      'modules/alpha/commands.ts': `export default [{ name: 'alpha:hello', description: 'say hi', needs: 'booted',
        handle({ app, ui }) { ui.line('hello from ' + app.name + ' ' + app.make('alpha.service').ok); return 0; } }];`,
      'modules/alpha/module.ts': moduleFile(`{
        name: 'alpha', version: '1.0.0', config: { size: 3 },
        providers: async () => [(await import('./provider.js')).AlphaProvider],
        commands: () => import('./commands.js'),
      }`),
      'modules/alpha/views/page.eta': '<p><%= it.x %></p>',
    });
    const keelSrc = join(process.cwd(), 'src');
    const result = await buildApp({
      root: fixture.root,
      bundle: true,
      appFile: 'keel.config.ts',
      modules: [
        { dir: 'modules/alpha', file: 'modules/alpha/module.ts' },
        { dir: 'modules/beta', file: 'modules/beta/module.ts' },
      ],
      configFiles: { shop: 'config/shop.ts' },
      alias: { 'keel/cli': join(keelSrc, 'cli/index.ts') },
    });
    expect(existsSync(join(result.outDir, 'modules/alpha/module.js'))).toBe(true);
    expect(existsSync(join(result.outDir, 'modules/alpha/views/page.eta'))).toBe(true);
    expect(existsSync(join(result.outDir, 'modules/alpha/module.ts'))).toBe(false);
    expect(result.bundle?.bytes).toBeGreaterThan(1000);

    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [result.bundle!.file, 'alpha:hello'], {
      cwd: result.outDir,
      env: {
        ...process.env,
        SHOP_DB_PASSWORD: 'x',
        APP_ENV: 'production',
        APP_KEY: `base64:${Buffer.alloc(32, 1).toString('base64')}`,
      },
    });
    expect(stdout).toContain('hello from fixture true');
  }, 60_000);
});
