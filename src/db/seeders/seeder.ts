import type { Logger } from '../../kernel/index.js';
import type { AnyDatabase, Connection } from '../connection.js';

/** What a seeder's `run` receives. */
export interface SeederContext<DB = AnyDatabase> {
  /** The connection seeded (its queries join the seeder's transaction). */
  readonly db: Connection<DB>;
  readonly logger: Logger;
  /** The app environment (`development`, `test`, `production`, ...). */
  readonly env: string;
  /**
   * Insert the rows whose `key` columns match no existing row, in one transaction with
   * the rest of the seeder; resolves with how many were inserted. Running a seeder twice
   * this way changes nothing the second time.
   */
  insertMissing(
    table: string,
    rows: ReadonlyArray<Record<string, unknown>>,
    key: string | readonly string[],
  ): Promise<number>;
}

export interface SeederDefinition<DB = AnyDatabase> {
  /** Fill tables. Runs in a transaction: a failing seeder leaves nothing behind. */
  run(ctx: SeederContext<DB>): Promise<void> | void;
  /** Only in these app environments (default: every one but production). */
  environments?: readonly string[];
  /** The connection to seed; the default connection when absent. */
  connection?: string;
}

export interface Seeder<DB = AnyDatabase> extends SeederDefinition<DB> {
  readonly kind: 'keel.seeder';
}

/**
 * Define a seeder, the default export of a file in a module's `seeders/` folder.
 *
 * @example
 * ```ts
 * export default defineSeeder({
 *   async run({ insertMissing }) {
 *     await insertMissing('products', [{ sku: 'CHAIR-01', name: 'Chair' }], 'sku');
 *   },
 * });
 * ```
 */
export function defineSeeder<DB = AnyDatabase>(definition: SeederDefinition<DB>): Seeder<DB> {
  return { ...definition, kind: 'keel.seeder' };
}

export function isSeeder(value: unknown): value is Seeder {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'keel.seeder' &&
    typeof (value as { run?: unknown }).run === 'function'
  );
}
