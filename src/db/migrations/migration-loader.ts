import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { importSource } from '../../kernel/index.js';
import { E_MIGRATION_INVALID } from '../errors.js';
import {
  isMigrationName,
  type Migration,
  type MigrationEntry,
  migrationProblem,
} from './migration.js';
import type { MigrationRegistry, MigrationSource } from './migration-registry.js';

/** What the loader reads of a module: its manifest's `migrations` folder and its own folder. */
export interface MigrationModule {
  readonly manifest: { readonly name: string; readonly migrations?: string | undefined };
  readonly dir: string;
}

export interface CollectMigrationsOptions {
  /** Enabled modules in dependency order (their order breaks ties between equal names). */
  modules: readonly MigrationModule[];
  /** Framework sources; they come before every module on equal names. */
  registry?: MigrationRegistry;
  /** The connection of migrations that name none. */
  defaultConnection: string;
}

const SCRIPT = /\.(?:[cm]?ts|[cm]?js)$/;
const NOT_A_MIGRATION = /\.d\.[cm]?ts$|\.(?:test|spec)\.[cm]?[jt]s$/;
/** Compiled JavaScript wins over TypeScript of the same name, as for keel.config. */
const EXTENSION_RANK: Record<string, number> = { js: 0, mjs: 1, ts: 2, mts: 3, cjs: 4, cts: 5 };

/**
 * Every migration of the application: the framework sources first, then each module's
 * `migrations` folder, sorted by name (the timestamp prefix makes that chronological) and,
 * on equal names, by source order.
 *
 * @example
 * ```ts
 * const entries = await collectMigrations({
 *   modules: app.modules,
 *   registry: app.make('db.migrations'),
 *   defaultConnection: 'default',
 * });
 * ```
 */
export async function collectMigrations(
  options: CollectMigrationsOptions,
): Promise<MigrationEntry[]> {
  const sources: MigrationSource[] = [...(options.registry?.sources() ?? [])];
  for (const module of options.modules) {
    const folder = module.manifest.migrations;
    if (folder) sources.push({ module: module.manifest.name, folder: resolve(module.dir, folder) });
  }
  const ranked: Array<{ entry: MigrationEntry; rank: number }> = [];
  for (const [rank, source] of sources.entries()) {
    const fallback = source.connection ?? options.defaultConnection;
    const loaded =
      'folder' in source ? await loadFolder(source.folder) : fromObjects(source.migrations);
    for (const { name, migration, file } of loaded) {
      ranked.push({
        rank,
        entry: {
          name,
          module: source.module,
          connection: migration.connection ?? fallback,
          migration,
          ...(file ? { file } : {}),
        },
      });
    }
  }
  ranked.sort((a, b) =>
    a.entry.name === b.entry.name ? a.rank - b.rank : a.entry.name < b.entry.name ? -1 : 1,
  );
  return ranked.map((r) => r.entry);
}

interface LoadedMigration {
  name: string;
  migration: Migration;
  file?: string;
}

function fromObjects(migrations: Record<string, Migration>): LoadedMigration[] {
  return Object.entries(migrations).map(([name, migration]) => {
    if (!isMigrationName(name))
      throw new E_MIGRATION_INVALID(name, 'the name must be <YYYY_MM_DD_HHMMSS>_<snake_name>');
    const problem = migrationProblem(migration);
    if (problem) throw new E_MIGRATION_INVALID(name, problem);
    return { name, migration };
  });
}

/** The migration files of a folder (none when it does not exist), imported. */
export async function loadFolder(folder: string): Promise<LoadedMigration[]> {
  if (!existsSync(folder)) return [];
  const chosen = new Map<string, { file: string; rank: number }>();
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (!entry.isFile() || !SCRIPT.test(entry.name) || NOT_A_MIGRATION.test(entry.name)) continue;
    const dot = entry.name.lastIndexOf('.');
    const name = entry.name.slice(0, dot);
    const file = join(folder, entry.name);
    if (!isMigrationName(name))
      throw new E_MIGRATION_INVALID(
        file,
        'the file name must be <YYYY_MM_DD_HHMMSS>_<snake_name>.ts (e.g. 2024_05_01_120000_create_orders.ts)',
      );
    const rank = EXTENSION_RANK[entry.name.slice(dot + 1)] ?? 9;
    const previous = chosen.get(name);
    if (!previous || rank < previous.rank) chosen.set(name, { file, rank });
  }
  const loaded: LoadedMigration[] = [];
  for (const [name, { file }] of chosen) {
    let exported: unknown;
    try {
      exported = (await importSource<{ default?: unknown }>(file)).default;
    } catch (error) {
      throw new E_MIGRATION_INVALID(
        file,
        `it cannot be imported: ${(error as Error).message}`,
      ).withCause(error);
    }
    const problem = migrationProblem(exported);
    if (problem) throw new E_MIGRATION_INVALID(file, problem);
    loaded.push({ name, migration: exported as Migration, file });
  }
  return loaded;
}
