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
