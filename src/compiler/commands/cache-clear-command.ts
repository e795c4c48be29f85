import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCommand, resolveAppPaths } from '../../kernel/index.js';
import { ARTIFACT_NAMES } from '../artifacts.js';

/** Remove the compiled boot artifacts; returns the names that existed. */
export async function clearCompiled(root: string): Promise<string[]> {
  const cache = resolveAppPaths(root).cache;
  const removed: string[] = [];
  const present = await readdir(cache).catch(() => [] as string[]);
  const names = new Set<string>([...ARTIFACT_NAMES, ...present.filter((n) => n.endsWith('.json'))]);
  for (const name of [...names].sort()) {
    const file = join(cache, name);
    try {
      await rm(file);
      removed.push(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}

export const cacheClearCommand = defineCommand({
  name: 'cache:clear',
  aliases: ['cc'],
  description: 'Clear caches; --compiled clears the compiled boot artifacts',
  needs: 'nothing',
  options: [
    { flags: '--compiled', description: 'clear var/cache compiled artifacts' },
    { flags: '--all', description: 'clear cache pools and compiled artifacts' },
    { flags: '--pool <name>', description: 'clear one cache pool' },
  ],
  json: true,
  async handle({ cwd, options, ui }) {
    const result: { compiled: string[]; pools: string[] } = { compiled: [], pools: [] };
    if (options.compiled || options.all || !options.pool) {
      // Until the cache issue adds pools, clearing "all" means the compiled artifacts.
      result.compiled = await clearCompiled(cwd);
    }
    if (options.pool) {
      ui.warn(`cache pool "${String(options.pool)}" is not configured; no cache pools exist yet`);
      return 1;
    }
    ui.output(result, () =>
      ui.success(
        result.compiled.length > 0
          ? `cleared var/cache/${result.compiled.join(', var/cache/')}`
          : 'nothing to clear',
      ),
    );
    return 0;
  },
});
