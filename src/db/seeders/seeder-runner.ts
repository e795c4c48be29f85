import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Logger } from '../../kernel/index.js';
import { importSource } from '../../kernel/index.js';
import { suggest } from '../../support/index.js';
import type { DatabaseManager } from '../database-manager.js';
import { E_SEEDER_AMBIGUOUS, E_SEEDER_INVALID, E_SEEDER_NOT_FOUND } from '../errors.js';
import { isSeeder, type Seeder, type SeederContext } from './seeder.js';

/** A seeder file found in a module's seeders folder. */
export interface SeederFile {
  /** `<module>:<file name without extension>`, e.g. `catalog:products-seeder`. */
  readonly id: string;
  readonly module: string;
  readonly name: string;
  readonly file: string;
}

/** What the seeding of one file came to. */
export interface SeederOutcome {
  id: string;
  status: 'ran' | 'skipped';
  /** Why it was skipped. */
  reason?: string;
  durationMs: number;
}

/** The module facts discovery needs (the Application's LoadedModule fits). */
export interface SeedableModule {
  readonly dir: string;
  readonly manifest: { readonly name: string; readonly seeders?: string | undefined };
}

const SOURCE = /\.(?:[mc]?ts|[mc]?js)$/;

/** Seeder files of each module that declares a folder, modules in the order given, files by name. */
export async function discoverSeeders(modules: readonly SeedableModule[]): Promise<SeederFile[]> {
  const found: SeederFile[] = [];
  for (const module of modules) {
    const folder = module.manifest.seeders;
    if (!folder) continue;
    const dir = join(module.dir, folder);
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const entry of entries.sort()) {
      if (!SOURCE.test(entry) || entry.endsWith('.d.ts') || /\.test\.[mc]?[jt]s$/.test(entry))
        continue;
      const name = basename(entry, extname(entry));
      found.push({
        id: `${module.manifest.name}:${name}`,
        module: module.manifest.name,
        name,
        file: join(dir, entry),
      });
    }
  }
  return found;
}

/** `ProductsSeeder`, `products_seeder` and `products-seeder` name the same file. */
function loose(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9:]/g, '');
}

/**
 * The seeder `wanted` names: its full id (`catalog:products-seeder`), or its file name in
 * any casing when only one module has it.
 */
export function selectSeeder(files: readonly SeederFile[], wanted: string): SeederFile {
  const key = loose(wanted);
  const matches = files.filter((f) =>
    key.includes(':') ? loose(f.id) === key : loose(f.name) === key,
  );
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    throw new E_SEEDER_AMBIGUOUS(
      wanted,
      matches.map((m) => m.id),
    );
  const ids = files.map((f) => f.id);
  throw new E_SEEDER_NOT_FOUND(wanted, ids, suggest(wanted, [...ids, ...files.map((f) => f.name)]));
}

export async function loadSeeder(file: SeederFile): Promise<Seeder> {
  const loaded = await importSource<{ default?: unknown }>(file.file);
  if (!isSeeder(loaded.default)) throw new E_SEEDER_INVALID(file.file);
  return loaded.default;
}

export interface RunSeedersOptions {
  manager: DatabaseManager;
  logger: Logger;
  /** The app environment, matched against each seeder's `environments`. */
  env: string;
  /** Seed this connection instead of each seeder's own (or the default). */
  connection?: string;
  /** Called before each seeder, for progress output. */
  onStart?: (file: SeederFile) => void;
}

/** Run seeders in order, each in its own transaction; the first failure stops the run. */
export async function runSeeders(
  files: readonly SeederFile[],
  options: RunSeedersOptions,
): Promise<SeederOutcome[]> {
  const outcomes: SeederOutcome[] = [];
  for (const file of files) {
    const started = performance.now();
    const seeder = await loadSeeder(file);
    const ms = () => Math.round((performance.now() - started) * 100) / 100;
    if (seeder.environments && !seeder.environments.includes(options.env)) {
      outcomes.push({
        id: file.id,
        status: 'skipped',
        reason: `only for ${seeder.environments.join(', ')}`,
        durationMs: ms(),
      });
      continue;
    }
    options.onStart?.(file);
    const connection = options.manager.connection(options.connection ?? seeder.connection);
    const context: SeederContext = {
      db: connection,
      logger: options.logger.child({ seeder: file.id }),
      env: options.env,
      insertMissing: (table, rows, key) => insertMissing(connection, table, rows, key),
    };
    await connection.transaction(async () => {
      await seeder.run(context);
    });
    outcomes.push({ id: file.id, status: 'ran', durationMs: ms() });
  }
  return outcomes;
}

async function insertMissing(
  connection: SeederContext['db'],
  table: string,
  rows: ReadonlyArray<Record<string, unknown>>,
  key: string | readonly string[],
): Promise<number> {
  const keys = typeof key === 'string' ? [key] : key;
  let inserted = 0;
  for (const row of rows) {
    let query = connection.selectFrom(table).select(keys[0]!);
    for (const column of keys) {
      if (!Object.hasOwn(row, column))
        throw new TypeError(`insertMissing: a row for "${table}" lacks its key column "${column}"`);
      query = query.where(column, '=', row[column] as never);
    }
    if (await query.executeTakeFirst()) continue;
    await connection.insertInto(table).values(row).execute();
    inserted++;
  }
  return inserted;
}
