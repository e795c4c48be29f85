import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import { frameworkProviders } from '../cli/framework-providers.js';
import type { HttpKernel } from '../http/index.js';
import { Application, type ApplicationOptions } from '../kernel/index.js';

export interface TestApp {
  readonly app: Application;
  /** Send a request through the whole HTTP pipeline, in process (no socket). */
  inject(options: InjectOptions | string): Promise<InjectResponse>;
  /** Serve a web-standard Request through the pipeline. */
  fetch(request: Request): Promise<Response>;
  /** Run every pending migration of the app's connections (without backups). */
  migrate(): Promise<void>;
  /** Run the modules' seeders, or only the one named (`<module>:<name>` or its file name). */
  seed(only?: string): Promise<void>;
  /** Shut the application down (providers, scopes, timers). */
  close(): Promise<void>;
}

export interface TestAppOptions extends Partial<Omit<ApplicationOptions, 'root' | 'environment'>> {
  /** Migrate (and seed) the app's database once it started. */
  database?: { migrate?: boolean; seed?: boolean };
}

// The database layer loads only for tests that use it: it pulls in Kysely.
async function migrateTestApp(app: Application): Promise<void> {
  const { withAppMigrations } = await import('../db/commands/migrate-runner.js');
  const { appMigrator, migrationConnections } = await import('../db/migrations/app-migrations.js');
  await withAppMigrations(app, async (manager, entries) => {
    for (const name of migrationConnections(entries, manager))
      await appMigrator(app, manager, entries, name).migrate();
  });
}

async function seedTestApp(app: Application, only?: string): Promise<void> {
  const { discoverSeeders, runSeeders, selectSeeder } = await import(
    '../db/seeders/seeder-runner.js'
  );
  let files = await discoverSeeders(app.modules);
  if (only !== undefined) files = [selectSeeder(files, only)];
  await runSeeders(files, { manager: app.make('db'), logger: app.logger, env: 'test' });
}

/**
 * Boot an application for tests: environment `test`, Keel's framework providers, started
 * and ready, with an in-process HTTP client.
 *
 * @example
 * ```ts
 * const t = await createTestApp(fileURLToPath(new URL('..', import.meta.url)));
 * const res = await t.inject({ method: 'GET', url: '/api/orders' });
 * // With a database: `createTestApp(root, { database: { migrate: true, seed: true } })`.
 * expect(res.statusCode).toBe(200);
 * await t.close();
 * ```
 */
export async function createTestApp(root: string, options: TestAppOptions = {}): Promise<TestApp> {
  const { database, ...appOptions } = options;
  const app = await Application.create({
    root,
    environment: 'test',
    providers: frameworkProviders,
    ...appOptions,
  });
  await app.start();
  const http = (): HttpKernel => app.make('http' as never) as HttpKernel;
  const test: TestApp = {
    app,
    inject: (request) => http().inject(request),
    fetch: (request) => http().fetch(request),
    migrate: () => migrateTestApp(app),
    seed: (only) => seedTestApp(app, only),
    close: () => app.shutdown('test finished'),
  };
  try {
    if (database?.migrate || database?.seed) await test.migrate();
    if (database?.seed) await test.seed();
  } catch (error) {
    await test.close();
    throw error;
  }
  return test;
}
