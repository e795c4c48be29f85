import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../../test/support/fixture-app.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { requireService } from '../../../test/support/services.js';
import { CacheProvider, resolveCacheConfig } from '../../cache/index.js';
import {
  collectMigrations,
  DatabaseProvider,
  MigrationRegistry,
  MigrationStateStore,
  Migrator,
} from '../../db/index.js';
import type { Application, HealthCheckRun } from '../../kernel/index.js';
import { LockProvider } from '../../locks/index.js';
import { Job, QueueProvider, resolveQueueConfig } from '../../queue/index.js';
import { describeTarget, redisTargets } from './checks/redis-check.js';
import { HealthProvider } from './health-provider.js';

const apps = providerApps([HealthProvider]);
const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

async function check(app: Application, name: string): Promise<HealthCheckRun> {
  const [run] = await app.health.run({ names: [name] });
  if (!run) throw new Error(`no check ${name}; registered: ${app.health.names().join(', ')}`);
  return run;
}

async function booted(
  files: Record<string, string>,
  providers: Parameters<typeof apps.create>[2] = [HealthProvider],
  env: Record<string, string> = {},
): Promise<Application> {
  const app = await apps.create(files, env, providers);
  await app.boot();
  return app;
}

const healthConfig = (checks: string) => `export default { checks: ${checks} };\n`;

describe('disk check', () => {
  it('is ok above the levels, warns and fails below them, on the real file system of var/', async () => {
    let app = await booted({});
    const ok = await check(app, 'disk');
    expect(ok.status).toBe('ok');
    // var/ does not exist yet: its nearest existing parent is measured.
    expect(ok.details).toMatchObject({
      freeBytes: expect.any(Number),
      totalBytes: expect.any(Number),
    });
    expect(ok.message).toMatch(/^[\d.]+ \w+ free of [\d.]+ \w+ \([\d.]+%\)$/);

    // Free space is always below 100% of the disk: a warning, not a failure.
    app = await booted({
      'config/health.ts': healthConfig(`{ disk: { warn: '100%', fail: '0%' } }`),
    });
    const warn = await check(app, 'disk');
    expect(warn.status).toBe('warn');
    expect(warn.message).toContain('(below the warn level)');

    // No disk has a petabyte free.
    app = await booted({ 'config/health.ts': healthConfig(`{ disk: { fail: '1024tb' } }`) });
    expect((await check(app, 'disk')).status).toBe('fail');

    app = await booted({ 'config/health.ts': healthConfig(`{ disk: { warn: 1, fail: 0 } }`) });
    expect((await check(app, 'disk')).status).toBe('ok');
  });

  it('fails (not throws) on a path it cannot measure, and can be turned off', async () => {
    let app = await booted({
      'config/health.ts': healthConfig(`{ disk: { path: 'var/\\u0000bad' } }`),
    });
    expect((await check(app, 'disk')).status).toBe('fail');
    app = await booted({ 'config/health.ts': healthConfig(`{ disk: false, memory: false }`) });
    expect(app.health.names()).toEqual([]);
  });
});

describe('memory check', () => {
  it('is ok under the default levels and not a readiness check', async () => {
    const app = await booted({});
    const run = await check(app, 'memory');
    expect(run.status).toBe('ok');
    expect(run.details).toMatchObject({
      rssBytes: expect.any(Number),
      heapUsedBytes: expect.any(Number),
      heapLimitBytes: expect.any(Number),
    });
    expect((await app.health.run({ readiness: true })).map((r) => r.name)).not.toContain('memory');
  });

  it('warns over the rss level and fails over the heap level, in bytes or shares', async () => {
    let app = await booted({
      'config/health.ts': healthConfig(`{ memory: { rss: { warn: '1kb' } } }`),
    });
    let run = await check(app, 'memory');
    expect(run.status).toBe('warn');
    expect(run.message).toContain('rss over the warn level');

    app = await booted({
      'config/health.ts': healthConfig(
        `{ memory: { rss: { warn: '1kb' }, heap: { fail: '0.0001%' } }, disk: false }`,
      ),
    });
    run = await check(app, 'memory');
    expect(run.status).toBe('fail');
    expect(run.message).toContain('heap over the fail level');
  });
});

