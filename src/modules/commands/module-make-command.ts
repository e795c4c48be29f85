import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand, loadAppDefinition, resolveAppPaths } from '../../kernel/index.js';
import { isModuleName } from '../define-module.js';
import { E_MODULE_FOLDER_EXISTS, E_MODULE_NAME_INVALID, E_MODULE_STUB_INVALID } from './errors.js';

/** The framework's stubs: `stubs/module/` at the package root, the same from `src/` and `dist/`. */
export const FRAMEWORK_MODULE_STUBS = fileURLToPath(
  new URL('../../../stubs/module/', import.meta.url),
);

/**
 * The files of a new module: stub → target path (with placeholders), and the empty folders
 * kept with a `.gitkeep`. An application overrides a stub by putting its own copy in
 * `stubs/module/<stub>` at its root.
 */
export const MODULE_SCAFFOLD = {
  files: [
    { stub: 'module.ts.stub', target: 'module.ts' },
    { stub: 'config.ts.stub', target: 'config.ts' },
    { stub: 'events.ts.stub', target: 'events.ts' },
    { stub: 'hooks.ts.stub', target: 'hooks.ts' },
    { stub: 'routes.ts.stub', target: 'routes.ts' },
    { stub: 'provider.ts.stub', target: 'providers/{{ name }}-provider.ts' },
    { stub: 'test.ts.stub', target: '{{ name }}.test.ts' },
  ],
  folders: ['controllers', 'models', 'views', 'migrations'],
} as const;

/** The values a stub's `{{ placeholder }}`s are replaced with. */
export interface StubVariables {
  /** kebab-case: `purchase-orders`. */
  name: string;
  /** PascalCase: `PurchaseOrders`. */
  Name: string;
  /** camelCase: `purchaseOrders`. */
  camelName: string;
  /** From the module folder to the application root, with `/`: `../../`. */
  rootPath: string;
  appName: string;
}

/** `purchase-orders` → `PurchaseOrders`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** `purchase-orders` → `purchaseOrders`. */
export function camelCase(name: string): string {
  const pascal = pascalCase(name);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
}

/** `PurchaseOrders`, `purchase_orders`, `Purchase Orders` → `purchase-orders` (for suggestions). */
export function kebabCase(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
}

/**
 * Replace `{{ key }}` placeholders. An unknown placeholder is an error rather than left in
 * place, so a typo in a custom stub never produces a module that fails later.
 *
 * @example
 * ```ts
 * renderStub('export class {{ Name }}Provider {}', vars, 'provider.ts.stub');
 * ```
 */
export function renderStub(template: string, variables: StubVariables, file: string): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_, key: string) => {
    if (!Object.hasOwn(variables, key))
      throw new E_MODULE_STUB_INVALID(file, `unknown placeholder {{ ${key} }}`);
    return variables[key as keyof StubVariables];
  });
}

/** What `module:make --json` prints. */
export interface ModuleMakeOutput {
  module: string;
  dir: string;
  /** Created or overwritten files, relative to the application root. */
  files: string[];
}

export const moduleMakeCommand = defineCommand({
  name: 'module:make',
  description:
    'Scaffold a new module: manifest, config, events, hooks, routes, provider and a test',
  arguments: [{ name: 'name', description: 'the module name, in kebab-case', required: true }],
  options: [{ flags: '-f, --force', description: 'write over the files of an existing folder' }],
  json: true,
  needs: 'nothing',
  async handle({ cwd, args, options, ui }) {
    const name = String(args.name);
    if (!isModuleName(name)) {
      const suggestion = kebabCase(name);
      throw new E_MODULE_NAME_INVALID(name, isModuleName(suggestion) ? suggestion : undefined);
    }
    const { definition } = await loadAppDefinition(cwd);
    const paths = resolveAppPaths(cwd, definition.modules ? { modules: definition.modules } : {});
    const dir = join(paths.modules, name);
    if (existsSync(dir) && !options.force) throw new E_MODULE_FOLDER_EXISTS(relative(cwd, dir));

    const variables: StubVariables = {
      name,
      Name: pascalCase(name),
      camelName: camelCase(name),
      rootPath: `${relative(dir, paths.root).split(sep).join('/')}/`,
      appName: definition.name,
    };
    // Render everything before writing anything, so a bad stub leaves no half-made module.
    const rendered: Array<{ file: string; content: string }> = [];
    for (const { stub, target } of MODULE_SCAFFOLD.files) {
      const source = await readStub(cwd, stub);
      rendered.push({
        file: join(dir, renderStub(target, variables, stub)),
        content: renderStub(source.text, variables, source.file),
      });
    }
    for (const folder of MODULE_SCAFFOLD.folders)
      rendered.push({ file: join(dir, folder, '.gitkeep'), content: '' });

    for (const { file, content } of rendered) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    const output: ModuleMakeOutput = {
      module: name,
      dir: relative(cwd, dir),
      files: rendered.map(({ file }) => relative(cwd, file).split(sep).join('/')),
    };
    ui.output(output, () => {
      ui.success(`created module "${name}" in ${output.dir}/`);
      for (const file of output.files) ui.line(ui.dim(`  ${file}`));
      if (definition.enableNewModules === false)
        ui.line(`  new modules start disabled here: run \`keel module:enable ${name}\``);
      ui.line(
        `  next: \`keel setup:update\` installs it; \`npx vitest run ${output.dir}\` runs its test`,
      );
    });
    return 0;
  },
});

async function readStub(root: string, stub: string): Promise<{ file: string; text: string }> {
  const custom = join(root, 'stubs', 'module', stub);
  const file = existsSync(custom) ? custom : join(FRAMEWORK_MODULE_STUBS, stub);
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch (error) {
    throw new E_MODULE_STUB_INVALID(file, (error as Error).message).withCause(error);
  }
}
