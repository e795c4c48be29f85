import { describe, expect, it } from 'vitest';
import { createFixtureApp, moduleFile } from '../../../test/support/fixture-app.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider } from '../../db/db-provider.js';
import type { Application, CommandUI } from '../../kernel/index.js';
import { runKeel } from '../../modules/commands/__fixtures__/cli-fixture.js';
import { CacheProvider } from '../cache-provider.js';
import type { CacheStatsReport } from '../cache-stats-report.js';
import type { CacheWarmerDefinition } from '../cache-warmers.js';
import { runCommand } from './__fixtures__/run-command.js';
import { cacheWarmCommand } from './cache-warm-command.js';

const apps = providerApps([DatabaseProvider, CacheProvider]);

async function booted(): Promise<Application> {
  const app = await apps.create({
    'config/cache.ts': `export default { pools: { reports: { store: 'file' } } };\n`,
  });
  await app.boot();
  return app;
}

/** The UI with its progress bars recorded as `label total: ticks…, done`. */
function recording(bars: string[]): (ui: CommandUI) => CommandUI {
  return (ui) =>
    new Proxy(ui, {
      get(target, key) {
        if (key === 'progress')
          return (total: number, label = '') => {
            const i = bars.push(`${label} ${total}:`) - 1;
            return {
              tick: (n = 1) => {
                bars[i] += ` ${n}`;
              },
              done: () => {
                bars[i] += ' done';
              },
            };
          };
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
}

/** A warmer that writes `keys` keys `<name>:<i>` and records that it ran. */
function writing(name: string, keys: number, ran: string[], pool?: string): CacheWarmerDefinition {
  return {
    name,
    ...(pool ? { pool } : {}),
    description: `${keys} keys`,
    async warm(cache, progress) {
      ran.push(name);
      progress.total(keys);
      for (let i = 0; i < keys; i++) {
        await cache.set(`${name}:${i}`, i);
        progress.tick();
      }
    },
  };
}

describe('cache warmers', () => {
  it('refuses duplicate names, bad names, a missing warm function and unknown pools', async () => {
    const cache = (await booted()).make('cache');
    cache.warmer(writing('catalog:products', 1, []));
    expect(() => cache.warmer(writing('catalog:products', 2, []))).toThrow(
      expect.objectContaining({
        code: 'E_CACHE_WARMER_DUPLICATE',
        message: 'A cache warmer named "catalog:products" is already registered',
      }),
    );
    for (const name of ['', ' x', '../etc', 'a b', 'x'.repeat(101), '-lead', 'é', 42, null]) {
      expect(() => cache.warmer({ name, warm: () => {} } as never), String(name)).toThrow(
        expect.objectContaining({ code: 'E_CACHE_WARMER_INVALID' }),
      );
    }
    expect(() => cache.warmer({ name: 'x', warm: 'no' } as never)).toThrow(
      expect.objectContaining({
        code: 'E_CACHE_WARMER_INVALID',
        message: 'Invalid cache warmer "x": `warm` is not a function',
      }),
    );
    for (const pool of ['nope', '__proto__', 'constructor']) {
      expect(() => cache.warmer({ name: 'y', pool, warm: () => {} })).toThrow(
        expect.objectContaining({ code: 'E_CACHE_POOL_NOT_FOUND' }),
      );
    }
    expect(cache.warmers.all().map((w) => w.name)).toEqual(['catalog:products']);
  });

  it('runs every warmer in registration order with a progress bar, into its pool', async () => {
    const app = await booted();
    const cache = app.make('cache');
    const ran: string[] = [];
    cache.warmer(writing('b:second', 3, ran, 'reports'));
    cache.warmer(writing('a:first', 2, ran));
    // No total announced, keys returned: no bar, the returned count.
    cache.warmer({ name: 'c:returns', pool: 'views', warm: () => 7 });
    const bars: string[] = [];
    const result = await runCommand(cacheWarmCommand, app, {}, true, recording(bars));
    expect(result.code).toBe(0);
    expect(ran).toEqual(['b:second', 'a:first']);
    expect(result.json).toEqual({
      warmers: [
        { name: 'b:second', pool: 'reports', ok: true, keys: 3, durationMs: expect.any(Number) },
        { name: 'a:first', pool: 'data', ok: true, keys: 2, durationMs: expect.any(Number) },
        { name: 'c:returns', pool: 'views', ok: true, keys: 7, durationMs: expect.any(Number) },
      ],
      failed: 0,
    });
    expect(bars).toEqual(['b:second 3: 1 1 1 done', 'a:first 2: 1 1 done']);
    expect(await cache.pool('reports').get('b:second:2')).toBe(2);
    expect(await cache.pool('data').get('a:first:1')).toBe(1);
    expect(await cache.pool('data').get('b:second:0')).toBeUndefined();
    const text = await runCommand(cacheWarmCommand, app, {}, false);
    expect(text.stdout).toMatch(/✔ b:second \(reports\): 3 key\(s\) in \d+ ms/);
    expect(text.stdout).toContain('3 of 3 warmer(s) done, 12 key(s) written');
  });

  it('filters by --pool and --only, and refuses unknown names before running any', async () => {
    const app = await booted();
    const cache = app.make('cache');
    const ran: string[] = [];
    cache.warmer(writing('one', 1, ran));
    cache.warmer(writing('two', 1, ran, 'reports'));
    cache.warmer(writing('three', 1, ran));
    await runCommand(cacheWarmCommand, app, { pool: 'data' });
    expect(ran.splice(0)).toEqual(['one', 'three']);
    await runCommand(cacheWarmCommand, app, { only: 'three, two' });
    expect(ran.splice(0)).toEqual(['two', 'three']);
    await runCommand(cacheWarmCommand, app, { only: 'one,two', pool: 'reports' });
    expect(ran.splice(0)).toEqual(['two']);
    const unknown = await runCommand(cacheWarmCommand, app, { only: 'one,nope' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No cache warmer named "nope"; registered: one, two, three');
    const pool = await runCommand(cacheWarmCommand, app, { pool: 'missing' });
    expect(pool.code).toBe(1);
    expect(pool.stderr).toContain('No cache pool named "missing"');
    const none = await runCommand(cacheWarmCommand, app, { pool: 'views' }, false);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no cache warmers for pool "views"');
    expect(ran).toEqual([]);
  });

  it('goes on after a failing warmer and exits 1, naming it', async () => {
    const app = await booted();
    const cache = app.make('cache');
    const ran: string[] = [];
    cache.warmer({
      name: 'broken',
      async warm(pool, progress) {
        await pool.set('half', 1);
        progress.tick();
        throw new Error('the catalog database is down');
      },
    });
    cache.warmer({
      name: 'throws-non-error',
      warm: () => {
        throw 'a string';
      },
    });
    cache.warmer(writing('fine', 2, ran));
    const result = await runCommand(cacheWarmCommand, app);
    expect(result.code).toBe(1);
    expect(ran).toEqual(['fine']);
    expect(result.json).toMatchObject({
      warmers: [
        { name: 'broken', ok: false, keys: 1, error: 'the catalog database is down' },
        { name: 'throws-non-error', ok: false, keys: 0, error: 'a string' },
        { name: 'fine', ok: true, keys: 2 },
      ],
      failed: 2,
    });
    const text = await runCommand(cacheWarmCommand, app, {}, false);
    expect(text.stderr).toContain('broken (data) failed after');
    expect(text.stderr).toContain(
      '1 of 3 warmer(s) done, 3 key(s) written; failed: broken, throws-non-error',
    );
  });

  it('--list shows the warmers without running them; none registered is no failure', async () => {
    const app = await booted();
    const empty = await runCommand(cacheWarmCommand, app, {}, false);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('no cache warmers are registered');
    const ran: string[] = [];
    app.make('cache').warmer(writing('one', 4, ran, 'views'));
    const list = await runCommand(cacheWarmCommand, app, { list: true });
    expect(list.json).toEqual({ warmers: [{ name: 'one', pool: 'views', description: '4 keys' }] });
    expect(ran).toEqual([]);
  });
});

describe('keel cache:warm and cache:stats', () => {
  it('runs the warmers a module registers at boot; cache:stats then shows their writes', async () => {
    const fixture = await createFixtureApp({
      'keel.config.ts': `import { defineApp } from '{{keel}}';\nexport default defineApp({ name: 'warm' });\n`,
      'modules/catalog/module.ts': moduleFile(`{
  name: 'catalog',
  version: '1.0.0',
  providers: async () => [(await import('./catalog-provider.ts')).CatalogProvider],
}`),
      'modules/catalog/catalog-provider.ts': `import { ServiceProvider } from '{{keel}}';
export class CatalogProvider extends ServiceProvider {
  boot() {
    this.app.make('cache').warmer({
      name: 'catalog:categories',
      async warm(cache, progress) {
        progress.total(3);
        for (const id of [1, 2, 3]) { await cache.set('category:' + id, { id }); progress.tick(); }
      },
    });
  }
}
`,
    });
    try {
      const list = await runKeel(fixture.root, 'cache:warm', '--list', '--json');
      expect(list.json()).toEqual({
        warmers: [{ name: 'catalog:categories', pool: 'data', description: '' }],
      });
      const stats = () => runKeel(fixture.root, 'cache:stats', '--json');
      // Booting for the list used no pool: nothing recorded.
      expect((await stats()).json<CacheStatsReport>().pools).toEqual([]);
      const warm = await runKeel(fixture.root, 'cache:warm', '--json');
      expect(warm.code).toBe(0);
      expect(warm.json()).toMatchObject({ warmers: [{ keys: 3, ok: true }], failed: 0 });
      // The warm run wrote its counters at shutdown; cache:stats reads them back.
      const report = (await stats()).json<CacheStatsReport>();
      expect(report.pools).toMatchObject([{ pool: 'data', writes: 3, processes: 1 }]);
    } finally {
      await fixture.cleanup();
    }
  });
});
