import type { DiscoveredModule } from '../modules/index.js';
import { discoverModules } from '../modules/index.js';
import type { AppPaths } from './app-paths.js';
import { registerTypeScriptLoader } from './ts-loader.js';

/**
 * Where module manifests come from. Development scans the modules folder; production
 * reads the compiled list (`var/cache/modules.json`); a bundled build hands them over in
 * memory. The compiler provides the latter two.
 */
export interface ModuleSource {
  readonly kind: 'scan' | 'compiled' | 'bundle';
  load(): Promise<DiscoveredModule[]>;
}

/** Scan `paths.modules` for `<name>/module.{ts,js}`. */
export function scanModuleSource(paths: AppPaths): ModuleSource {
  return {
    kind: 'scan',
    async load() {
      await registerTypeScriptLoader();
      return discoverModules(paths.modules);
    },
  };
}
