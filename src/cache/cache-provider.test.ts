import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../test/support/provider-app.js';
import { ConsoleUI } from '../cli/index.js';
import { cacheClearCommand } from '../compiler/commands/index.js';
import { DatabaseProvider } from '../db/db-provider.js';
import type { Application, CommandContext } from '../kernel/index.js';
import { CACHE_MIGRATION_NAME, CacheProvider } from './cache-provider.js';
import { cacheGcCommand } from './commands/index.js';

const apps = providerApps([DatabaseProvider, CacheProvider]);
const fixture = apps.fixture;
const create = (root: string, env: Record<string, string> = {}) => apps.create(root, env);

/** Run a command's handle with a JSON console; resolves to its exit code and output. */
async function run(
  command: typeof cacheClearCommand,
  ctx: Partial<CommandContext>,
): Promise<{ code: number | undefined; json: unknown; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  stderr.on('data', (chunk) => {
    err += String(chunk);
  });
  const ui = new ConsoleUI({ json: true, stdout, stderr, colors: false });
  const code = await command.handle({
    app: undefined,
    cwd: '',
    args: {},
    options: {},
    verbose: false,
    ui,
    ...ctx,
  } as CommandContext<never>);
  return { code, json: out.trim() === '' ? undefined : JSON.parse(out), stderr: err };
}

describe('CacheProvider', () => {
  it('binds the pools from config/cache.ts and CACHE_* env, with a memo per scope', async () => {
    const { root } = await fixture({
      'config/cache.ts': `export default { pools: { reports: { store: 'file', ttl: '1h' } } };\n`,
    });
    const app = await create(root, { CACHE_PREFIX: 'shop' });
    await app.boot();
    const cache = app.make('cache');
    expect(cache.names()).toContain('reports');
    expect(cache.pool('reports').prefix).toBe('shop:reports:');
    await cache.pool('reports').set('k', new Date(5));
    expect(await cache.pool('reports').get('k')).toEqual(new Date(5));
    const one = app.container.createScope('request');
    const two = app.container.createScope('request');
    expect(one.make('cache.scope')).toBe(one.make('cache.scope'));
    expect(one.make('cache.scope')).not.toBe(two.make('cache.scope'));
    // The default pool's store is in memory here: nothing that could be down.
    expect(app.health.names().filter((n) => n.startsWith('cache'))).toEqual([]);
  });

  it('checks a store outside the process for readiness with a round trip', async () => {
    const { root } = await fixture({
      'config/cache.ts': `export default { default: 'file' };
`,
    });
    const app = await create(root);
    await app.boot();
    expect(await app.health.run()).toEqual([
      expect.objectContaining({ name: 'cache:file', status: 'ok' }),
    ]);
  });

  it('fails the boot on a broken cache config', async () => {
    const { root } = await fixture({ 'config/cache.ts': `export default { default: 'nope' };\n` });
    const error = await create(root)
      .then((app) => app.boot())
      .catch((e: unknown) => e);
    // E_APP_FAILED ← E_PROVIDER_FAILED ← the config error.
    expect(((error as Error).cause as Error).cause).toMatchObject({
      code: 'E_CACHE_CONFIG_INVALID',
    });
  });

  it('registers the keel_cache migration only when a pool uses the database store', async () => {
    const plain = await create((await fixture()).root);
    await plain.boot();
    expect(plain.make('db.migrations').sources()).toEqual([]);
    const { root } = await fixture();
    const app = await create(root, { CACHE_DRIVER: 'database' });
    await app.boot();
    const [source] = app.make('db.migrations').sources();
    expect(source?.module).toBe('keel:cache');
    expect(Object.keys((source as { migrations: object }).migrations)).toEqual([
      CACHE_MIGRATION_NAME,
    ]);
  });
});

describe('cache:clear and cache:gc', () => {
  async function seeded(): Promise<{ root: string; createApp: () => Promise<Application> }> {
    const { root } = await fixture({
      'config/cache.ts': `export default { default: 'file' };\n`,
    });
    await mkdir(join(root, 'var/cache'), { recursive: true });
    await writeFile(join(root, 'var/cache/modules.json'), '{}');
    const app = await create(root);
    await app.boot();
    await app.make('cache').pool('data').set('k', 1);
    await app.make('cache').pool('views').set('k', 2);
    await app.make('cache').pool('views').set('old', 3, 0.001);
    return { root, createApp: () => create(root) };
  }

  async function pools(root: string): Promise<[unknown, unknown]> {
    const app = await create(root);
    await app.boot();
    const cache = app.make('cache');
    return [await cache.pool('data').get('k'), await cache.pool('views').get('k')];
  }

  it('clears one pool with --pool and refuses an unknown pool', async () => {
    const { root, createApp } = await seeded();
    const result = await run(cacheClearCommand, {
      cwd: root,
      createApp,
      options: { pool: 'data' },
    });
    expect(result).toMatchObject({ code: 0, json: { pools: ['data'], compiled: [] } });
    expect(await pools(root)).toEqual([undefined, 2]);
    const unknown = await run(cacheClearCommand, {
      cwd: root,
      createApp,
      options: { pool: 'nope' },
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('cache pool "nope" is not configured');
  });

  it('clears every pool by default, the compiled artifacts with --compiled, both with --all', async () => {
    const { root, createApp } = await seeded();
    const compiled = await run(cacheClearCommand, {
      cwd: root,
      createApp,
      options: { compiled: true },
    });
    expect(compiled.json).toMatchObject({ compiled: ['modules.json'], pools: [] });
    expect(await pools(root)).toEqual([1, 2]);
    const all = await run(cacheClearCommand, { cwd: root, createApp });
    expect((all.json as { pools: string[] }).pools).toEqual(['config', 'runtime', 'views', 'data']);
    expect(await pools(root)).toEqual([undefined, undefined]);
    await writeFile(join(root, 'var/cache/routes.json'), '{}');
    const both = await run(cacheClearCommand, { cwd: root, createApp, options: { all: true } });
    expect(both.json).toMatchObject({
      compiled: ['routes.json'],
      pools: ['config', 'runtime', 'views', 'data'],
    });
  });

  it('removes expired file entries with cache:gc', async () => {
    const { root } = await seeded();
    await new Promise((r) => setTimeout(r, 5));
    const app = await create(root);
    await app.boot();
    const result = await run(cacheGcCommand as typeof cacheClearCommand, { app: app as never });
    expect(result).toMatchObject({ code: 0, json: { removed: { file: 1 } } });
  });
});
