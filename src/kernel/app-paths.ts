import { join, resolve } from 'node:path';

/** Where an application's files live; every path is absolute. */
export interface AppPaths {
  root: string;
  modules: string;
  config: string;
  var: string;
  cache: string;
  state: string;
  data: string;
  log: string;
  backups: string;
  tmp: string;
}

export function resolveAppPaths(
  root: string,
  folders: { modules?: string; config?: string } = {},
): AppPaths {
  const base = resolve(root);
  const varDir = join(base, 'var');
  return {
    root: base,
    modules: join(base, folders.modules ?? 'modules'),
    config: join(base, folders.config ?? 'config'),
    var: varDir,
    cache: join(varDir, 'cache'),
    state: join(varDir, 'state'),
    data: join(varDir, 'data'),
    log: join(varDir, 'log'),
    backups: join(varDir, 'backups'),
    tmp: join(varDir, 'tmp'),
  };
}
