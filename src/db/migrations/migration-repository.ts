import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../config.js';
import type { AnyDatabase, Connection } from '../connection.js';

/** The table each connection records its applied migrations in. */
export const MIGRATIONS_TABLE = 'keel_migrations';

/** One applied migration, as `keel_migrations` holds it. */
export interface MigrationRecord {
  id: number;
  name: string;
  module: string;
  batch: number;
  /** ISO 8601, UTC. */
  migratedAt: string;
}

interface Row {
  id: number | string;
  name: string;
  module: string;
  batch: number | string;
  migrated_at: Date | string;
}

/**
 * Reads and writes `keel_migrations` on one connection: `(id, name, module, batch,
 * migrated_at)`, unique on `(module, name)`. Reads never create the table; the migrator
 * creates it before its first write.
 */
export class MigrationRepository {
  readonly #connection: Connection;

  constructor(connection: Connection) {
    this.#connection = connection;
  }

  get #db(): Kysely<AnyDatabase> {
    return this.#connection.kysely;
  }

  async exists(): Promise<boolean> {
    const rows = await tableExists(this.#connection.dialect, MIGRATIONS_TABLE).execute(this.#db);
    return rows.rows.length > 0;
  }

  /** Create the table if it is missing. */
  async ensure(): Promise<void> {
    if (await this.exists()) return;
    const dialect = this.#connection.dialect;
    await this.#db.schema
      .createTable(MIGRATIONS_TABLE)
      .ifNotExists()
      .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('module', 'varchar(255)', (c) => c.notNull())
      .addColumn('batch', 'integer', (c) => c.notNull())
      .addColumn('migrated_at', timestampType(dialect), (c) => c.notNull())
      .addUniqueConstraint('keel_migrations_module_name_unique', ['module', 'name'])
      .execute();
  }

  /** Every applied migration, oldest first; none when the table does not exist yet. */
  async all(): Promise<MigrationRecord[]> {
    if (!(await this.exists())) return [];
    const rows = (await this.#db
      .selectFrom(MIGRATIONS_TABLE)
      .select(['id', 'name', 'module', 'batch', 'migrated_at'])
      .orderBy('id')
      .execute()) as Row[];
    return rows.map((row) => ({
      id: Number(row.id),
      name: row.name,
      module: row.module,
      batch: Number(row.batch),
      migratedAt:
        row.migrated_at instanceof Date
          ? row.migrated_at.toISOString()
          : new Date(row.migrated_at).toISOString(),
    }));
  }

  /** Record `name` as applied in `batch`, on `db` (the migration's transaction, if any). */
  async log(db: Kysely<AnyDatabase>, module: string, name: string, batch: number): Promise<void> {
    const at = new Date();
    await db
      .insertInto(MIGRATIONS_TABLE)
      .values({
        name,
        module,
        batch,
        migrated_at: this.#connection.dialect === 'sqlite' ? at.toISOString() : at,
      })
      .execute();
  }

  async remove(db: Kysely<AnyDatabase>, module: string, name: string): Promise<void> {
    await db
      .deleteFrom(MIGRATIONS_TABLE)
      .where('module', '=', module)
      .where('name', '=', name)
      .execute();
  }
}

function timestampType(dialect: DialectName): 'timestamptz' | 'text' {
  if (dialect === 'postgres') return 'timestamptz';
  // MySQL's DATETIME(3) keeps milliseconds; dates travel in UTC (the pool's timezone).
  return dialect === 'mysql' ? (sql`datetime(3)` as never) : 'text';
}

/** A query returning one row when `table` exists in the connection's schema or database. */
export function tableExists(dialect: DialectName, table: string) {
  switch (dialect) {
    case 'sqlite':
      return sql<{
        name: string;
      }>`select name from sqlite_master where type = 'table' and name = ${table}`;
    case 'postgres':
      return sql<{
        name: string;
      }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_name = ${table}`;
    case 'mysql':
      return sql<{
        name: string;
      }>`select table_name as name from information_schema.tables where table_schema = database() and table_name = ${table}`;
  }
}
