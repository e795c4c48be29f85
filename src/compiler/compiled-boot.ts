import { join, resolve } from 'node:path';
import type { ApplicationOptions, ModuleSource } from '../kernel/index.js';
import { registerTypeScriptLoader, resolveAppPaths } from '../kernel/index.js';
import type { DiscoveredModule } from '../modules/index.js';
import { loadModuleFromFile } from '../modules/index.js';
import { readArtifact } from './artifacts.js';
import { appSourcesFingerprint } from './compile-app.js';
import { E_COMPILED_STALE } from './errors.js';

export type CompiledMode = 'auto' | 'never' | 'require';

export interface CompiledBootPlan {
  /** Options to spread into `Application.create`. */
  options: Pick<ApplicationOptions, 'moduleSource' | 'appConfig' | 'configCompiled'>;
  /** `compiled` when fresh artifacts are used, `scan` otherwise, with the reason. */
  mode: 'compiled' | 'scan';
  reason: string;
}

/**
 * Decide how an application boots. With fresh artifacts: module manifests are imported from
 * the compiled list (no folder scan) and config comes from `config.json` (no config file
 * imports). With stale ones: development rescans; production (`require`) refuses.
 *
 * `modules` folder and `config` folder are taken from defaults; apps that move them pass
 * them in `folders`.
 */
export async function planCompiledBoot(
  root: string,
  mode: CompiledMode,
  folders: { modules?: string; config?: string } = {},
): Promise<CompiledBootPlan> {
  if (mode === 'never') return { options: {}, mode: 'scan', reason: 'compiled artifacts disabled' };
  const paths = resolveAppPaths(root, folders);
  const [modules, config] = await Promise.all([
    readArtifact(paths.cache, 'modules.json'),
    readArtifact(paths.cache, 'config.json'),
  ]);
  const missing = !modules ? 'modules.json' : !config ? 'config.json' : undefined;
  if (missing) {
    if (mode === 'require') throw new E_COMPILED_STALE(missing, 'it does not exist');
    return { options: {}, mode: 'scan', reason: `var/cache/${missing} missing` };
  }
  const current = await appSourcesFingerprint({ paths });
  for (const [name, artifact] of [
    ['modules.json', modules!],
    ['config.json', config!],
  ] as const) {
    if (artifact.sources !== current) {
      if (mode === 'require')
        throw new E_COMPILED_STALE(name, 'sources changed since it was compiled');
      return { options: {}, mode: 'scan', reason: `var/cache/${name} stale` };
    }
  }
  const moduleSource: ModuleSource = {
    kind: 'compiled',
    async load() {
      if (modules!.modules.some((m) => /\.[mc]?ts$/.test(m.file))) await registerTypeScriptLoader();
      return Promise.all(
        modules!.modules.map(async (entry): Promise<DiscoveredModule> => {
          return loadModuleFromFile(resolve(root, entry.file));
        }),
      );
    },
  };
  return {
    options: {
      moduleSource,
      ...(config!.complete
        ? { appConfig: config!.config as Record<string, Record<string, unknown>> }
        : {}),
    },
    mode: 'compiled',
    reason: `fresh artifacts in ${join('var', 'cache')}`,
  };
}
