import { providerApps } from '../../../test/support/provider-app.js';
import { DatabaseProvider } from '../../db/index.js';
import { appMigrations, appMigrator } from '../../db/migrations/index.js';
import { HttpProvider } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import type { Constructor } from '../../support/index.js';
import { AuthProvider } from '../auth-provider.js';
import { ScryptHasher } from '../hash/scrypt-hasher.js';

/** Fixture apps for auth's HTTP tests (import from a test file: it registers cleanup hooks). */
export function authApps(extra: Constructor[] = []) {
  const apps = providerApps([HttpProvider, DatabaseProvider, ...extra, AuthProvider]);

  const DATABASE = `export default { default: 'main', connections: { main: { driver: 'sqlite', filename: 'var/data/main.sqlite' } } };\n`;
  const AUTH = `export default { users: { table: 'users' }, hashing: { ln: 10 } };\n`;

  /**
   * A booted app with the auth tables migrated, a `users` table holding alice (clerk) and
   * bob, and `routes` added before the route table is built.
   */
  async function authApp(
    routes: (app: Application) => void,
    auth = AUTH,
    files: Record<string, string> = {},
  ): Promise<Application> {
    const app = await apps.create({
      'config/database.ts': DATABASE,
      'config/auth.ts': auth,
      ...files,
    });
    await app.boot();
    const manager = app.make('db');
    await appMigrator(
      app,
      manager,
      await appMigrations(app, manager),
      manager.defaultName,
    ).migrate();
    const db = manager.connection().kysely;
    await db.schema
      .createTable('users')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('password', 'text')
      .execute();
    const hash = new ScryptHasher({ ln: 10 });
    await db
      .insertInto('users' as never)
      .values([
        { id: 1, email: 'alice@example.com', password: await hash.make('alice-pw') },
        { id: 2, email: 'bob@example.com', password: await hash.make('bob-pw') },
        { id: 3, email: 'nopass@example.com', password: null },
      ] as never)
      .execute();
    const roles = app.make('auth.roles');
    await roles.grant('clerk', 'orders.create');
    await roles.assign(1, 'clerk');
    routes(app);
    await app.start();
    return app;
  }

  return { apps, authApp, DATABASE, AUTH };
}

/** The first error in `error`'s cause chain that `test` accepts. */
export function causeWith(error: unknown, test: (e: unknown) => boolean): Error | undefined {
  let current = error;
  while (current instanceof Error) {
    if (test(current)) return current;
    current = current.cause;
  }
  return undefined;
}

/** An in-process request, JSON-encoding `payload`. */
export function request(
  app: Application,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  payload?: unknown,
) {
  return app.make('http').inject({
    method: method as 'GET',
    url,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}
