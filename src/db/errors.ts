import { defineError } from '../support/index.js';

/**
 * The database catalogue: configuration and drivers (500s raised at boot or first use),
 * connection faults (503: retrying later can succeed), constraint violations a client
 * caused (409), and identifiers refused from user input (400).
 */

export const E_DB_CONFIG_INVALID = defineError(
  'E_DB_CONFIG_INVALID',
  (path: string, reason: string) => `Invalid database config at "${path}": ${reason}`,
  {
    status: 500,
    help: 'Fix config/database.ts (or the DB_* env variables); see docs/database.md for every option.',
    details: (path) => ({ path }),
  },
);

export const E_DB_CONNECTION_NOT_FOUND = defineError(
  'E_DB_CONNECTION_NOT_FOUND',
  (name: string, known: string[], suggestion: string | undefined) =>
    `No database connection named "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; configured: ${known.join(', ') || 'none'}`,
  {
    status: 500,
    help: 'Use a connection name from `connections` in config/database.ts, or add it there.',
    details: (name, known) => ({ name, known }),
  },
);

export const E_DB_DRIVER_MISSING = defineError(
  'E_DB_DRIVER_MISSING',
  (dialect: string, pkg: string) =>
    `The ${dialect} driver needs the "${pkg}" package, which is not installed`,
  {
    status: 500,
    help: 'Install the driver package in the application (`npm install pg`, `npm install mysql2`); SQLite needs better-sqlite3.',
    details: (dialect, pkg) => ({ dialect, package: pkg }),
  },
);

export const E_DB_CONNECTION_FAILED = defineError(
  'E_DB_CONNECTION_FAILED',
  (connection: string, reason: string) => `Cannot connect to database "${connection}": ${reason}`,
  {
    status: 503,
    help: 'Check that the database server runs and that host, port, user, password and database in the connection config are right.',
    details: (connection) => ({ connection }),
  },
);

export const E_DB_CONNECTION_LOST = defineError(
  'E_DB_CONNECTION_LOST',
  (connection: string, reason: string) =>
    `The connection to database "${connection}" was lost during a query: ${reason}`,
  {
    status: 503,
    help: 'Retry the operation: the pool replaces the broken connection on the next query. If it repeats, check the server logs and network.',
    details: (connection) => ({ connection }),
  },
);

export const E_DB_UNIQUE_VIOLATION = defineError(
  'E_DB_UNIQUE_VIOLATION',
  (connection: string, constraint: string) =>
    `A row with the same unique value already exists (${constraint}) on "${connection}"`,
  {
    status: 409,
    help: 'Use another value for the unique column, or update the existing row instead of inserting.',
    details: (connection, constraint) => ({ connection, constraint }),
  },
);

export const E_DB_FOREIGN_KEY_VIOLATION = defineError(
  'E_DB_FOREIGN_KEY_VIOLATION',
  (connection: string, constraint: string) =>
    `The change breaks a foreign key (${constraint}) on "${connection}"`,
  {
    status: 409,
    help: 'Reference a row that exists, or delete the rows that depend on this one first.',
    details: (connection, constraint) => ({ connection, constraint }),
  },
);

export const E_DB_CONCURRENT_TRANSACTION = defineError(
  'E_DB_CONCURRENT_TRANSACTION',
  (connection: string) =>
    `A nested transaction on "${connection}" started while another nested one in the same transaction was still running`,
  {
    status: 500,
    help: 'Await nested transactions one after the other: they share the outer transaction’s single database connection.',
    details: (connection) => ({ connection }),
  },
);

export const E_DB_CLOSED = defineError(
  'E_DB_CLOSED',
  (connection: string) => `Database connection "${connection}" is closed`,
  {
    status: 500,
    help: 'Do not query after the application shut down; resolve `db()` again from a running app.',
    details: (connection) => ({ connection }),
  },
);

export const E_DB_NOT_CONFIGURED = defineError(
  'E_DB_NOT_CONFIGURED',
  () => 'No application database is available to db()',
  {
    status: 500,
    help: 'Call db() from a booted application (the DatabaseProvider sets it up), or use app.make("db").',
  },
);

export const E_DB_IDENTIFIER_REFUSED = defineError(
  'E_DB_IDENTIFIER_REFUSED',
  (kind: string, value: string, allowed: readonly string[]) =>
    `Refused ${kind} "${value.length > 64 ? `${value.slice(0, 64)}…` : value}"; allowed: ${allowed.join(', ')}`,
  {
    status: 400,
    help: 'Pick one of the allowed names; column and table names from requests are never passed to SQL unless allow-listed.',
    details: (kind, _value, allowed) => ({ kind, allowed }),
  },
);

