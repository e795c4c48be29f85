import { afterEach } from 'vitest';
import { Application, createNullLogger } from '../../src/kernel/index.js';
import type { Constructor } from '../../src/support/index.js';
import { APP_FILE, createFixtureApp, type FixtureApp, moduleFile } from './fixture-app.js';

/** The files every provider test app starts from: the app file and one empty module. */
export const PROVIDER_APP_FILES: Readonly<Record<string, string>> = {
  'keel.config.ts': APP_FILE,
  'modules/shop/module.ts': moduleFile(`{ name: 'shop', version: '1.0.0' }`),
};

/**
 * Fixture apps for a provider's tests, created with only the given providers, in the
 * `test` environment, with a silent logger; every app is shut down and every folder removed
 * after each test.
 *
 * @example
 * ```ts
 * const apps = providerApps([DatabaseProvider, CacheProvider]);
 * const app = await apps.create({ 'config/cache.ts': '...' }, { CACHE_PREFIX: 'shop' });
 * await app.boot();
 * ```
 */
export function providerApps(defaultProviders: Constructor[]): {
  /** A fixture folder: the base files with `files` over them. */
  fixture(files?: Record<string, string>): Promise<FixtureApp>;
  /** An application (not booted) on a folder, or on a new fixture of `files`. */
  create(
    rootOrFiles?: string | Record<string, string>,
    env?: Record<string, string>,
    providers?: Constructor[],
  ): Promise<Application>;
} {
  const fixtures: FixtureApp[] = [];
  const apps: Application[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.shutdown()));
    await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
  });
  const fixture = async (files: Record<string, string> = {}): Promise<FixtureApp> => {
    const created = await createFixtureApp({ ...PROVIDER_APP_FILES, ...files });
    fixtures.push(created);
    return created;
  };
  return {
    fixture,
    async create(rootOrFiles = {}, env = {}, providers = defaultProviders) {
      const root =
        typeof rootOrFiles === 'string' ? rootOrFiles : (await fixture(rootOrFiles)).root;
      const app = await Application.create({
        root,
        environment: 'test',
        env: { LOG_LEVEL: 'silent', ...env },
        logger: createNullLogger(),
        providers,
      });
      apps.push(app);
      return app;
    },
  };
}
