import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { CacheProvider } from '../../cache/cache-provider.js';
import { createCacheTable } from '../../cache/migrations/create-cache-table.js';
import { ConsoleUI } from '../../cli/index.js';
import { DatabaseProvider } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import type { Application, CommandContext } from '../../kernel/index.js';
import { LockProvider } from '../lock-provider.js';
import { locksPruneCommand } from './locks-prune-command.js';

const apps = providerApps([DatabaseProvider, CacheProvider, LockProvider]);

/** Run the command with a JSON console: its exit code and what it printed. */
async function run(
  app: Application,
  options: Record<string, unknown> = {},
): Promise<{ code: number | undefined; json: unknown }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  const ui = new ConsoleUI({ json: true, stdout, stderr: new PassThrough(), colors: false });
  const code = await locksPruneCommand.handle({
    app,
    cwd: '',
    args: {},
    options,
    verbose: false,
    ui,
  } as unknown as CommandContext<Application>);
  return { code, json: out.trim() === '' ? undefined : JSON.parse(out) };
}

const DATABASE = `export default { default: 'main', connections: {
  main: { driver: 'sqlite', filename: 'var/data/main.sqlite' },
  cache: { driver: 'sqlite', filename: 'var/data/cache.sqlite' },
} };\n`;

async function migrated(app: Application): Promise<void> {
  const manager = app.make('db');
  const entries = await appMigrations(app, manager);
  for (const name of manager.names()) await appMigrator(app, manager, entries, name).migrate();
}

describe('locks:prune', () => {
  it('prunes keel_locks of the lock store and of the cache stampede guard, keeping tokens increasing', async () => {
    const app = await apps.create({
      'config/database.ts': DATABASE,
      'config/locks.ts': `export default { driver: 'database' };\n`,
      'config/cache.ts': `export default { stores: { db: { driver: 'database', connection: 'cache' } }, pools: { reports: { store: 'db' } } };\n`,
    });
    await app.boot();
    const modules = app
      .make('db.migrations')
      .sources()
      .map((s) => [s.module, s.connection]);
    expect(modules).toContainEqual(['keel:locks', undefined]);
    expect(modules).toContainEqual(['keel:cache-locks:cache', 'cache']);
    await migrated(app);
    // keel:cache registers keel_cache on the default connection only: make it on `cache`.
    await createCacheTable.up(app.make('db').connection('cache').kysely as never);

    const locks = app.make('locks');
    for (let i = 0; i < 3; i++) await locks.lock('invoice:1').run(() => undefined);
    await locks.lock('held').acquire();
    // The guarded remember took (and freed) a lock in keel_locks on the cache connection.
    expect(
      await app
        .make('cache')
        .pool('reports')
        .remember('r', 60, () => 'v'),
    ).toBe('v');

    const { code, json } = await run(app);
    expect(code).toBe(0);
    expect(json).toEqual({
      connections: [
        { connection: 'cache', removed: 1 },
        { connection: 'main', removed: 1 },
      ],
    });
    expect(await locks.lock('invoice:1').run(({ fencingToken }) => fencingToken)).toBe(4);
    expect(await locks.lock('held').isLocked()).toBe(true);
    expect((await run(app, { connection: 'main' })).json).toEqual({
      connections: [{ connection: 'main', removed: 1 }],
    });
  });

  it('refuses a bad --older-than with its code, and reports a connection without the table', async () => {
    const app = await apps.create({
      'config/database.ts': DATABASE,
      'config/locks.ts': `export default { driver: 'database' };\n`,
    });
    await app.boot();
    await expect(run(app, { olderThan: 'soon' })).rejects.toMatchObject({
      code: 'E_LOCK_INVALID_TTL',
    });
    // Not migrated: the table is missing; the command says so and fails.
    const { code, json } = await run(app);
    expect(code).toBe(1);
    expect(json).toEqual({
      connections: [
        { connection: 'main', removed: 0, error: expect.stringContaining('keel_locks') },
      ],
    });
  });

  it('fails without a database', async () => {
    const app = await apps.create({}, {}, [LockProvider]);
    await app.boot();
    expect((await run(app)).code).toBe(1);
  });
});
