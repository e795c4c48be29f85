import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { normalizeManifest } from './define-module.js';
import {
  E_MODULE_DUPLICATE,
  E_MODULE_LOAD_FAILED,
  E_MODULE_NO_DEFAULT_EXPORT,
  E_MODULES_DIR_NOT_FOUND,
} from './errors.js';
import { errorMessage } from './json-file.js';
import type { DiscoveredModule } from './types.js';

export interface DiscoverOptions {
  /**
   * Which module file wins when a folder holds both `module.ts` and `module.js`. Development
   * (with a TypeScript loader registered) prefers `ts`; production prefers `js`. Default `js`,
   * since importing `.ts` without a loader fails.
   */
  prefer?: 'ts' | 'js';
  /** Return `[]` instead of throwing when the modules folder does not exist. Default false. */
  allowMissing?: boolean;
}

const FILES = {
  ts: ['module.ts', 'module.mts', 'module.js', 'module.mjs'],
  js: ['module.js', 'module.mjs', 'module.ts', 'module.mts'],
} as const;

/**
 * Import one module file and return its validated manifest, with the folder it lives in.
 *
 * @example
 * ```ts
 * const billing = await loadModuleFromFile('/app/modules/billing/module.ts');
 * billing.manifest.version; // '1.0.0'
 * ```
 */
export async function loadModuleFromFile<App = unknown>(
  file: string,
): Promise<DiscoveredModule<App>> {
  const absolute = path.resolve(file);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw new E_MODULE_LOAD_FAILED(`module file "${absolute}"`, errorMessage(error)).withCause(
      error,
    );
  }
  if (!('default' in namespace) || namespace.default === undefined)
    throw new E_MODULE_NO_DEFAULT_EXPORT(absolute);
  const manifest = normalizeManifest<App>(namespace.default, `"${absolute}"`);
  return Object.freeze({ manifest, dir: path.dirname(absolute), file: absolute });
}

async function findModuleFile(dir: string, prefer: 'ts' | 'js'): Promise<string | undefined> {
  for (const name of FILES[prefer]) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isFile()) return file;
  }
  return undefined;
}

/**
 * Find every module under `modulesDir`: each direct subfolder holding a `module.ts` or
 * `module.js` (folders without one are skipped). Returns them sorted by module name.
 *
 * @example
 * ```ts
 * const modules = await discoverModules('/app/modules', { prefer: 'ts' });
 * modules.map((m) => m.manifest.name); // ['billing', 'customers']
 * ```
 */
export async function discoverModules<App = unknown>(
  modulesDir: string,
  options: DiscoverOptions = {},
): Promise<DiscoveredModule<App>[]> {
  const root = path.resolve(modulesDir);
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (options.allowMissing) return [];
      throw new E_MODULES_DIR_NOT_FOUND(root);
    }
    throw error;
  }
  const folders = entries
    // Symlinked folders count (a module linked in from elsewhere); findModuleFile follows them.
    .filter(
      (entry) => (entry.isDirectory() || entry.isSymbolicLink()) && !entry.name.startsWith('.'),
    )
    .map((entry) => entry.name)
    .sort();
  const prefer = options.prefer ?? 'js';
  const modules: DiscoveredModule<App>[] = [];
  // Sequential on purpose: a module file may have import side effects (registering a
  // loader, a global) and loading them in a fixed order keeps those reproducible.
  for (const folder of folders) {
    const file = await findModuleFile(path.join(root, folder), prefer);
    if (file !== undefined) modules.push(await loadModuleFromFile<App>(file));
  }
  const byName = new Map<string, DiscoveredModule<App>>();
  for (const module of modules) {
    const existing = byName.get(module.manifest.name);
    if (existing) throw new E_MODULE_DUPLICATE(module.manifest.name, existing.dir, module.dir);
    byName.set(module.manifest.name, module);
  }
  return modules.sort((a, b) => compareNames(a.manifest.name, b.manifest.name));
}

/** Code-point order, independent of the process locale, so orders are the same everywhere. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
