import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../test/support/fixture-app.js';
import { providerApps } from '../../test/support/provider-app.js';
import type { Application } from '../kernel/index.js';
import { currentDatabaseManager, db } from './database-manager.js';
import { DatabaseProvider } from './db-provider.js';

const apps = providerApps([DatabaseProvider]);

async function boot(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<Application> {
  const app = await apps.create(files, env);
  await app.boot();
  return app;
}

describe('DatabaseProvider', () => {
  it('loads nothing for an application without a database', async () => {
    const app = await boot({});
    expect(app.container.bound('db')).toBe(false);
    expect(app.health.names()).toEqual([]);
    expect(() => db()).toThrow(expect.objectContaining({ code: 'E_DB_NOT_CONFIGURED' }));
  });

  it('serves the config’s connections through app.make("db") and db(), with health checks', async () => {
    const app = await boot({
      'config/database.ts': `export default {
        connections: { default: { driver: 'sqlite', filename: 'var/data/main.sqlite' }, audit: { driver: 'sqlite', filename: ':memory:' } },
      };\n`,
    });
    const manager = app.make('db');
    expect(manager.names()).toEqual(['default', 'audit']);
    expect(db()).toBe(manager.connection('default'));
    expect(db('audit').dialect).toBe('sqlite');
    expect(() => db('reprting')).toThrow(
      expect.objectContaining({ code: 'E_DB_CONNECTION_NOT_FOUND' }),
    );
    // Nothing was opened by booting: the SQLite file appears on the first query.
    expect(existsSync(join(app.paths.root, 'var/data/main.sqlite'))).toBe(false);
    const runs = await app.health.run();
    expect(runs.map((r) => [r.name, r.status])).toEqual([
      ['db:default', 'ok'],
      ['db:audit', 'ok'],
    ]);
    expect(existsSync(join(app.paths.root, 'var/data/main.sqlite'))).toBe(true);
    const main = manager.connection('default');
    await app.shutdown();
    expect(currentDatabaseManager()).toBeUndefined();
    expect(main.closed).toBe(true);
    expect(() => manager.connection('audit')).toThrow(
      expect.objectContaining({ code: 'E_DB_CLOSED' }),
    );
  });

  it('takes the default connection from DB_* variables, or from a module with migrations', async () => {
    const fromEnv = await boot({}, { DB_DRIVER: 'sqlite', DB_FILENAME: 'var/data/env.sqlite' });
    expect(fromEnv.make('db').config.connections.default).toMatchObject({
      driver: 'sqlite',
      filename: 'var/data/env.sqlite',
    });
    await fromEnv.shutdown();
    const fromModule = await boot({
      'modules/shop/module.ts': moduleFile(
        `{ name: 'shop', version: '1.0.0', migrations: 'migrations' }`,
      ),
      'modules/shop/migrations/.gitkeep': '',
    });
    expect(fromModule.make('db').config.connections.default).toMatchObject({
      driver: 'sqlite',
      filename: 'var/data/app.sqlite',
    });
  });

  it('fails the boot on an invalid config, naming the path', async () => {
    const error = await boot({
      'config/database.ts': `export default { connections: { default: { driver: 'oracle' } } };\n`,
    }).catch((e: unknown) => e);
    // E_APP_FAILED ← E_PROVIDER_FAILED ← the config error.
    const cause = ((error as Error).cause as Error).cause;
    expect(cause).toMatchObject({ code: 'E_DB_CONFIG_INVALID' });
    expect((cause as Error).message).toContain('connections.default');
  });

  it('reports a failing connection as a failed health check, not an exception', async () => {
    const app = await boot({
      'config/database.ts': `export default {
        connections: { default: { driver: 'postgres', host: '127.0.0.1', port: 1, database: 'x', pool: { acquireTimeoutMs: 2000 } } },
      };\n`,
    });
    const [run] = await app.health.run();
    expect(run).toMatchObject({ name: 'db:default', status: 'fail' });
    expect(run?.message).toMatch(/^E_DB_CONNECTION_FAILED/);
  });
});
