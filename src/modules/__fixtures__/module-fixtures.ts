import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defineModule } from '../define-module.js';
import type { DiscoveredModule, ModuleManifest } from '../types.js';

/** A fresh temporary folder; remove it with {@link removeTempDir}. */
export async function makeTempDir(prefix = 'keel-modules-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  // Plain `.js` files written in the folder are ES modules, as in a Keel application.
  await fs.writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** Write `source` as `<root>/<folder>/<file>` and return the file's path. */
export async function writeModuleFile(
  root: string,
  folder: string,
  source: string,
  file = 'module.js',
): Promise<string> {
  const target = path.join(root, folder, file);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.writeFile(target, source);
  return target;
}

/** The source of a module file default-exporting `manifest` (JSON data only). */
export function manifestSource(manifest: Record<string, unknown>): string {
  return `export default ${JSON.stringify(manifest, null, 2)};\n`;
}

/** An in-memory discovered module, for graph and manager tests. */
export function fakeModule<App = unknown>(
  name: string,
  version = '1.0.0',
  dependsOn: Record<string, string> = {},
  extra: Partial<ModuleManifest<App>> = {},
): DiscoveredModule<App> {
  const dir = `/app/modules/${name}`;
  return {
    manifest: defineModule<App>({ name, version, dependsOn, ...extra }),
    dir,
    file: `${dir}/module.ts`,
  };
}

/** The error a promise rejects with (failing the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

export const names = (modules: readonly { manifest: { name: string } }[]): string[] =>
  modules.map((module) => module.manifest.name);