export const E_SEEDER_NOT_FOUND = defineError(
  'E_SEEDER_NOT_FOUND',
  (name: string, known: string[], suggestion: string | undefined) =>
    `No seeder named "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; found: ${known.join(', ') || 'none'}`,
  {
    status: 404,
    help: 'Run `keel db:seed` without --class to list what runs, or name a seeder as <module>:<file name>.',
    details: (name, known) => ({ name, known }),
  },
);

export const E_SEEDER_AMBIGUOUS = defineError(
  'E_SEEDER_AMBIGUOUS',
  (name: string, matches: string[]) =>
    `Seeder name "${name}" matches several seeders: ${matches.join(', ')}`,
  {
    status: 400,
    help: 'Prefix the seeder with its module: `keel db:seed --class <module>:<name>`.',
    details: (name, matches) => ({ name, matches }),
  },
);

export const E_SEEDER_INVALID = defineError(
  'E_SEEDER_INVALID',
  (file: string) => `${file} does not export a seeder as its default export`,
  {
    status: 500,
    help: 'Make the file `export default defineSeeder({ async run(ctx) { ... } })`.',
    details: (file) => ({ file }),
  },
);

export const E_SEED_IN_PRODUCTION = defineError(
  'E_SEED_IN_PRODUCTION',
  () => 'Refusing to seed the production database without --force',
  {
    status: 500,
    help: 'Check that you mean to write seed data to production, then run `keel db:seed --force`.',
  },
);

export const E_SEEDER_NAME_INVALID = defineError(
  'E_SEEDER_NAME_INVALID',
  (name: string) => `Invalid seeder name "${name}"`,
  {
    status: 400,
    help: 'Use letters, digits, "-" and "_" (e.g. `products` or `demo-orders`), starting with a letter.',
    details: (name) => ({ name }),
  },
);

/** Field names from input, for a message: quoted, cut to 64 characters, at most 10. */
function quoteFields(fields: string[]): string {
  const shown = fields.slice(0, 10).map((f) => `"${f.length > 64 ? `${f.slice(0, 64)}…` : f}"`);
  return `${shown.join(', ')}${fields.length > 10 ? ` and ${fields.length - 10} more` : ''}`;
}

export const E_MODEL_NOT_FOUND = defineError(
  'E_MODEL_NOT_FOUND',
  (model: string, key: string | undefined) =>
    key === undefined
      ? `No ${model} matches the query`
      : `${model} with key "${key.length > 64 ? `${key.slice(0, 64)}…` : key}" was not found`,
  {
    status: 404,
    help: 'Check the key; use find() or first() instead of findOrFail() / firstOrFail() when a missing row is expected.',
    details: (model, key) => (key === undefined ? { model } : { model, key: key.slice(0, 64) }),
  },
);

export const E_MASS_ASSIGNMENT = defineError(
  'E_MASS_ASSIGNMENT',
  (model: string, fields: string[], allowed: string[]) =>
    `${model} does not accept ${quoteFields(fields)} by mass assignment; fillable: ${allowed.join(', ') || 'none'}`,
  {
    status: 422,
    help: 'Send only the fillable fields, or add the field to the model’s `fillable` list (set trusted fields one by one: `model.field = value`).',
    details: (model, fields, allowed) => ({
      model,
      fields: fields.slice(0, 50).map((f) => f.slice(0, 64)),
      allowed,
    }),
  },
);

export const E_MODEL_INVALID_VALUE = defineError(
  'E_MODEL_INVALID_VALUE',
  (model: string, column: string, expected: string, got: string) =>
    `${model}.${column} expects ${expected}, got ${got}`,
  {
    status: 422,
    help: 'Pass a value of the column’s type (see its column.*() definition); dates take a Date or an ISO-8601 string.',
    details: (model, column, expected, got) => ({ model, column, expected, got }),
  },
);

export const E_MODEL_DEFINITION_INVALID = defineError(
  'E_MODEL_DEFINITION_INVALID',
  (model: string, reason: string) => `Invalid model ${model}: ${reason}`,
  {
    status: 500,
    help: 'Fix the defineModel() definition or the relation getter named in the message; see docs/models.md.',
    details: (model) => ({ model }),
  },
);

