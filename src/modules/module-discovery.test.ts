import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKeelError } from '../support/index.js';
import {
  makeTempDir,
  manifestSource,
  names,
  rejection,
  removeTempDir,
  writeModuleFile,
} from './__fixtures__/module-fixtures.js';
import { resolveLazy } from './define-module.js';
import {
  E_INVALID_MODULE_MANIFEST,
  E_MODULE_DUPLICATE,
  E_MODULE_LOAD_FAILED,
  E_MODULE_NO_DEFAULT_EXPORT,
  E_MODULES_DIR_NOT_FOUND,
} from './errors.js';
import { discoverModules, loadModuleFromFile } from './module-discovery.js';
import type { ModuleHooks } from './types.js';

const indexUrl = new URL('./index.ts', import.meta.url).href;

let root: string;
beforeEach(async () => {
  root = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(root);
});

describe('discoverModules', () => {
  it('loads each folder’s module file, sorted by name, skipping folders without one', async () => {
    await writeModuleFile(root, 'zeta', manifestSource({ name: 'zeta', version: '1.0.0' }));
    // The folder name does not decide the order: the module name does.
    await writeModuleFile(root, 'a-folder', manifestSource({ name: 'orders', version: '2.1.0' }));
    await writeModuleFile(
      root,
      'billing',
      manifestSource({ name: 'billing', version: '0.1.0' }),
      'module.mjs',
    );
    await fs.mkdir(path.join(root, 'assets'));
    await fs.writeFile(path.join(root, 'assets', 'logo.txt'), 'not a module');
    await writeModuleFile(root, '.hidden', manifestSource({ name: 'hidden', version: '1.0.0' }));
    await fs.writeFile(
      path.join(root, 'module.js'),
      'throw new Error("a file at the root is not a module")',
    );

    const modules = await discoverModules(root);
    expect(names(modules)).toEqual(['billing', 'orders', 'zeta']);
    const orders = modules[1]!;
    expect(orders.dir).toBe(path.join(root, 'a-folder'));
    expect(orders.file).toBe(path.join(root, 'a-folder', 'module.js'));
    expect(orders.manifest.version).toBe('2.1.0');
    expect(Object.isFrozen(orders)).toBe(true);
    expect(Object.isFrozen(orders.manifest)).toBe(true);
  });

  it('loads TypeScript module files written with defineModule, with lazy parts', async () => {
    await writeModuleFile(
      root,
      'customers',
      [
        `import { defineModule } from ${JSON.stringify(indexUrl)};`,
        'const version: string = "1.4.0";',
        'export default defineModule({',
        '  name: "customers",',
        '  version,',
        '  dependsOn: { billing: "^1.0.0" },',
        '  hooks: () => import("./hooks.ts"),',
        '});',
      ].join('\n'),
      'module.ts',
    );
    await writeModuleFile(
      root,
      'customers',
      'export async function onInstall(ctx: { app: string[] }) { ctx.app.push("installed"); }\n',
      'hooks.ts',
    );
    const [customers] = await discoverModules(root, { prefer: 'ts' });
    expect(customers!.manifest).toMatchObject({ name: 'customers', version: '1.4.0' });
    expect(customers!.manifest.dependsOn).toEqual({ billing: '^1.0.0' });
    const hooks = (await resolveLazy(customers!.manifest.hooks)) as ModuleHooks<string[]>;
    const log: string[] = [];
    await hooks.onInstall!({ app: log, module: customers!.manifest as never, dir: customers!.dir });
    expect(log).toEqual(['installed']);
  });

  it('follows symlinked module folders', async () => {
    const elsewhere = await makeTempDir();
    try {
      await writeModuleFile(
        elsewhere,
        'vendor-audit',
        manifestSource({ name: 'audit', version: '1.0.0' }),
      );
      const modulesDir = path.join(root, 'modules');
      await fs.mkdir(modulesDir);
      await fs.symlink(path.join(elsewhere, 'vendor-audit'), path.join(modulesDir, 'audit'), 'dir');
      await fs.symlink(path.join(elsewhere, 'package.json'), path.join(modulesDir, 'not-a-folder'));
      const [audit, ...rest] = await discoverModules(modulesDir);
      expect(rest).toEqual([]);
      expect(audit!.manifest.name).toBe('audit');
      expect(audit!.dir).toBe(path.join(modulesDir, 'audit'));
    } finally {
      await removeTempDir(elsewhere);
    }
  });

  it('picks module.ts or module.js by preference when a folder has both', async () => {
    await writeModuleFile(
      root,
      'both',
      'export default { name: "both", version: "1.0.0-ts" };',
      'module.ts',
    );
    await writeModuleFile(root, 'both', manifestSource({ name: 'both', version: '1.0.0-js' }));
    const [fromJs] = await discoverModules(root);
    expect(fromJs!.manifest.version).toBe('1.0.0-js');
    const [fromTs] = await discoverModules(root, { prefer: 'ts' });
    expect(fromTs!.manifest.version).toBe('1.0.0-ts');
    expect(fromTs!.file).toBe(path.join(root, 'both', 'module.ts'));
  });

  it('reports a missing modules folder, unless allowed', async () => {
    const missing = path.join(root, 'nope');
    const error = await rejection(discoverModules(missing));
    expect(E_MODULES_DIR_NOT_FOUND.is(error)).toBe(true);
    expect(error.message).toBe(`Modules folder "${missing}" does not exist`);
    expect(await discoverModules(missing, { allowMissing: true })).toEqual([]);
    // A file where the folder should be is as missing as no folder at all.
    await expect(discoverModules(path.join(root, 'package.json'))).rejects.toThrow(
      E_MODULES_DIR_NOT_FOUND,
    );
  });

  it('names both folders when two modules share a name', async () => {
    await writeModuleFile(root, 'one', manifestSource({ name: 'shared', version: '1.0.0' }));
    await writeModuleFile(root, 'two', manifestSource({ name: 'shared', version: '2.0.0' }));
    const error = await rejection(discoverModules(root));
    expect(E_MODULE_DUPLICATE.is(error)).toBe(true);
    expect(error.message).toBe(
      `Two modules are named "shared": "${path.join(root, 'one')}" and "${path.join(root, 'two')}"`,
    );
  });

  it('names the file of an invalid manifest', async () => {
    const file = await writeModuleFile(
      root,
      'broken',
      manifestSource({ name: 'broken', version: 'latest', dependsOn: { other: 'soon' } }),
    );
    const error = await rejection(discoverModules(root));
    expect(E_INVALID_MODULE_MANIFEST.is(error)).toBe(true);
    expect(error.message).toContain(`Invalid module manifest in "${file}" (module "broken")`);
    expect(error.message).toContain('`version` must be a semantic version');
    expect(error.message).toContain('`dependsOn.other` must be a semver range');
  });

  it('names the file of a manifest that is not an object', async () => {
    const file = await writeModuleFile(root, 'odd', 'export default 42;');
    const error = await rejection(discoverModules(root));
    expect(error.message).toBe(
      `Invalid module manifest in "${file}":\n  - a manifest must be an object, got number`,
    );
  });
});

