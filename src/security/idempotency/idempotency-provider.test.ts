import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { requireService } from '../../../test/support/services.js';
import { ConsoleUI } from '../../cli/index.js';
import { DatabaseProvider } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { HttpProvider } from '../../http/index.js';
import type { Application, CommandContext } from '../../kernel/index.js';
import { MetricsProvider } from '../../observability/metrics/index.js';
import type { Constructor } from '../../support/index.js';
import { idempotencyPruneCommand } from './commands/idempotency-prune-command.js';
import { IdempotencyProvider, type IdempotencyService } from './idempotency-provider.js';

const apps = providerApps([HttpProvider, DatabaseProvider, IdempotencyProvider]);
const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

const DATABASE = `export default { default: 'main', connections: {
  main: { driver: 'sqlite', filename: 'var/data/main.sqlite' },
} };\n`;

/** Register, add an `idempotent` route, start, and migrate the app's database if it has one. */
async function started(
  files: Record<string, string>,
  env: Record<string, string> = {},
  alias = 'idempotent:required',
  providers?: Constructor[],
): Promise<{ app: Application; calls: () => number }> {
  const app = await apps.create(files, env, providers);
  app.register();
  let calls = 0;
  app
    .make('http')
    .router.post('/payments', () => ({ payment: ++calls }))
    .middleware([alias]);
  await app.start();
  if (app.container.bound('db')) {
    const manager = app.make('db');
    const entries = await appMigrations(app, manager);
    for (const name of manager.names()) await appMigrator(app, manager, entries, name).migrate();
  }
  return { app, calls: () => calls };
}

function pay(app: Application, key?: string) {
  return app.make('http').inject({
    method: 'POST',
    url: '/payments',
    headers: key === undefined ? {} : { 'idempotency-key': key },
    payload: { amount: 10 },
  });
}

/** The E_IDEMPOTENCY_* error `fn` throws, under the app's E_APP_FAILED / E_PROVIDER_FAILED wrappers. */
function idempotencyError(fn: () => void): unknown {
  try {
    fn();
  } catch (thrown) {
    for (let error: unknown = thrown; error instanceof Error; error = error.cause)
      if (String((error as { code?: unknown }).code).startsWith('E_IDEMPOTENCY_')) return error;
    return thrown;
  }
  return undefined;
}

async function prune(app: Application): Promise<{ code: number | undefined; json: unknown }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  const ui = new ConsoleUI({ json: true, stdout, stderr: new PassThrough(), colors: false });
  const code = await idempotencyPruneCommand.handle({
    app,
    cwd: '',
    args: {},
    options: {},
    verbose: false,
    ui,
  } as unknown as CommandContext<Application>);
  return { code, json: out.trim() === '' ? undefined : JSON.parse(out) };
}

