import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Application,
  type CommandContext,
  defineCommand,
  resolveAppPaths,
} from '../../kernel/index.js';
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

/** The part of the cache manager this command uses (the compiler does not import cache/). */
interface CachePools {
  names(): string[];
  clear(name?: string): Promise<string[]>;
}

/**
 * Clear one cache pool or all of them, booting the application (the pools' stores come
 * from its config). Returns the pools cleared, or a message saying why none could be.
 */
async function clearPools(
  ctx: Pick<CommandContext, 'cwd' | 'createApp'>,
  pool: string | undefined,
): Promise<{ pools: string[] } | { problem: string }> {
  const app = ctx.createApp
    ? await ctx.createApp()
    : await Application.create({ root: ctx.cwd, environment: 'console' });
  try {
    await app.boot();
    if (!app.container.bound('cache' as never))
      return { problem: 'no cache pools are configured (the CacheProvider is not registered)' };
    const cache = app.make('cache' as never) as CachePools;
    if (pool !== undefined && !cache.names().includes(pool))
      return {
        problem: `cache pool "${pool}" is not configured; pools: ${cache.names().join(', ')}`,
      };
    return { pools: await cache.clear(pool) };
  } finally {
    await app.shutdown('cache:clear done');
  }
}

export const cacheClearCommand = defineCommand({
  name: 'cache:clear',
  aliases: ['cc'],
  description: 'Clear the cache pools; --pool one pool, --compiled the compiled boot artifacts',
  needs: 'nothing',
  options: [
    { flags: '--compiled', description: 'clear var/cache compiled artifacts (only them)' },
    { flags: '--all', description: 'clear cache pools and compiled artifacts' },
    { flags: '--pool <name>', description: 'clear one cache pool' },
  ],
  json: true,
  async handle({ cwd, options, ui, createApp }) {
    const result: { compiled: string[]; pools: string[] } = { compiled: [], pools: [] };
    const pool = options.pool === undefined ? undefined : String(options.pool);
    if (options.compiled || options.all) result.compiled = await clearCompiled(cwd);
    // Pools: by default, with --all, or the one --pool names; --compiled alone skips them
    // (and so works when the app cannot boot, which is when stale artifacts are suspect).
    if (!options.compiled || options.all || pool !== undefined) {
      const cleared = await clearPools({ cwd, createApp }, pool);
      if ('problem' in cleared) {
        ui.warn(cleared.problem);
        if (pool !== undefined) return 1;
      } else result.pools = cleared.pools;
    }
    ui.output(result, () => {
      const parts = [
        ...result.compiled.map((name) => `var/cache/${name}`),
        ...result.pools.map((name) => `pool ${name}`),
      ];
      ui.success(parts.length > 0 ? `cleared ${parts.join(', ')}` : 'nothing to clear');
    });
    return 0;
  },
});
