import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Router } from '../../http/router/index.js';
import { Application } from '../../kernel/index.js';
import {
  ENV_KEYS,
  makeFixtureApp,
  removeFixtureApp,
  runKeel,
  writeFiles,
} from './__fixtures__/cli-fixture.js';
import {
  camelCase,
  kebabCase,
  type ModuleMakeOutput,
  pascalCase,
  renderStub,
  type StubVariables,
} from './module-make-command.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

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

const EXPECTED_FILES = [
  'modules/purchase-orders/module.ts',
  'modules/purchase-orders/config.ts',
  'modules/purchase-orders/events.ts',
  'modules/purchase-orders/hooks.ts',
  'modules/purchase-orders/routes.ts',
  'modules/purchase-orders/providers/purchase-orders-provider.ts',
  'modules/purchase-orders/purchase-orders.test.ts',
  'modules/purchase-orders/controllers/.gitkeep',
  'modules/purchase-orders/models/.gitkeep',
  'modules/purchase-orders/views/.gitkeep',
  'modules/purchase-orders/migrations/.gitkeep',
];

describe('module:make', () => {
  it('scaffolds a module that the application boots with, in environment test', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:make', 'purchase-orders', '--json');
    expect(result.code).toBe(0);
    expect(result.json<ModuleMakeOutput>()).toEqual({
      module: 'purchase-orders',
      dir: join('modules', 'purchase-orders'),
      files: EXPECTED_FILES,
    });
    for (const file of EXPECTED_FILES) expect(existsSync(join(root, file))).toBe(true);
    const provider = await readFile(join(root, EXPECTED_FILES[5]!), 'utf8');
    expect(provider).toContain(
      'export class PurchaseOrdersProvider extends ServiceProvider<Application>',
    );
    expect(provider).toContain("singleton('purchaseOrders'");
    const test = await readFile(join(root, EXPECTED_FILES[6]!), 'utf8');
    expect(test).toContain("new URL('../../', import.meta.url)");
    for (const file of EXPECTED_FILES)
      expect(await readFile(join(root, file), 'utf8')).not.toMatch(/\{\{/);

    const booted = await Application.create({
      root,
      environment: 'test',
      env: { APP_ENV: 'test' },
    });
    try {
      await booted.start();
      const module = booted.modules.find((m) => m.manifest.name === 'purchase-orders');
      expect(module?.manifest).toMatchObject({
        version: '0.1.0',
        migrations: 'migrations',
        views: 'views',
      });
      expect(booted.config.get('purchase-orders.perPage')).toBe(25);
      expect(booted.config.sources('purchase-orders.enabled')).toEqual(['module:purchase-orders']);
      expect(booted.providers().find((p) => p.module === 'purchase-orders')).toMatchObject({
        name: 'PurchaseOrdersProvider',
        state: 'ready',
      });
      const routes = (await import(join(root, 'modules/purchase-orders/routes.ts'))).default;
      const router = new Router({ module: 'purchase-orders' });
      routes(router, booted);
      expect(router.routes().map((r) => r.path)).toEqual(['/purchase-orders']);
      // Its hooks run through setup, with the booted application.
      const report = await booted.moduleManager.setup((m) => ({
        app: booted,
        module: m.manifest,
        dir: m.dir,
      }));
      expect(report.steps).toContainEqual({
        module: 'purchase-orders',
        action: 'install',
        hook: 'onInstall',
        to: '0.1.0',
      });
    } finally {
      await booted.shutdown();
    }
  });

  it('writes a test that passes under vitest', async () => {
    const root = await app();
    expect((await runKeel(root, 'module:make', 'stock')).code).toBe(0);
    // The scaffolded test imports 'keel' and 'vitest' as an application would.
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    await writeFile(
      join(root, 'vitest.config.mjs'),
      `export default { resolve: { alias: [{ find: /^keel$/, replacement: ${JSON.stringify(join(REPO, 'src/index.ts'))} }] } };\n`,
    );
    const run = spawnSync(
      process.execPath,
      [join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', 'modules/stock'],
      {
        cwd: root,
        encoding: 'utf8',
        env: {
          ...process.env,
          VITEST: undefined,
          VITEST_POOL_ID: undefined,
          VITEST_WORKER_ID: undefined,
          NO_COLOR: '1',
        },
        timeout: 60_000,
      },
    );
    expect(run.stdout + run.stderr).toMatch(/2 passed/);
    expect(run.status).toBe(0);
  }, 60_000);

  it('prints the created files and the next steps', async () => {
    const root = await app({
      'keel.config.ts': `export default { name: 'Fixture', enableNewModules: false };\n`,
    });
    const result = await runKeel(root, 'module:make', 'ledger');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('created module "ledger" in modules/ledger/');
    expect(result.stdout).toContain('modules/ledger/providers/ledger-provider.ts');
    expect(result.stdout).toContain('run `keel module:enable ledger`');
    expect(result.stdout).toContain('`npx vitest run modules/ledger` runs its test');
  });

  it('puts the module in the modules folder keel.config.ts names', async () => {
    const root = await app({
      'keel.config.ts': `export default { name: 'Fixture', modules: 'src/modules' };\n`,
    });
    const result = await runKeel(root, 'module:make', 'crm', '--json');
    expect(result.json<ModuleMakeOutput>().dir).toBe(join('src', 'modules', 'crm'));
    expect(await readFile(join(root, 'src/modules/crm/crm.test.ts'), 'utf8')).toContain(
      "new URL('../../../'",
    );
  });

  it('refuses a name that is not kebab-case, suggesting one', async () => {
    const root = await app();
    const result = await runKeel(root, 'module:make', 'PurchaseOrders');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'E_MODULE_NAME_INVALID: "PurchaseOrders" is not a valid module name',
    );
    expect(result.stderr).toContain('Did you mean "purchase-orders"?');
    for (const name of ['../escape', 'a/b', '9lives', 'x-', 'a--b', 'x'.repeat(65), '__proto__']) {
      const bad = await runKeel(root, 'module:make', name);
      expect(bad.code, name).toBe(1);
      expect(bad.stderr, name).toContain('E_MODULE_NAME_INVALID');
    }
    expect(existsSync(join(root, 'escape'))).toBe(false);
    expect((await readdir(join(root, 'modules'))).sort()).toEqual(['billing', 'core', 'reports']);
  });

  it('refuses an existing folder unless --force, which keeps the other files', async () => {
    const root = await app();
    const refused = await runKeel(root, 'module:make', 'core');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `E_MODULE_FOLDER_EXISTS: Folder "${join('modules', 'core')}" already exists`,
    );
    expect(refused.stdout).toContain('--force');
    expect(await readFile(join(root, 'modules/core/module.ts'), 'utf8')).toContain("name: 'core'");

    const forced = await runKeel(root, 'module:make', 'core', '--force');
    expect(forced.code).toBe(0);
    expect(await readFile(join(root, 'modules/core/module.ts'), 'utf8')).toContain(
      "version: '0.1.0'",
    );
    expect(existsSync(join(root, 'modules/core/core-provider.ts'))).toBe(true);
  });

  it('uses the application stubs over the framework ones, and refuses unknown placeholders', async () => {
    const root = await app({
      'stubs/module/config.ts.stub': `export default { owner: '{{ appName }}', name: '{{ camelName }}' };\n`,
    });
    expect((await runKeel(root, 'module:make', 'sales-tax')).code).toBe(0);
    expect(await readFile(join(root, 'modules/sales-tax/config.ts'), 'utf8')).toBe(
      `export default { owner: 'Fixture', name: 'salesTax' };\n`,
    );

    await writeFiles(root, { 'stubs/module/hooks.ts.stub': 'export default { {{ nmae }} };\n' });
    const result = await runKeel(root, 'module:make', 'vat');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_MODULE_STUB_INVALID');
    expect(result.stderr).toContain('unknown placeholder {{ nmae }}');
    // Everything is rendered before anything is written.
    expect(existsSync(join(root, 'modules/vat'))).toBe(false);
  });

  it('fails outside an application', async () => {
    const root = await app();
    await rm(join(root, 'keel.config.ts'));
    const result = await runKeel(root, 'module:make', 'crm');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E_APP_CONFIG_NOT_FOUND');
    expect(existsSync(resolve(root, 'modules/crm'))).toBe(false);
  });
});

describe('stub helpers', () => {
  const vars: StubVariables = {
    name: 'a-b',
    Name: 'AB',
    camelName: 'aB',
    rootPath: '../../',
    appName: 'X',
  };

  it('converts names between cases', () => {
    expect(pascalCase('purchase-orders')).toBe('PurchaseOrders');
    expect(pascalCase('v2-api')).toBe('V2Api');
    expect(camelCase('purchase-orders')).toBe('purchaseOrders');
    expect(camelCase('crm')).toBe('crm');
    expect(kebabCase('PurchaseOrders')).toBe('purchase-orders');
    expect(kebabCase(' purchase_orders ')).toBe('purchase-orders');
    expect(kebabCase('Sales Tax 2')).toBe('sales-tax-2');
  });

  it('renders placeholders with or without spaces and refuses unknown ones', () => {
    expect(renderStub('{{ Name }}/{{name}}/{{  camelName  }}', vars, 's')).toBe('AB/a-b/aB');
    expect(() => renderStub('{{ constructor }}', vars, 'evil.stub')).toThrow(
      /unknown placeholder \{\{ constructor \}\}/,
    );
    expect(() => renderStub('{{ toString }}', vars, 'evil.stub')).toThrow(/unknown placeholder/);
  });
});
