import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../test/support/fixture-app.js';
import { providerApps } from '../../test/support/provider-app.js';
import { requireService } from '../../test/support/services.js';
import { runCommand } from '../cache/commands/__fixtures__/run-command.js';
import { DatabaseProvider } from '../db/index.js';
import { appMigrations, appMigrator } from '../db/migrations/index.js';
import { HttpProvider } from '../http/index.js';
import { generateAppKey } from '../kernel/index.js';
import { MetricsProvider } from '../observability/metrics/metrics-provider.js';
import { EncryptionProvider } from '../security/encryption/index.js';
import { sessionCleanupCommand } from './commands/session-cleanup-command.js';
import { E_SESSION_CONFIG_INVALID } from './errors.js';
import { SESSIONS_TABLE } from './migrations/create-sessions-table.js';
import { generateSessionId } from './session-id.js';
import { SessionManager } from './session-manager.js';
import { SessionProvider } from './session-provider.js';

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

const apps = providerApps([HttpProvider, DatabaseProvider, EncryptionProvider, SessionProvider]);

const FILES = {
  'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
  'modules/shop/module.ts': moduleFile(
    `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
  ),
  'modules/shop/routes.ts': `
export default (router) => {
  router.get('/login/:id', (ctx) => { ctx.session.regenerate().setUser(ctx.params.id); return { id: ctx.session.id }; })
    .middleware(['session']);
};
`,
};

function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}

async function bootFailure(env: Record<string, string>, files: Record<string, string> = {}) {
  const app = await apps.create({ ...FILES, ...files }, { APP_KEY: generateAppKey(), ...env });
  return rootCause(
    await app.boot().then(
      () => undefined,
      (error: unknown) => error,
    ),
  );
}

async function cookieOf(app: Awaited<ReturnType<typeof apps.create>>, url: string) {
  const res = await app.make('http').inject({ url, headers: { 'user-agent': 'curl/8.0' } });
  return String(res.headers['set-cookie']).split(';')[0] as string;
}

describe('SessionProvider', () => {
  it('binds session.manager on the file store by default', async () => {
    const app = await apps.create(FILES, { APP_KEY: generateAppKey() });
    await app.boot();
    const manager = app.make('session.manager');
    expect(manager).toBeInstanceOf(SessionManager);
    expect(manager.store.driver).toBe('file');
    expect(manager.lifetime).toEqual({ idleMs: 120 * 60_000, absoluteMs: 12 * 3_600_000 });
  });

  it('refuses a broken config at boot, naming the key', async () => {
    const cases: Array<[Record<string, string>, Record<string, string>, string]> = [
      [{ SESSION_DRIVER: 'mongo' }, {}, 'session.driver'],
      [{ SESSION_LIFETIME: 'two hours' }, {}, 'session.lifetime'],
      [{ SESSION_SECURE_COOKIE: 'maybe' }, {}, 'session.cookie.secure'],
      [{ SESSION_COOKIE: 'bad name;' }, {}, 'session.cookie.name'],
      [
        {},
        { 'config/session.ts': `export default { absoluteLifetime: 'forever' };` },
        'session.absoluteLifetime',
      ],
      [
        {},
        { 'config/session.ts': `export default { cookie: { sameSite: 'none' } };` },
        'session.cookie.sameSite',
      ],
      [
        {},
        { 'config/session.ts': `export default { cookie: { name: '__Host-x' } };` },
        'session.cookie.name',
      ],
      [{}, { 'config/session.ts': `export default { drivr: 'file' };` }, '(root)'],
    ];
    for (const [env, files, key] of cases) {
      const failure = await bootFailure(env, files);
      expect(E_SESSION_CONFIG_INVALID.is(failure), `${key}: ${String(failure)}`).toBe(true);
      expect((failure as Error).message).toContain(key);
    }
  });

  it('creates the sessions table through migrations and stores hashed ids (database driver)', async () => {
    const app = await apps.create(FILES, { APP_KEY: generateAppKey(), SESSION_DRIVER: 'database' });
    await app.boot();
    const db = app.make('db');
    await appMigrator(app, db, await appMigrations(app, db), db.defaultName).migrate();
    await app.start();
    const cookie = await cookieOf(app, '/login/5');
    const id = cookie.split('=')[1] as string;
    const rows = (await db.connection().selectFrom(SESSIONS_TABLE).selectAll().execute()) as Array<{
      id: string;
      user_id: string;
      user_agent: string;
    }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).not.toBe(id);
    expect(rows[0]?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.user_id).toBe('5');
    expect(rows[0]?.user_agent).toBe('curl/8.0');
    const listed = await app.make('session.manager').forUser(5, id);
    expect(listed.map((s) => [s.current, s.device])).toEqual([[true, 'curl']]);
  });

  it('session:cleanup removes expired sessions and reports the count', async () => {
    const app = await apps.create(FILES, { APP_KEY: generateAppKey(), SESSION_DRIVER: 'file' });
    await app.boot();
    await app.start();
    const live = await cookieOf(app, '/login/1');
    const manager = app.make('session.manager');
    const now = Date.now();
    const old = (lastActivity: number, createdAt = lastActivity) => ({
      data: { a: 1 },
      flash: { new: [], old: [] },
      userId: '2',
      ip: null,
      userAgent: null,
      createdAt,
      lastActivity,
    });
    await manager.store.write(generateSessionId(), old(now - 121 * 60_000));
    await manager.store.write(generateSessionId(), old(now - 60_000, now - 13 * 3_600_000));
    expect((await runCommand(sessionCleanupCommand, app)).json).toEqual({
      driver: 'file',
      removed: 2,
    });
    expect((await runCommand(sessionCleanupCommand, app)).json).toEqual({
      driver: 'file',
      removed: 0,
    });
    expect(await manager.forUser(1)).toHaveLength(1);
    expect((await manager.start(live.split('=')[1])).isNew).toBe(false);
  });

  it('session:cleanup says so when sessions are not configured', async () => {
    const app = await apps.create(FILES, {}, [HttpProvider]);
    await app.boot();
    expect((await runCommand(sessionCleanupCommand, app, {}, false)).code).toBe(1);
  });

  it('exports keel_sessions_active when metrics are on (memory driver)', async () => {
    const app = await apps.create(FILES, { APP_KEY: generateAppKey(), SESSION_DRIVER: 'memory' }, [
      HttpProvider,
      DatabaseProvider,
      EncryptionProvider,
      SessionProvider,
      MetricsProvider,
    ]);
    await app.boot();
    await app.start();
    await cookieOf(app, '/login/1');
    await cookieOf(app, '/login/2');
    const text = await app.make('metrics').metrics();
    expect(text).toMatch(/^keel_sessions_active 2$/m);
  });

  it.runIf(hasRedis)(
    'runs on Redis with its own key prefix, and closes the client on shutdown',
    async () => {
      const prefix = `keel_t_${randomBytes(4).toString('hex')}:`;
      const app = await apps.create(
        { ...FILES, 'config/session.ts': `export default { redis: { prefix: '${prefix}' } };` },
        { APP_KEY: generateAppKey(), SESSION_DRIVER: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' },
      );
      await app.boot();
      await app.start();
      const cookie = await cookieOf(app, '/login/9');
      const id = cookie.split('=')[1] as string;
      const listed = await app.make('session.manager').forUser('9', id);
      expect(listed).toHaveLength(1);
      expect(await app.make('session.manager').countActive()).toBe(1);
      const client = new Redis({ host: '127.0.0.1', port: 6379 });
      try {
        const keys = await client.keys(`${prefix}*`);
        expect(keys.sort()).toEqual(
          [`${prefix}active`, `${prefix}s:${listed[0]?.handle}`, `${prefix}u:9`].sort(),
        );
        await app.shutdown();
        await client.del(...keys);
      } finally {
        await client.quit();
      }
    },
  );
});
