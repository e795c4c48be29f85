import { describe, expect, it } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { runCommand } from '../../cache/commands/__fixtures__/run-command.js';
import { DatabaseProvider } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { AuthProvider } from '../auth-provider.js';
import { authTokensPruneCommand } from './auth-tokens-prune-command.js';

const apps = providerApps([DatabaseProvider, AuthProvider]);

describe('auth:tokens:prune', () => {
  it('deletes expired tokens only', async () => {
    const app = await apps.create({
      'config/database.ts': `export default { default: 'main', connections: { main: { driver: 'sqlite', filename: 'var/data/main.sqlite' } } };\n`,
      'config/auth.ts': 'export default {};\n',
    });
    await app.boot();
    const manager = app.make('db');
    await appMigrator(
      app,
      manager,
      await appMigrations(app, manager),
      manager.defaultName,
    ).migrate();
    const tokens = app.make('auth.tokens');
    const live = await tokens.create(1, 'live', { expiresIn: '1h' });
    const forever = await tokens.create(1, 'forever');
    const old = await tokens.create(1, 'old', { expiresIn: 1 });
    await manager
      .connection()
      .kysely.updateTable('api_tokens' as never)
      .set({ expires_at: Date.now() - 1000 } as never)
      .where('id' as never, '=', old.record.id as never)
      .execute();
    const run = await runCommand(authTokensPruneCommand, app);
    expect(run.code).toBe(0);
    expect(run.json).toEqual({ deleted: 1 });
    expect((await tokens.list(1)).map((t) => t.name).sort()).toEqual(['forever', 'live']);
    expect(await tokens.verify(live.token)).toBeDefined();
    expect(await tokens.verify(forever.token)).toBeDefined();
  });

  it('says so when there is no database, or no config/auth.ts (so no table)', async () => {
    const cases: Array<Record<string, string>> = [
      { 'config/auth.ts': 'export default {};\n' },
      {
        'config/database.ts': `export default { default: 'main', connections: { main: { driver: 'sqlite', filename: 'var/data/main.sqlite' } } };\n`,
      },
    ];
    for (const files of cases) {
      const app = await apps.create(files);
      await app.boot();
      const run = await runCommand(authTokensPruneCommand, app, {}, false);
      expect(run.code).toBe(1);
      expect(run.stderr + run.stdout).toContain(
        'need the AuthProvider, a database and config/auth.ts',
      );
    }
  });
});
