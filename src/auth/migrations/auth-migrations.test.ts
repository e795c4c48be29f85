import { expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider } from '../../db/index.js';
import { appMigrations, appMigrator, listTables } from '../../db/migrations/index.js';
import { AuthProvider } from '../auth-provider.js';

const apps = providerApps([DatabaseProvider, AuthProvider]);

describeEachDialect('auth framework migrations', (database) => {
  it('`migrate` creates api_tokens and the roles tables, used through the bindings; rollback drops them', async () => {
    const app = await apps.create({
      'config/database.ts': `export default { connections: { default: ${JSON.stringify(database().config)} } };\n`,
      'config/auth.ts': `export default { tokens: { prefix: 'erp' } };\n`,
    });
    await app.boot();
    const manager = app.make('db');
    const migrator = appMigrator(
      app,
      manager,
      await appMigrations(app, manager),
      manager.defaultName,
    );
    await migrator.migrate();
    const tables = async () =>
      (await listTables(manager.connection()))
        .map((t) => t.name)
        .filter((n) => !n.startsWith('keel_'));
    expect((await tables()).sort()).toEqual(
      ['api_tokens', 'permission_role', 'permissions', 'role_user', 'roles'].sort(),
    );

    const { token } = await app.make('auth.tokens').create({ id: 'u-1' }, 'deploy', {
      abilities: ['deploy'],
    });
    expect(token.startsWith('erp_')).toBe(true);
    expect(await app.make('auth.tokens').verify(token)).toMatchObject({
      userId: 'u-1',
      abilities: ['deploy'],
    });
    await app.make('auth.roles').grant('ops', 'deploy.*');
    await app.make('auth.roles').assign({ id: 'u-1' }, 'ops');
    expect(await app.make('auth.gate').allows({ id: 'u-1' }, 'deploy.production')).toBe(true);
    expect(await app.make('auth.gate').allows({ id: 'u-2' }, 'deploy.production')).toBe(false);

    await migrator.rollback();
    expect(await tables()).toEqual([]);
  });
});
