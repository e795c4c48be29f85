import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Application, defineCommand } from '../../kernel/index.js';
import { E_SEED_IN_PRODUCTION, E_SEEDER_NAME_INVALID } from '../errors.js';
import { discoverSeeders, runSeeders, type SeederFile, selectSeeder } from './seeder-runner.js';

/**
 * `keel db:seed [--class <seeder>] [--connection <name>] [--force]`: run the seeders of every
 * enabled module, modules in dependency order and each module's files by name, each in its
 * own transaction. Production needs `--force`.
 */
export const dbSeedCommand = defineCommand<Application>({
  name: 'db:seed',
  description: 'Fill the database with seed data from the modules’ seeders',
  json: true,
  needs: 'booted',
  options: [
    { flags: '--class <seeder>', description: 'Run one seeder: <module>:<name> or <name>' },
    { flags: '--connection <name>', description: 'Seed this connection instead of the default' },
    { flags: '--force', description: 'Allow seeding in production' },
  ],
  async handle({ app, options, ui }) {
    const env = String(app.env.get('APP_ENV' as never) ?? 'development');
    if (env === 'production' && options.force !== true) throw new E_SEED_IN_PRODUCTION();
    let files: SeederFile[] = await discoverSeeders(app.modules);
    if (typeof options.class === 'string') files = [selectSeeder(files, options.class)];
    const outcomes = await runSeeders(files, {
      manager: app.make('db'),
      logger: app.logger,
      env,
      ...(typeof options.connection === 'string' ? { connection: options.connection } : {}),
      onStart: (file) => {
        if (!ui.json) ui.info(`seeding ${file.id}`);
      },
    });
    ui.output({ seeders: outcomes }, () => {
      if (outcomes.length === 0) {
        ui.warn('No seeders: add files to a module’s seeders folder (`keel make:seeder`).');
        return;
      }
      for (const o of outcomes) {
        if (o.status === 'ran') ui.success(`${o.id} (${o.durationMs} ms)`);
        else ui.line(ui.dim(`skipped ${o.id}: ${o.reason}`));
      }
    });
    return 0;
  },
});

const SEEDER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** `ProductsSeeder` / `products_seeder` → `products-seeder`. */
function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

function seederTemplate(): string {
  return `import { defineSeeder } from 'keel/db';

export default defineSeeder({
  // Seed data for development and tests; production needs \`keel db:seed --force\`.
  environments: ['development', 'test'],
  async run({ insertMissing }) {
    // Idempotent: rows whose key already exists are left alone, so seeding twice is safe.
    await insertMissing('table_name', [{ code: 'EXAMPLE', name: 'Example' }], 'code');
  },
});
`;
}

/** `keel make:seeder <module> <name>`: a seeder file in the module's seeders folder. */
export const makeSeederCommand = defineCommand<Application>({
  name: 'make:seeder',
  description: 'Create a seeder in a module',
  needs: 'created',
  arguments: [
    { name: 'module', description: 'The module that owns the seeder', required: true },
    { name: 'name', description: 'The seeder name, e.g. products', required: true },
  ],
  async handle({ app, args, ui }) {
    const moduleName = String(args.module);
    const name = String(args.name);
    if (!SEEDER_NAME.test(name)) throw new E_SEEDER_NAME_INVALID(name);
    // Any module on disk, enabled or not; unknown names get a suggestion.
    const module = app.moduleManager.get(moduleName);
    const folder = module.manifest.seeders ?? 'seeders';
    const file = join(module.dir, folder, `${kebab(name)}.ts`);
    const shown = relative(app.paths.root, file);
    if (existsSync(file)) {
      ui.error(`${shown} already exists`);
      return 1;
    }
    await mkdir(join(module.dir, folder), { recursive: true });
    await writeFile(file, seederTemplate(), { flag: 'wx' });
    ui.success(`created ${shown}`);
    if (!module.manifest.seeders)
      ui.warn(`add \`seeders: '${folder}'\` to ${moduleName}'s defineModule() so db:seed finds it`);
    return 0;
  },
});
