import type { Migration } from './migration.js';

/** Framework migrations given as objects, keyed by migration name. */
export interface ObjectMigrationSource {
  /** Who owns them, recorded in `keel_migrations.module`: `keel:cache`, `keel:queue`. */
  module: string;
  migrations: Record<string, Migration>;
  /** The connection they run on, unless a migration names its own; default: the default one. */
  connection?: string;
}

/** Framework migrations in a folder of `<YYYY_MM_DD_HHMMSS>_<snake_name>.ts|js` files. */
export interface FolderMigrationSource {
  module: string;
  /** Absolute path of the folder. */
  folder: string;
  connection?: string;
}

export type MigrationSource = ObjectMigrationSource | FolderMigrationSource;

/**
 * The framework's migrations (cache, queue, sessions tables...): subsystems add their
 * source from their provider, and `keel migrate` runs them with the modules' migrations.
 * `app.make('db.migrations')` reaches it.
 *
 * @example
 * ```ts
 * export class CacheProvider extends ServiceProvider<Application> {
 *   override register() {
 *     this.app.make('db.migrations').add({
 *       module: 'keel:cache',
 *       migrations: { '2024_01_01_000000_create_keel_cache': createCacheTable },
 *     });
 *   }
 * }
 * ```
 */
export class MigrationRegistry {
  readonly #sources: MigrationSource[] = [];

  /** Add a source. Adding the same module twice replaces the first. */
  add(source: MigrationSource): this {
    const index = this.#sources.findIndex((s) => s.module === source.module);
    if (index >= 0) this.#sources[index] = source;
    else this.#sources.push(source);
    return this;
  }

  /** The sources in the order they were added (their tie-break order). */
  sources(): readonly MigrationSource[] {
    return this.#sources;
  }
}
