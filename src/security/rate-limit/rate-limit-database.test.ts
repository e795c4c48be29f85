import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { HttpProvider } from '../../http/index.js';
import { HealthProvider } from '../../observability/health/health-provider.js';
import { RATE_LIMIT_APP_FILES, securityConfig } from './__fixtures__/rate-limit-app.js';
import {
  RATE_LIMITS_MIGRATION_NAME,
  RATE_LIMITS_TABLE,
} from './migrations/create-rate-limits-table.js';
import { RateLimitProvider } from './rate-limit-provider.js';

const apps = providerApps([HttpProvider, DatabaseProvider, HealthProvider, RateLimitProvider]);

describe('the database store through the provider', () => {
  it('migrates rate_limits (keel:rate-limit) and throttles with it', async () => {
    const app = await apps.create(
      {
        ...RATE_LIMIT_APP_FILES,
        ...securityConfig(
          `{ limiters: { search: { points: 2, duration: 30, key: 'ip' }, login: { points: 5, duration: 60 } } }`,
        ),
        'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
      },
      { RATE_LIMIT_STORE: 'database' },
    );
    await app.boot();
    const manager = app.make('db');
    const migrations = await appMigrations(app, manager);
    expect(migrations.map((m) => `${m.module}/${m.name}`)).toContain(
      `keel:rate-limit/${RATE_LIMITS_MIGRATION_NAME}`,
    );
    await appMigrator(app, manager, migrations, manager.defaultName).migrate();
    await app.start();
    const limiter = app.make('rate.limiter');
    expect(limiter.storeName).toBe('database');
    const get = () =>
      app
        .make('http')
        .inject({ method: 'GET', url: '/named', headers: { 'x-forwarded-for': '192.0.2.3' } });
    expect([(await get()).statusCode, (await get()).statusCode, (await get()).statusCode]).toEqual([
      200, 200, 429,
    ]);
    const rows = await manager
      .connection()
      .kysely.selectFrom(RATE_LIMITS_TABLE)
      .selectAll()
      .execute();
    expect(rows.map((r) => String(r.limiter_key))).toContain('keel:rl:search:ip:192.0.2.3');
  });

  it('refuses the database store without DatabaseProvider', async () => {
    const app = await apps.create(
      { ...RATE_LIMIT_APP_FILES, ...securityConfig('{}') },
      { RATE_LIMIT_STORE: 'database' },
      [HttpProvider, RateLimitProvider],
    );
    const failure = await app.start().then(
      () => undefined,
      (error: unknown) => error as { cause?: { cause?: unknown } },
    );
    expect(failure?.cause?.cause).toMatchObject({
      code: 'E_RATE_LIMIT_CONFIG_INVALID',
      message: expect.stringMatching(/DatabaseProvider/),
    });
  });
});