export const E_MODEL_RELATION_NOT_LOADED = defineError(
  'E_MODEL_RELATION_NOT_LOADED',
  (model: string, relation: string) => `${model}.${relation} is not loaded`,
  {
    status: 500,
    help: 'Eager load it with Model.query().with(relation), or await model.load(relation) first; relations never load behind a property read.',
    details: (model, relation) => ({ model, relation }),
  },
);

export const E_MODEL_NOT_PERSISTED = defineError(
  'E_MODEL_NOT_PERSISTED',
  (model: string, action: string) => `Cannot ${action} a ${model} that is not saved`,
  {
    status: 500,
    help: 'Save the model first (await model.save()), or load it with find() / query().',
    details: (model, action) => ({ model, action }),
  },
);

export const E_MODEL_CURSOR_INVALID = defineError(
  'E_MODEL_CURSOR_INVALID',
  (reason: string) => `Invalid pagination cursor: ${reason}`,
  {
    status: 400,
    help: 'Pass back the nextCursor of the previous page unchanged, or omit the cursor to start from the first page.',
  },
);

export const E_MODEL_QUERY_INVALID = defineError(
  'E_MODEL_QUERY_INVALID',
  (what: string, reason: string) => `Invalid ${what}: ${reason}`,
  {
    status: 400,
    help: 'Use a positive whole number for page, perPage and limit (within the maximum), and a non-nullable column for cursor ordering.',
    details: (what) => ({ what }),
  },
);

export const E_DB_N_PLUS_ONE = defineError(
  'E_DB_N_PLUS_ONE',
  (description: string) => `N+1 query detected: ${description}`,
  {
    status: 500,
    help: 'Eager load the relation with Model.query().with(...) (one query per relation), or load it for every model at once with load().',
  },
);

export const E_MIGRATION_INVALID = defineError(
  'E_MIGRATION_INVALID',
  (source: string, reason: string) => `Migration ${source} cannot be used: ${reason}`,
  {
    status: 500,
    help: 'Name migration files <YYYY_MM_DD_HHMMSS>_<snake_name>.ts and make each `export default defineMigration({ up, down })` (`keel make:migration` writes one).',
    details: (source, reason) => ({ source, reason }),
  },
);