describe('redis check', () => {
  it('names each Redis server once, with who uses it and never its password', () => {
    const targets = redisTargets({
      locks: {
        driver: 'redis',
        ttl: 30_000,
        maxPollMs: 250,
        database: {},
        redis: {
          url: 'redis://:s3cret@cache.internal:6380/2',
          host: '127.0.0.1',
          port: 6379,
          password: 's3cret',
          db: 2,
          prefix: 'x',
        },
      },
    });
    expect(targets).toHaveLength(1);
    expect(targets[0]!.usedBy).toEqual(['locks']);
    expect(describeTarget(targets[0]!)).toBe('cache.internal:6380/2');
    expect(describeTarget({ url: 'not a url', usedBy: [] })).toBe('an unparsable URL');
  });

  it('merges the users of one server however its URL is spelled, and keeps other servers apart', () => {
    const cache = resolveCacheConfig({
      default: 'tiered',
      stores: {
        redis: { driver: 'redis', url: 'redis://10.0.0.5:6379' },
        tiered: { driver: 'tiered', l2: 'redis', bus: { url: 'redis://10.0.0.6:6379/1' } },
      },
    });
    const queue = resolveQueueConfig(
      {
        default: 'redis',
        connections: { redis: { driver: 'redis', url: 'redis://10.0.0.5:6379/0' } },
      },
      () => undefined,
      false,
    );
    const targets = redisTargets({ cache, queue: { config: queue } });
    expect(targets.map((t) => [describeTarget(t), t.usedBy])).toEqual([
      ['10.0.0.5:6379/0', ['cache', 'queue']],
      ['10.0.0.6:6379/1', ['cache']],
    ]);
  });

  it('fails fast on a closed port, with the reason, as a readiness check', async () => {
    const app = await booted(
      {
        'config/locks.ts': `export default { driver: 'redis', redis: { url: 'redis://127.0.0.1:1/0' } };\n`,
      },
      [LockProvider, HealthProvider],
    );
    expect(app.health.names()).toContain('redis');
    const run = await check(app, 'redis');
    expect(run).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^127\.0\.0\.1:1\/0: .*(ECONNREFUSED|not connected|closed)/),
      details: { server: '127.0.0.1:1/0', usedBy: ['locks'] },
    });
    expect(run.message).not.toMatch(/timed out/);
    // Run again on the same client: still a clean failure.
    expect((await check(app, 'redis')).status).toBe('fail');
    const ready = await app.health.run({ readiness: true });
    expect(ready.find((r) => r.name === 'redis')?.status).toBe('fail');
  });

  it('is not registered when nothing uses Redis', async () => {
    const app = await booted({}, [CacheProvider, LockProvider, HealthProvider]);
    expect(app.health.names().some((name) => name.startsWith('redis'))).toBe(false);
  });

  it.runIf(hasRedis)('answers PONG from a live server, one check per distinct server', async () => {
    const app = await booted(
      {
        'config/cache.ts': `export default { default: 'redis', stores: { redis: { driver: 'redis', url: 'redis://127.0.0.1:6379/0' } } };\n`,
        'config/locks.ts': `export default { driver: 'redis', redis: { url: 'redis://127.0.0.1:1/0' } };\n`,
      },
      [CacheProvider, LockProvider, HealthProvider],
    );
    expect(app.health.names()).toEqual(
      expect.arrayContaining(['redis:cache', 'redis:locks', 'cache:redis', 'locks:redis']),
    );
    const cache = await check(app, 'redis:cache');
    expect(cache).toMatchObject({
      status: 'ok',
      message: expect.stringMatching(/^127\.0\.0\.1:6379\/0 answered PONG in [\d.]+ ms$/),
      details: { usedBy: ['cache'] },
    });
    expect((await check(app, 'redis:locks')).status).toBe('fail');
  });
});

class Mail extends Job<{ to: string }> {
  static override jobName = 'health-test:mail';
  handle(): void {}
}