describe('loadModuleFromFile', () => {
  it('loads one module file', async () => {
    const file = await writeModuleFile(
      root,
      'solo',
      manifestSource({ name: 'solo', version: '3.0.0' }),
    );
    const module = await loadModuleFromFile(path.relative(process.cwd(), file));
    expect(module).toEqual({
      manifest: { name: 'solo', version: '3.0.0' },
      dir: path.dirname(file),
      file,
    });
  });

  it('says so when the file has no default export', async () => {
    const file = await writeModuleFile(root, 'named', 'export const manifest = { name: "named" };');
    const error = await rejection(loadModuleFromFile(file));
    expect(E_MODULE_NO_DEFAULT_EXPORT.is(error)).toBe(true);
    expect(error.message).toBe(`Module file "${file}" has no default export`);
    if (isKeelError(error)) expect(error.help).toContain('export default defineModule');
  });

  it('wraps import failures, naming the file and keeping the cause', async () => {
    const syntax = await writeModuleFile(root, 'syntax', 'export default { name: ;');
    const error = await rejection(loadModuleFromFile(syntax));
    expect(E_MODULE_LOAD_FAILED.is(error)).toBe(true);
    expect(error.message).toContain(`Could not load module file "${syntax}": `);
    expect(error.cause).toBeDefined();

    const throwing = await writeModuleFile(root, 'throwing', 'throw new Error("boom at import");');
    const thrown = await rejection(loadModuleFromFile(throwing));
    expect(thrown.message).toBe(`Could not load module file "${throwing}": boom at import`);
    expect((thrown.cause as Error).message).toBe('boom at import');

    const missingImport = await writeModuleFile(
      root,
      'deps',
      'import x from "./nope.js"; export default x;',
    );
    expect((await rejection(loadModuleFromFile(missingImport))).message).toContain('nope.js');

    const absent = path.join(root, 'absent', 'module.js');
    expect((await rejection(loadModuleFromFile(absent))).message).toContain(`"${absent}"`);
  });
});