export const E_MIGRATION_NAME_INVALID = defineError(
  'E_MIGRATION_NAME_INVALID',
  (name: string, suggestion: string | undefined) =>
    `"${name.length > 80 ? `${name.slice(0, 80)}…` : name}" is not a valid migration name${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
  {
    status: 400,
    help: 'Describe the change in letters, digits and underscores, starting with a letter: `create_orders_table`, `add_status_to_orders`.',
    details: (_name, suggestion) => ({ suggestion }),
  },
);

export const E_MIGRATION_NOT_FOUND = defineError(
  'E_MIGRATION_NOT_FOUND',
  (name: string, module: string, connection: string) =>
    `Migration ${name} of "${module}" ran on "${connection}", but no module or framework source has it any more`,
  {
    status: 404,
    help: 'Restore the migration file (it is needed to roll it back), or enable the module that owns it; `keel migrate:status` lists such migrations as missing.',
    details: (name, module, connection) => ({ name, module, connection }),
  },
);

export const E_MIGRATION_IRREVERSIBLE = defineError(
  'E_MIGRATION_IRREVERSIBLE',
  (name: string, module: string) => `Migration ${name} of "${module}" has no down() to roll back`,
  {
    status: 500,
    help: 'Add a down() that undoes up(), or restore a backup taken before it (`keel db:backups`, `keel db:restore`). Nothing was rolled back.',
    details: (name, module) => ({ name, module }),
  },
);

export const E_MIGRATION_FAILED = defineError(
  'E_MIGRATION_FAILED',
  (name: string, module: string, connection: string, reason: string, changes: string) =>
    `Migration ${name} of "${module}" failed on "${connection}": ${reason} (its changes ${changes === 'rolled-back' ? 'were rolled back' : 'may be partly applied'}); the connection is now UNSAFE`,
  {
    status: 500,
    help: 'Fix the migration. If its changes may be partly applied, repair the schema or restore the backup taken before it (`keel db:restore`); then run `keel migrate:reset-state --force` and migrate again.',
    details: (name, module, connection, _reason, changes) => ({
      name,
      module,
      connection,
      changes,
    }),
  },
);

export const E_DB_UNSAFE = defineError(
  'E_DB_UNSAFE',
  (connection: string, reason: string) =>
    `Database connection "${connection}" is UNSAFE: ${reason}`,
  {
    status: 500,
    help: 'Check the schema first: if the changes may be partly applied, restore the backup taken before the migration (`keel db:backups`, `keel db:restore <file>`) or repair it by hand. Then run `keel migrate:reset-state --force` and migrate again.',
    details: (connection) => ({ connection }),
  },
);

export const E_MIGRATION_LOCKED = defineError(
  'E_MIGRATION_LOCKED',
  (connection: string) =>
    `Another process holds the migration lock of "${connection}" (it is migrating now)`,
  {
    status: 409,
    help: 'Wait for the other migration to finish and run the command again; the lock is released when that process ends, even if it crashes.',
    details: (connection) => ({ connection }),
  },
);

export const E_MIGRATE_IN_PRODUCTION = defineError(
  'E_MIGRATE_IN_PRODUCTION',
  (command: string) => `Refusing to run ${command} on the production database without --force`,
  {
    status: 500,
    help: 'Check that you mean to change the production schema, then run the command again with --force.',
    details: (command) => ({ command }),
  },
);

export const E_MIGRATION_STATE_INVALID = defineError(
  'E_MIGRATION_STATE_INVALID',
  (file: string, reason: string) => `The migration state file ${file} cannot be read: ${reason}`,
  {
    status: 500,
    help: 'The file is written by Keel only. Check the database with `keel migrate:status`, then run `keel migrate:reset-state --force` to start a new state file.',
    details: (file, reason) => ({ file, reason }),
  },
);

export const E_MIGRATE_OPTION_INVALID = defineError(
  'E_MIGRATE_OPTION_INVALID',
  (option: string, value: string, expected: string) =>
    `Invalid --${option} "${value.length > 40 ? `${value.slice(0, 40)}…` : value}": expected ${expected}`,
  {
    status: 400,
    help: 'Pass --step a positive whole number (`--step 1`), or --step alone on `migrate` to give each migration its own batch.',
    details: (option, _value, expected) => ({ option, expected }),
  },
);

export const E_BACKUP_TOOL_MISSING = defineError(
  'E_BACKUP_TOOL_MISSING',
  (tools: string[], dialect: string) =>
    `${dialect} backups need ${tools.join(' or ')}, which is not on the PATH`,
  {
    status: 500,
    help: 'Install the client tools of your database server (postgresql-client for pg_dump, pg_restore and psql; mariadb-client or mysql-client for the dump and client tools), or skip the backup with --no-backup.',
    details: (tools, dialect) => ({ tools, dialect }),
  },
);

export const E_BACKUP_FAILED = defineError(
  'E_BACKUP_FAILED',
  (action: string, connection: string, reason: string) =>
    `${action} of "${connection}" failed: ${reason}`,
  {
    status: 500,
    help: 'Read the tool’s message above; check the connection settings, the disk space and that the database user may read (or, to restore, create) every object.',
    details: (action, connection) => ({ action, connection }),
  },
);

export const E_BACKUP_NOT_FOUND = defineError(
  'E_BACKUP_NOT_FOUND',
  (file: string, known: string[]) =>
    `No backup file "${file.length > 120 ? `${file.slice(0, 120)}…` : file}"; backups: ${known.slice(0, 5).join(', ') || 'none'}${known.length > 5 ? ', …' : ''}`,
  {
    status: 404,
    help: 'Run `keel db:backups` to list the backups, and pass one of their file names (or a path) to `keel db:restore`.',
    details: (_file, known) => ({ known: known.slice(0, 20) }),
  },
);

export const E_BACKUP_INVALID = defineError(
  'E_BACKUP_INVALID',
  (file: string, reason: string) => `Cannot restore ${file}: ${reason}`,
  {
    status: 400,
    help: 'Restore a file `keel db:backup` wrote for a connection of the same engine: .sqlite for SQLite, .dump for PostgreSQL, .sql for MySQL (pass --connection when its name does not say).',
    details: (file, reason) => ({ file, reason }),
  },
);

export const E_DB_DISK_FULL = defineError(
  'E_DB_DISK_FULL',
  (connection: string, reason: string) =>
    `Database "${connection}" is full; the write was refused and rolled back: ${reason}`,
  {
    status: 507,
    help: 'Free disk space on the database server (or raise SQLite’s max_page_count / the table size limit), then retry: rows already written are intact.',
    details: (connection) => ({ connection }),
  },
);
