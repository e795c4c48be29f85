import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppDefinition } from './define-app.js';
import { E_APP_CONFIG_NOT_FOUND, E_INVALID_APP_CONFIG } from './errors.js';
import { registerTypeScriptLoader } from './ts-loader.js';

const CANDIDATES = ['keel.config.js', 'keel.config.mjs', 'keel.config.ts', 'keel.config.mts'];

/** Find the application definition file in `root`; compiled JavaScript wins over TypeScript. */
export function findAppFile(root: string): string {
  for (const name of CANDIDATES) {
    const file = join(root, name);
    if (existsSync(file)) return file;
  }
  throw new E_APP_CONFIG_NOT_FOUND(root);
}

/** Import a source file, registering the TypeScript loader first when it is TypeScript. */
export async function importSource<T = unknown>(file: string): Promise<T> {
  if (/\.[mc]?ts$/.test(file)) await registerTypeScriptLoader();
  return (await import(pathToFileURL(file).href)) as T;
}

/** Load and check `keel.config.*`. */
export async function loadAppDefinition(
  root: string,
): Promise<{ file: string; definition: AppDefinition }> {
  const file = findAppFile(root);
  const loaded = await importSource<{ default?: unknown }>(file);
  const definition = loaded.default;
  const problems: string[] = [];
  if (!definition || typeof definition !== 'object') {
    problems.push('default export must be the result of defineApp({ ... })');
  } else {
    const def = definition as Record<string, unknown>;
    if (typeof def.name !== 'string' || def.name.trim() === '')
      problems.push('name: a non-empty string is required');
    for (const key of ['modules', 'config'] as const) {
      if (def[key] !== undefined && typeof def[key] !== 'string')
        problems.push(`${key}: must be a folder path string`);
    }
  }
  if (problems.length > 0) throw new E_INVALID_APP_CONFIG(file, problems);
  return { file, definition: definition as AppDefinition };
}