describe('IdempotencyProvider', () => {
  it('uses the database by default when the app has one and configures idempotency: migration, alias, replay, prune', async () => {
    const { app, calls } = await started({
      'config/database.ts': DATABASE,
      'config/security.ts': 'export default { idempotency: { retention: "24h" } };\n',
    });
    expectTypeOf(app.make('idempotency')).toEqualTypeOf<IdempotencyService>();
    expect(app.make('idempotency').store.driver).toBe('database');
    expect(
      app
        .make('db.migrations')
        .sources()
        .map((s) => s.module),
    ).toContain('keel:idempotency');
    expect((await pay(app)).statusCode).toBe(400); // idempotent:required
    const first = await pay(app, 'pay-1');
    const second = await pay(app, 'pay-1');
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(calls()).toBe(1);
    const rows = await app
      .make('db')
      .connection()
      .kysely.selectFrom('idempotency_keys' as never)
      .selectAll()
      .execute();
    expect(rows).toHaveLength(1);
    // Nothing expired yet; a row from a claim two days old is.
    expect((await prune(app)).json).toEqual({ store: 'database', removed: 0 });
    const old = Date.now() - 2 * 86_400_000;
    await app.make('idempotency').store.claim({
      key: 'e'.repeat(64),
      fingerprint: 'f'.repeat(64),
      token: 't',
      now: old,
      lockedUntil: old + 1000,
      expiresAt: old + 86_400_000,
    });
    expect(await prune(app)).toEqual({ code: 0, json: { store: 'database', removed: 1 } });
    expect((await pay(app, 'pay-1')).headers['idempotent-replayed']).toBe('true');
  });

  it('uses memory without a database, and takes the store from IDEMPOTENCY_STORE', async () => {
    const { app } = await started({}, {}, 'idempotent');
    expect(app.make('idempotency').store.driver).toBe('memory');
    expect(app.make('idempotency').config).toMatchObject({
      retentionMs: 86_400_000,
      lockTimeoutMs: 60_000,
      header: 'Idempotency-Key',
      scope: 'ip',
    });
    expect((await prune(app)).json).toEqual({ store: 'memory', removed: 0 });
    const fromEnv = await started(
      { 'config/database.ts': DATABASE },
      { IDEMPOTENCY_STORE: 'memory' },
    );
    expect(fromEnv.app.make('idempotency').store.driver).toBe('memory');
    expect(
      fromEnv.app
        .make('db.migrations')
        .sources()
        .map((s) => s.module),
    ).not.toContain('keel:idempotency');
  });

  it('applies the config: header names, retention, replay headers, required', async () => {
    const { app, calls } = await started(
      {
        'config/security.ts': `export default { idempotency: {
          store: 'memory', header: 'X-Request-Key', replayedHeader: 'X-Replayed',
          retention: '2h', lockTimeout: '5s', required: true,
        } };\n`,
      },
      {},
      'idempotent',
    );
    const send = () =>
      app.make('http').inject({
        method: 'POST',
        url: '/payments',
        headers: { 'x-request-key': 'k-1' },
        payload: {},
      });
    expect((await pay(app, 'ignored')).statusCode).toBe(400);
    await send();
    expect((await send()).headers['x-replayed']).toBe('true');
    expect(calls()).toBe(1);
    expect(app.make('idempotency').config).toMatchObject({
      retentionMs: 7_200_000,
      lockTimeoutMs: 5000,
    });
  });

  it('refuses a broken config at boot, naming the key', async () => {
    const cases: Array<[Record<string, string>, Record<string, string>, string]> = [
      [
        { 'config/security.ts': `export default { idempotency: { retention: 'lots' } };\n` },
        {},
        'security.idempotency.retention',
      ],
      [
        { 'config/security.ts': `export default { idempotency: { lockTimeout: 0 } };\n` },
        {},
        'security.idempotency.lockTimeout',
      ],
      [
        { 'config/security.ts': `export default { idempotency: { retension: '1h' } };\n` },
        {},
        'security.idempotency',
      ],
      [
        { 'config/security.ts': `export default { idempotency: { header: 'Bad Header' } };\n` },
        {},
        'security.idempotency.header',
      ],
      [{}, { IDEMPOTENCY_STORE: 'disk' }, 'IDEMPOTENCY_STORE'],
    ];
    for (const [files, env, key] of cases) {
      const app = await apps.create(files, env);
      expect(
        idempotencyError(() => app.register()),
        key,
      ).toMatchObject({
        code: 'E_IDEMPOTENCY_CONFIG_INVALID',
        message: expect.stringContaining(`"${key}`),
      });
    }
    const noDb = await apps.create(
      { 'config/security.ts': `export default { idempotency: { store: 'database' } };\n` },
      {},
      [HttpProvider, IdempotencyProvider],
    );
    expect(idempotencyError(() => noDb.register())).toMatchObject({
      code: 'E_IDEMPOTENCY_CONFIG_INVALID',
      message: expect.stringContaining('needs DatabaseProvider'),
    });
    // A bad alias argument fails when the routes compile, not on the first request.
    const failed = await started({}, {}, 'idempotent:sometimes').catch((error: unknown) => error);
    expect(
      idempotencyError(() => {
        throw failed;
      }),
    ).toMatchObject({
      code: 'E_IDEMPOTENCY_CONFIG_INVALID',
      message: expect.stringContaining('sometimes'),
    });
  });

  it('counts keyed requests by outcome when the app has metrics', async () => {
    const { app } = await started({}, {}, 'idempotent', [
      HttpProvider,
      MetricsProvider,
      IdempotencyProvider,
    ]);
    await pay(app, 'm-1');
    await pay(app, 'm-1');
    await pay(app, 'm-1');
    await app.make('http').inject({
      method: 'POST',
      url: '/payments',
      headers: { 'idempotency-key': 'm-1' },
      payload: { amount: 11 },
    });
    await pay(app); // no key: not counted
    const values = app.make('metrics').snapshot('idempotency_requests_total')?.values ?? [];
    const count = (outcome: string) => values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    expect([count('executed'), count('replayed'), count('key_reused')]).toEqual([1, 2, 1]);
  });

  it.runIf(hasRedis)('keeps keys in Redis under the configured prefix', async () => {
    const prefix = `keel:test:${randomBytes(5).toString('hex')}:`;
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    try {
      const { app, calls } = await started({
        'config/security.ts': `export default { idempotency: { store: 'redis', redis: { prefix: '${prefix}' } } };\n`,
      });
      expect(app.make('idempotency').store.driver).toBe('redis');
      await pay(app, 'r-1');
      expect((await pay(app, 'r-1')).headers['idempotent-replayed']).toBe('true');
      expect(calls()).toBe(1);
      expect(await client.keys(`${prefix}*`)).toHaveLength(1);
    } finally {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  });
});
