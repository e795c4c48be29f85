import type { Application, CommandUI } from '../../kernel/index.js';
import { defineCommand } from '../../kernel/index.js';
import { isKeelError } from '../../support/index.js';
import type { CacheWarmer, CacheWarmResult } from '../cache-warmers.js';

/**
 * `keel cache:warm [--pool name] [--only a,b] [--list]`: run the cache warmers modules
 * registered (`app.make('cache').warmer(...)`), in registration order, with a progress bar
 * for each warmer that announces its total. A failing warmer is reported and the next one
 * runs; the command exits 1 when any failed. Run it after a deploy or a `cache:clear`.
 */
export const cacheWarmCommand = defineCommand<Application>({
  name: 'cache:warm',
  description: 'Run the cache warmers modules registered (all, one pool, or the ones named)',
  options: [
    { flags: '--pool <name>', description: 'only the warmers of this pool' },
    { flags: '--only <names>', description: 'only these warmers (comma-separated names)' },
    { flags: '--list', description: 'list the warmers instead of running them' },
  ],
  json: true,
  async handle({ app, options, ui }) {
    if (!app.container.bound('cache')) {
      ui.warn('no cache is configured (the CacheProvider is not registered)');
      return 1;
    }
    const cache = app.make('cache');
    const pool = options.pool === undefined ? undefined : String(options.pool);
    const only =
      options.only === undefined
        ? undefined
        : String(options.only)
            .split(',')
            .map((name) => name.trim())
            .filter((name) => name !== '');
    const filter = { ...(pool !== undefined ? { pool } : {}), ...(only ? { only } : {}) };
    let selected: CacheWarmer[];
    try {
      selected = cache.warmers.select(filter);
    } catch (error) {
      if (!isKeelError(error)) throw error;
      ui.error(error.message);
      return 1;
    }
    if (options.list) {
      const warmers = selected.map(({ name, pool, description }) => ({
        name,
        pool,
        description: description ?? '',
      }));
      ui.output({ warmers }, () => ui.table(warmers, ['name', 'pool', 'description']));
      return 0;
    }
    if (selected.length === 0) {
      ui.output({ warmers: [] }, () =>
        ui.info(
          cache.warmers.all().length === 0
            ? "no cache warmers are registered (modules register them with app.make('cache').warmer() in a provider's boot)"
            : `no cache warmers for pool "${pool}"`,
        ),
      );
      return 0;
    }
    const bars = new Map<string, ReturnType<typeof ui.progress>>();
    const results = await cache.warm({
      ...filter,
      observer: {
        total: (warmer, keys) => {
          bars.get(warmer.name)?.done();
          bars.set(warmer.name, ui.progress(keys, warmer.name));
        },
        tick: (warmer, keys) => bars.get(warmer.name)?.tick(keys),
        finish: (result) => {
          bars.get(result.name)?.done();
          bars.delete(result.name);
          if (!ui.json) report(ui, result);
        },
      },
    });
    const failed = results.filter((r) => !r.ok);
    ui.output({ warmers: results.map(plain), failed: failed.length }, () => {
      const keys = results.reduce((sum, r) => sum + r.keys, 0);
      const summary = `${results.length - failed.length} of ${results.length} warmer(s) done, ${keys} key(s) written`;
      if (failed.length > 0)
        ui.error(`${summary}; failed: ${failed.map((r) => r.name).join(', ')}`);
      else ui.success(summary);
    });
    return failed.length > 0 ? 1 : 0;
  },
});

function report(ui: CommandUI, r: CacheWarmResult): void {
  const where = `${r.name} ${ui.dim(`(${r.pool})`)}`;
  const time = `${Math.round(r.durationMs)} ms`;
  if (r.ok) ui.success(`${where}: ${r.keys} key(s) in ${time}`);
  else ui.error(`${where} failed after ${time} (${r.keys} key(s) written): ${message(r.error)}`);
}

function plain(r: CacheWarmResult): Record<string, unknown> {
  return {
    name: r.name,
    pool: r.pool,
    ok: r.ok,
    keys: r.keys,
    durationMs: Math.round(r.durationMs),
    ...(r.ok ? {} : { error: message(r.error) }),
  };
}

function message(error: unknown): string {
  if (isKeelError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
