import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type Application, defineCommand } from '../../kernel/index.js';
import { E_MIGRATION_NAME_INVALID } from '../errors.js';
import { isMigrationName, migrationTimestamp } from '../migrations/migration.js';

const NAME_INPUT = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** `CreateOrdersTable`, `create-orders-table` → `create_orders_table`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^[^A-Za-z]+|_+$/g, '')
    .replace(/_+/g, '_')
    .toLowerCase();
}

/**
 * The snake_case name of a new migration, or E_MIGRATION_NAME_INVALID (with a suggestion
 * when the input can be cleaned into one).
 */
export function migrationName(input: string): string {
  if (NAME_INPUT.test(input)) return snakeCase(input);
  const cleaned = snakeCase(input).slice(0, 100);
  throw new E_MIGRATION_NAME_INVALID(input, NAME_INPUT.test(cleaned) ? cleaned : undefined);
}

/** The body of a new migration: a create-table, an alter-table, or a blank one. */
export function migrationTemplate(name: string): string {
  const create = /^create_([a-z0-9_]+?)(?:_table)?$/.exec(name);
  if (create)
    return `import { defineMigration, increments, timestamps } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema
      .createTable('${create[1]}')
      .$call(increments(db, 'id'))
      .$call(timestamps(db))
      .execute();
  },

  async down(db) {
    await db.schema.dropTable('${create[1]}').execute();
  },
});
`;
  const table = /_(?:to|from|in|on)_([a-z0-9_]+?)(?:_table)?$/.exec(name)?.[1] ?? 'table_name';
  return `import { defineMigration } from 'keel/db';

export default defineMigration({
  async up(db) {
    await db.schema.alterTable('${table}').addColumn('column_name', 'varchar(255)').execute();
  },

  async down(db) {
    await db.schema.alterTable('${table}').dropColumn('column_name').execute();
  },
});
`;
}

/** The time of the newest migration in `folder`, from its name. */
async function latestTimestamp(folder: string): Promise<Date | undefined> {
  if (!existsSync(folder)) return undefined;
  let latest: Date | undefined;
  for (const file of await readdir(folder)) {
    const m = /^(\d{4})_(\d{2})_(\d{2})_(\d{2})(\d{2})(\d{2})_/.exec(file);
    if (!m) continue;
    const [, y, mo, d, h, mi, sec] = m.map(Number) as number[];
    const at = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!));
    if (!latest || at > latest) latest = at;
  }
  return latest;
}

/** What `make:migration --json` prints. */
export interface MakeMigrationOutput {
  module: string;
  /** Relative to the application folder, with `/`. */
  file: string;
  /** The manifest has no `migrations` folder yet: add `migrations: 'migrations'`. */
  manifestNeedsMigrations: boolean;
}

/** `keel make:migration <module> <name>`: a timestamped migration in the module's folder. */
export const makeMigrationCommand = defineCommand<Application>({
  name: 'make:migration',
  description: 'Create a migration in a module’s migrations folder',
  json: true,
  needs: 'created',
  arguments: [
    { name: 'module', description: 'the module that owns the migration', required: true },
    {
      name: 'name',
      description: 'what it does, in snake_case: create_orders_table, add_status_to_orders',
      required: true,
    },
  ],
  async handle({ app, args, cwd, ui }) {
    const moduleName = String(args.module);
    // Any module on disk, enabled or not; unknown names get a suggestion.
    const module = app.moduleManager.get(moduleName);
    const name = migrationName(String(args.name));
    const folder = join(module.dir, module.manifest.migrations ?? 'migrations');
    const extension = module.file.endsWith('.js') ? 'js' : 'ts';
    // Names sort by their timestamp: a migration made within the same second as the last
    // one (or after a clock went back) takes the next second, so it still runs after it.
    const latest = await latestTimestamp(folder);
    let at = new Date(Math.floor(Date.now() / 1000) * 1000);
    if (latest && at.getTime() <= latest.getTime()) at = new Date(latest.getTime() + 1000);
    const base = `${migrationTimestamp(at)}_${name}`;
    if (!isMigrationName(base)) throw new E_MIGRATION_NAME_INVALID(name, undefined);
    const file = join(folder, `${base}.${extension}`);
    await mkdir(folder, { recursive: true });
    await writeFile(file, migrationTemplate(name), { flag: 'wx' });
    const output: MakeMigrationOutput = {
      module: moduleName,
      file: relative(cwd, file).split(sep).join('/'),
      manifestNeedsMigrations: !module.manifest.migrations,
    };
    ui.output(output, () => {
      ui.success(`created ${output.file}`);
      if (output.manifestNeedsMigrations)
        ui.warn(
          `add \`migrations: 'migrations'\` to ${relative(cwd, module.file).split(sep).join('/')}: until then \`keel migrate\` does not see this folder`,
        );
      ui.line('  next: edit it, then run `keel migrate`');
    });
    return 0;
  },
});
