import type { Kysely } from 'kysely';
import type { Awaitable } from '../../support/index.js';
import type { AnyDatabase } from '../connection.js';

/**
 * One schema change. `up` applies it, `down` undoes it. On SQLite and PostgreSQL both run
 * inside a transaction (DDL is transactional there), so a failure leaves nothing behind;
 * MySQL/MariaDB commit each DDL statement at once, so a failing migration there may be
 * partly applied.
 */
export interface Migration {
  up(db: Kysely<AnyDatabase>): Awaitable<void>;
  down?(db: Kysely<AnyDatabase>): Awaitable<void>;
  /** The connection it runs on; default: its source's connection, else the default one. */
  connection?: string;
  /**
   * Run inside a transaction where the dialect allows it (default true). Set false for
   * statements that refuse one, such as PostgreSQL's `CREATE INDEX CONCURRENTLY`.
   */
  transactional?: boolean;
}

/**
 * Define a migration (the default export of a file in a module's `migrations` folder,
 * named `<YYYY_MM_DD_HHMMSS>_<snake_name>.ts`).
 *
 * @example
 * ```ts
 * // modules/billing/migrations/2024_05_01_120000_create_invoices.ts
 * import { defineMigration, increments, timestamps } from 'keel/db';
 *
 * export default defineMigration({
 *   async up(db) {
 *     await db.schema.createTable('invoices')
 *       .$call(increments(db, 'id'))
 *       .addColumn('total', 'numeric(12, 2)', (c) => c.notNull())
 *       .$call(timestamps(db))
 *       .execute();
 *   },
 *   async down(db) {
 *     await db.schema.dropTable('invoices').execute();
 *   },
 * });
 * ```
 */
export function defineMigration(migration: Migration): Migration {
  return migration;
}

/** A migration with where it comes from and where it runs, as the migrator sees it. */
export interface MigrationEntry {
  /** `2024_05_01_120000_create_invoices`: the file name without its extension. */
  readonly name: string;
  /** The module that owns it (`billing`), or the framework source (`keel:cache`). */
  readonly module: string;
  /** The connection it runs on. */
  readonly connection: string;
  readonly migration: Migration;
  /** The file it was loaded from; undefined for migrations given as objects. */
  readonly file?: string;
}

/** `<YYYY_MM_DD_HHMMSS>_<snake_name>`, at most 200 characters. */
const MIGRATION_NAME = /^\d{4}_\d{2}_\d{2}_\d{6}_[a-z][a-z0-9_]*$/;

/** True for a valid migration name (a file name without extension). */
export function isMigrationName(name: string): boolean {
  return name.length <= 200 && MIGRATION_NAME.test(name);
}

/** `2024_05_01_120000` for a date, in UTC: the prefix of a new migration's name. */
export function migrationTimestamp(date: Date = new Date()): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return (
    `${pad(date.getUTCFullYear(), 4)}_${pad(date.getUTCMonth() + 1)}_${pad(date.getUTCDate())}_` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

/** Why `value` is not a migration, or undefined when it is one. */
export function migrationProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object')
    return 'the default export must be defineMigration({ up, down })';
  const candidate = value as Record<string, unknown>;
  if (typeof candidate.up !== 'function') return '`up` must be a function';
  if (candidate.down !== undefined && typeof candidate.down !== 'function')
    return '`down` must be a function';
  if (
    candidate.connection !== undefined &&
    (typeof candidate.connection !== 'string' || candidate.connection === '')
  )
    return '`connection` must be a connection name';
  if (candidate.transactional !== undefined && typeof candidate.transactional !== 'boolean')
    return '`transactional` must be a boolean';
  return undefined;
}