describe('queue backlog check', () => {
  const QUEUE = { 'config/queue.ts': `export default { default: 'memory' };\n` };

  async function queueApp(checks: string): Promise<Application> {
    const app = await booted({ ...QUEUE, 'config/health.ts': healthConfig(checks) }, [
      QueueProvider,
      HealthProvider,
    ]);
    const queue = app.make('queue');
    queue.register(Mail);
    for (let i = 0; i < 3; i++) await queue.dispatch(new Mail({ to: `u${i}` })).onQueue('mail');
    await queue.dispatch(new Mail({ to: 'x' })).onQueue('reports');
    return app;
  }

  it('reports each queue and is ok under the levels', async () => {
    const app = await queueApp(`{ queue: { warn: { waiting: 10 } } }`);
    const run = await check(app, 'queue');
    expect(run.status).toBe('ok');
    expect(run.message).toBe('2 queue(s), 4 job(s) waiting');
    expect(run.details?.queues).toEqual(
      expect.arrayContaining([expect.objectContaining({ queue: 'mail', waiting: 3, ready: 3 })]),
    );
    // A backlog is no reason to stop sending HTTP traffic here: not a readiness check.
    expect((await app.health.run({ readiness: true })).some((r) => r.name === 'queue')).toBe(false);
  });

  it('warns and fails past the waiting and age levels, per queue', async () => {
    let app = await queueApp(`{ queue: { warn: { waiting: 2 } } }`);
    let run = await check(app, 'queue');
    expect(run.status).toBe('warn');
    expect(run.message).toContain('mail: 3 waiting (over 2)');

    app = await queueApp(
      `{ queue: { warn: { waiting: 2 }, queues: { mail: { fail: { waiting: 1 } } } } }`,
    );
    run = await check(app, 'queue');
    expect(run.status).toBe('fail');
    expect(run.message).toContain('mail: 3 waiting (over 1)');

    // Any job is older than 0 ms once time moves; wait until it has.
    app = await queueApp(`{ queue: { fail: { age: 0 } } }`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    run = await check(app, 'queue');
    expect(run.status).toBe('fail');
    expect(run.message).toMatch(/oldest ready job \d+ s old/);
  });

  it('watches a queue with its own levels even while it is empty, and skips the sync driver', async () => {
    const app = await queueApp(`{ queue: { queues: { invoices: { fail: { waiting: 0 } } } } }`);
    const run = await check(app, 'queue');
    expect(run.status).toBe('ok');
    expect(run.details?.queues).toEqual(
      expect.arrayContaining([expect.objectContaining({ queue: 'invoices', waiting: 0 })]),
    );
    const sync = await booted({ 'config/queue.ts': `export default { default: 'sync' };\n` }, [
      QueueProvider,
      HealthProvider,
    ]);
    expect(sync.health.names()).not.toContain('queue');
  });
});

describe('migrations check', () => {
  const MODULE = {
    'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
    'modules/shop/module.ts': moduleFile(
      `{ name: 'shop', version: '1.0.0', migrations: 'migrations' }`,
    ),
    'modules/shop/migrations/2026_01_01_000000_create_orders.ts': `export default {
  async up(db) { await db.schema.createTable('orders').addColumn('id', 'integer').execute(); },
  async down(db) { await db.schema.dropTable('orders').execute(); },
};\n`,
  };

  async function migrator(app: Application): Promise<Migrator> {
    const manager = app.make('db');
    return new Migrator({
      connection: manager.connection('default'),
      migrations: await collectMigrations({
        modules: app.modules,
        registry: app.container.bound('db.migrations')
          ? app.make('db.migrations')
          : new MigrationRegistry(),
        defaultConnection: manager.defaultName,
      }),
      state: new MigrationStateStore(join(app.paths.state, 'migrations.json')),
      root: app.paths.root,
    });
  }

  it('warns on a pending migration of a real SQLite app and is ok once migrated', async () => {
    const app = await booted(MODULE, [DatabaseProvider, HealthProvider]);
    const pending = await check(app, 'migrations');
    expect(pending).toMatchObject({
      status: 'warn',
      message: 'default: 1 pending (run `keel migrate`)',
      details: { default: { pending: 1 } },
    });
    await (await migrator(app)).migrate();
    expect(await check(app, 'migrations')).toMatchObject({
      status: 'ok',
      message: 'up to date on 1 connection(s)',
    });
  });

  it('fails on an UNSAFE connection and on a migration whose process died, warns while one runs', async () => {
    const app = await booted(MODULE, [DatabaseProvider, HealthProvider]);
    const state = new MigrationStateStore(join(app.paths.state, 'migrations.json'));
    await state.markUnsafe({
      reason: 'failed',
      migration: '2026_01_01_000000_create_orders',
      module: 'shop',
      connection: 'default',
      direction: 'up',
      error: 'syntax error',
      changes: 'partial',
    });
    const unsafe = await check(app, 'migrations');
    expect(unsafe.status).toBe('fail');
    expect(unsafe.message).toMatch(
      /^default is UNSAFE: 2026_01_01_000000_create_orders \(shop, up\) failed at /,
    );
    // It counts for readiness: a schema nobody can trust should not take traffic.
    expect(
      (await app.health.run({ readiness: true })).find((r) => r.name === 'migrations')?.status,
    ).toBe('fail');

    await mkdir(app.paths.state, { recursive: true });
    const running = (pid: number) =>
      JSON.stringify({
        version: 1,
        connections: {
          default: {
            running: {
              migration: '2026_01_01_000000_create_orders',
              module: 'shop',
              connection: 'default',
              direction: 'up',
              transactional: true,
              pid,
              host: hostname(),
              startedAt: new Date().toISOString(),
            },
          },
        },
      });
    await writeFile(state.file, running(process.pid));
    expect((await check(app, 'migrations')).status).toBe('warn');
    // No process has this pid (above the kernel's pid_max).
    await writeFile(state.file, running(2 ** 22 + 1));
    const dead = await check(app, 'migrations');
    expect(dead.status).toBe('fail');
    expect(dead.message).toContain('was interrupted');
  });

  it('fails on a corrupt state file, and is not registered without a database', async () => {
    const app = await booted(MODULE, [DatabaseProvider, HealthProvider]);
    await mkdir(app.paths.state, { recursive: true });
    await writeFile(join(app.paths.state, 'migrations.json'), '{ not json');
    expect(await check(app, 'migrations')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^E_MIGRATION_STATE_INVALID/),
    });
    const none = await booted({}, [DatabaseProvider, HealthProvider]);
    expect(none.health.names()).not.toContain('migrations');
  });
});
