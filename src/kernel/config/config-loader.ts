import { readdir } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPlainObject } from '../../support/index.js';
import { E_CONFIG_FILE_INVALID } from './errors.js';

const EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.js', '.mjs']);
const NAMESPACE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Type a config file's object; at runtime it returns its argument unchanged.
 *
 * @example
 * ```ts
 * // config/catalog.ts
 * export default defineConfig({ pageSize: env('CATALOG_PAGE_SIZE', 20) });
 * ```
 */
export function defineConfig<T extends Record<string, unknown>>(config: T): T {
  return config;
}

/**
 * Import every config file of a directory: `config/catalog.ts` becomes the namespace
 * `catalog`, holding the file's default export. `.ts`, `.js` and `.mjs` files are read
 * (`.ts` needs a TypeScript loader, as in development); declaration files, hidden files and
 * `*.test.*`/`*.spec.*` files are skipped. A missing directory yields no config. Every
 * error names the file.
 *
 * @example
 * ```ts
 * const app = await loadConfigDir(join(root, 'config')); // { app: {...}, catalog: {...} }
 * ```
 */
export async function loadConfigDir(dir: string): Promise<Record<string, Record<string, unknown>>> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() || entry.isSymbolicLink())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new E_CONFIG_FILE_INVALID(dir, `cannot read the config directory (${code})`).withCause(
      error,
    );
  }

  const files = new Map<string, string>();
  for (const name of entries) {
    if (!isConfigFile(name)) continue;
    const namespace = name.slice(0, -extname(name).length);
    const file = join(dir, name);
    if (!NAMESPACE.test(namespace)) {
      throw new E_CONFIG_FILE_INVALID(
        file,
        `"${namespace}" is not a valid namespace name (letters, digits, - and _, starting with a letter)`,
      );
    }
    const other = files.get(namespace);
    if (other) {
      throw new E_CONFIG_FILE_INVALID(
        file,
        `namespace "${namespace}" is also defined by ${relative(dir, other)}; keep one of them`,
      );
    }
    files.set(namespace, file);
  }

  const config: Record<string, Record<string, unknown>> = {};
  for (const [namespace, file] of files) config[namespace] = await importConfigFile(file);
  return config;
}

function isConfigFile(name: string): boolean {
  if (!EXTENSIONS.has(extname(name)) || name.startsWith('.')) return false;
  return !/\.d\.[mc]?ts$/.test(name) && !/\.(test|spec)\.[mc]?[jt]s$/.test(name);
}

async function importConfigFile(file: string): Promise<Record<string, unknown>> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new E_CONFIG_FILE_INVALID(file, `failed to load: ${message}`).withCause(error);
  }
  const value = module.default;
  if (value === undefined) {
    throw new E_CONFIG_FILE_INVALID(
      file,
      'has no default export; use `export default defineConfig({ ... })`',
    );
  }
  if (!isPlainObject(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new E_CONFIG_FILE_INVALID(file, `the default export must be a plain object, got ${kind}`);
  }
  return value;
}
