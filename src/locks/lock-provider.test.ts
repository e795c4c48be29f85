import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../test/support/provider-app.js';
import { requireService } from '../../test/support/services.js';
import { DatabaseProvider } from '../db/index.js';
import { appMigrations, appMigrator } from '../db/migrations/index.js';
import type { Application } from '../kernel/index.js';
import { resolveLocksConfig } from './config.js';
import { LockProvider } from './lock-provider.js';

const apps = providerApps([DatabaseProvider, LockProvider]);
const create = apps.create;

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

describe('LockProvider', () => {
  it('binds a memory lock manager by default', async () => {
    const app = await create({});
    await app.boot();
    const locks = app.make('locks');
    expect(locks.store.driver).toBe('memory');
    expect(locks.defaultTtlMs).toBe(30_000);
    expect(await locks.lock('report').run(({ fencingToken }) => fencingToken)).toBe(1);
    // An in-memory store cannot be down: no readiness check for it.
    expect(app.health.names()).not.toContain('locks:memory');
  });

  it('uses the database driver from LOCK_DRIVER, with its framework migration', async () => {
    const app = await create(
      {
        'config/database.ts': `export default { default: 'main', connections: { main: { driver: 'sqlite', filename: 'var/data/main.sqlite' } } };\n`,
        'config/locks.ts': `export default { ttl: '5s' };\n`,
      },
      { LOCK_DRIVER: 'database' },
    );
    await app.boot();
    expect(
      app
        .make('db.migrations')
        .sources()
        .map((s) => s.module),
    ).toContain('keel:locks');
    const manager = app.make('db');
    const entries = await appMigrations(app, manager);
    await appMigrator(app, manager, entries, manager.defaultName).migrate();
    const locks = app.make('locks');
    expect(locks.store.driver).toBe('database');
    expect(locks.defaultTtlMs).toBe(5_000);
    const lock = locks.lock('invoice:1');
    expect(await lock.acquire()).toBe(1);
    expect(await locks.lock('invoice:1').acquire()).toBeNull();
    expect(await lock.release()).toBe(true);
    const runs = await app.health.run({ names: ['locks:database'] });
    expect(runs).toEqual([expect.objectContaining({ name: 'locks:database', status: 'ok' })]);
  });

  it.runIf(hasRedis)(
    'uses the redis driver, connecting lazily, and closes it at shutdown',
    async () => {
      const prefix = `keel:test:${randomBytes(5).toString('hex')}:`;
      const app = await create({
        'config/locks.ts': `export default { driver: 'redis', redis: { prefix: '${prefix}' } };\n`,
      });
      await app.boot();
      const locks = app.make('locks');
      expect(locks.store.driver).toBe('redis');
      const lock = locks.lock('job');
      expect(await lock.acquire()).toBe(1);
      expect(await lock.release()).toBe(true);
      expect(await locks.forceRelease('job')).toBe(false);
      // Leave nothing behind: the fencing counter is the only key.
      const { Redis } = await import('ioredis');
      const client = new Redis({ host: '127.0.0.1', port: 6379 });
      await client.del(`${prefix}fence:job`);
      await client.quit();
    },
  );

  it('refuses a bad LOCK_DRIVER, a bad config, or the database driver without a database', async () => {
    // E_APP_FAILED ← E_PROVIDER_FAILED ← the config error.
    const cause = async (app: Application): Promise<unknown> => {
      const error = await app.boot().catch((e: unknown) => e);
      return ((error as Error).cause as Error).cause;
    };
    expect(await cause(await create({}, { LOCK_DRIVER: 'zookeeper' }))).toMatchObject({
      code: 'E_LOCK_CONFIG_INVALID',
      message: expect.stringContaining('LOCK_DRIVER'),
    });
    const typo = await create({ 'config/locks.ts': `export default { drvier: 'redis' };\n` });
    expect(await cause(typo)).toMatchObject({ code: 'E_LOCK_CONFIG_INVALID' });
    const alone = await create({}, { LOCK_DRIVER: 'database' }, [LockProvider]);
    expect(await cause(alone)).toMatchObject({
      code: 'E_LOCK_CONFIG_INVALID',
      message: expect.stringContaining('DatabaseProvider'),
    });
  });
});

describe('resolveLocksConfig', () => {
  it('fills defaults, lets config win over LOCK_DRIVER, and names the bad path', () => {
    const env = (value?: string) => (name: string) => (name === 'LOCK_DRIVER' ? value : undefined);
    expect(resolveLocksConfig(undefined, env())).toMatchObject({
      driver: 'memory',
      ttl: 30_000,
      redis: { host: '127.0.0.1', port: 6379, prefix: 'keel:locks:' },
    });
    expect(resolveLocksConfig({}, env('redis')).driver).toBe('redis');
    expect(resolveLocksConfig({ driver: 'memory' }, env('redis')).driver).toBe('memory');
    expect(() => resolveLocksConfig({ ttl: '-1s' }, env())).toThrow(
      expect.objectContaining({ code: 'E_LOCK_CONFIG_INVALID' }),
    );
    expect(() => resolveLocksConfig({ redis: { port: 'x' } }, env())).toThrow(
      expect.objectContaining({
        code: 'E_LOCK_CONFIG_INVALID',
        message: expect.stringContaining('redis.port'),
      }),
    );
  });
});
