import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../../test/support/provider-app.js';
import { ConsoleUI } from '../../../cli/index.js';
import { DatabaseProvider } from '../../../db/index.js';
import { appMigrations, appMigrator } from '../../../db/migrations/index.js';
import type { Application, CommandContext } from '../../../kernel/index.js';
import { securityConfig } from '../__fixtures__/rate-limit-app.js';
import { RateLimitProvider } from '../rate-limit-provider.js';
import { rateLimitClearCommand } from './rate-limit-clear-command.js';

const apps = providerApps([DatabaseProvider, RateLimitProvider]);

async function run(
  app: Application,
  args: Record<string, string>,
): Promise<{ code: number | undefined; json: unknown; err: string }> {
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
  const code = await rateLimitClearCommand.handle({
    app,
    cwd: '',
    args,
    options: {},
    verbose: false,
    ui,
  } as unknown as CommandContext<Application>);
  return { code, json: out.trim() === '' ? undefined : JSON.parse(out), err };
}

describe('rate-limit:clear', () => {
  it('clears a locked-out key in the database store', async () => {
    const app = await apps.create({
      ...securityConfig(`{ store: 'database' }`),
      'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
    });
    await app.boot();
    const manager = app.make('db');
    await appMigrator(
      app,
      manager,
      await appMigrations(app, manager),
      manager.defaultName,
    ).migrate();
    const limiter = app.make('rate.limiter');
    for (let i = 0; i < 6; i++) await limiter.attempt('login', 'ip:203.0.113.5');
    expect((await limiter.attempt('login', 'ip:203.0.113.5')).allowed).toBe(false);
    const result = await run(app, { limiter: 'login', key: 'ip:203.0.113.5' });
    expect(result.code).toBe(0);
    expect(result.json).toEqual({
      limiter: 'login',
      key: 'ip:203.0.113.5',
      store: 'database',
      consumed: 7,
    });
    expect(await limiter.remaining('login', 'ip:203.0.113.5')).toBe(5);
    await expect(run(app, { limiter: 'logn', key: 'k' })).rejects.toMatchObject({
      code: 'E_RATE_LIMITER_NOT_FOUND',
    });
  });

  it('refuses with the memory store, whose counts live in the server processes', async () => {
    const app = await apps.create(securityConfig('{}'));
    await app.boot();
    const result = await run(app, { limiter: 'login', key: 'ip:1.2.3.4' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/memory/);
  });
});
