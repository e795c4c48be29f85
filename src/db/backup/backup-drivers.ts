import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DialectName } from '../config.js';
import { sqliteFilePath } from '../config.js';
import type { Connection } from '../connection.js';
import { E_BACKUP_FAILED, E_BACKUP_INVALID } from '../errors.js';
import { dropAllTables } from '../migrations/table-inspector.js';
import { mysqlArgs, mysqlEnv, pgArgs, pgEnv, serverTarget } from './server-target.js';
import { findTool, runTool } from './tool-runner.js';

/** What a driver needs beyond the connection. */
export interface BackupContext {
  /** The app root SQLite paths resolve against. */
  root: string;
  /** Where to look for pg_dump, mariadb-dump...; the PATH variable by default. */
  toolPath?: string;
}

/** How one engine writes a backup file and reads it back. */
export interface BackupDriver {
  backup(connection: Connection, file: string, context: BackupContext): Promise<void>;
  /** Replace the connection's tables with the backup's. */
  restore(connection: Connection, file: string, context: BackupContext): Promise<void>;
}

type SqliteDatabase = import('better-sqlite3').Database;

/**
 * SQLite: better-sqlite3's online backup API (a consistent copy while the app writes),
 * switched to a single self-contained file; restored through the same API into the live
 * file, which SQLite locks while it copies, so open handles see the restored data.
 */
export const sqliteBackupDriver: BackupDriver = {
  async backup(connection, file) {
    await connection.ping();
    const database = connection.native<SqliteDatabase>()!;
    await database.backup(file);
    const { default: Database } = await import('better-sqlite3');
    const copy = new Database(file);
    try {
      copy.pragma('journal_mode = delete');
    } finally {
      copy.close();
    }
  },

  async restore(connection, file, context) {
    const config = connection.config;
    const target = config.driver === 'sqlite' ? sqliteFilePath(config.filename, context.root) : '';
    if (target === ':memory:' || target.startsWith('file:'))
      throw new E_BACKUP_INVALID(file, `connection "${connection.name}" is not a file database`);
    const { default: Database } = await import('better-sqlite3');
    let source: SqliteDatabase;
    try {
      source = new Database(file, { readonly: true, fileMustExist: true });
      source.prepare('select count(*) from sqlite_master').get();
    } catch (error) {
      throw new E_BACKUP_INVALID(file, (error as Error).message).withCause(error);
    }
    try {
      await mkdir(dirname(target), { recursive: true });
      await source.backup(target);
    } finally {
      source.close();
    }
  },
};

function quotePattern(name: string): string {
  // pg_dump's --schema is a pattern; double quotes make it the exact (case-kept) name.
  return `"${name.replaceAll('"', '""')}"`;
}

/** PostgreSQL: `pg_dump` in custom format (only the connection's schema when it has one). */
export const postgresBackupDriver: BackupDriver = {
  async backup(connection, file, context) {
    const config = connection.config;
    if (config.driver !== 'postgres') throw new TypeError('not a PostgreSQL connection');
    const target = serverTarget(config);
    const pgDump = await findTool(['pg_dump'], 'PostgreSQL', context.toolPath);
    await tool(
      'Backup',
      connection,
      pgDump,
      [
        '--format=custom',
        `--file=${file}`,
        ...(config.schema ? [`--schema=${quotePattern(config.schema)}`] : []),
        ...pgArgs(target),
        ...(target.database ? [`--dbname=${target.database}`] : []),
      ],
      pgEnv(target),
    );
  },

  /**
   * `pg_restore --clean --if-exists` writes the restore script; psql runs it after wiping
   * the schema, all in one transaction: a restore that fails changes nothing.
   */
  async restore(connection, file, context) {
    const config = connection.config;
    if (config.driver !== 'postgres') throw new TypeError('not a PostgreSQL connection');
    const target = serverTarget(config);
    const pgRestore = await findTool(['pg_restore'], 'PostgreSQL', context.toolPath);
    const psql = await findTool(['psql'], 'PostgreSQL', context.toolPath);
    const work = await mkdtemp(join(tmpdir(), 'keel-restore-'));
    try {
      const script = join(work, 'restore.sql');
      try {
        await runTool(pgRestore, [
          '--clean',
          '--if-exists',
          '--no-owner',
          `--file=${script}`,
          file,
        ]);
      } catch (error) {
        throw new E_BACKUP_INVALID(file, (error as Error).message).withCause(error);
      }
      const wipe = join(work, 'wipe.sql');
      await writeFile(wipe, config.schema ? dropSchema(config.schema) : WIPE_CURRENT_SCHEMA);
      const env = {
        ...pgEnv(target),
        ...(config.schema ? { PGOPTIONS: `-c search_path=${config.schema}` } : {}),
      };
      await tool(
        'Restore',
        connection,
        psql,
        [
          '--no-psqlrc',
          '--quiet',
          '--single-transaction',
          '--set=ON_ERROR_STOP=1',
          `--file=${wipe}`,
          `--file=${script}`,
          ...pgArgs(target),
          ...(target.database ? [`--dbname=${target.database}`] : []),
        ],
        env,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};

/** Drop the schema with everything in it; the script's CREATE SCHEMA makes it again. */
function dropSchema(schema: string): string {
  return `DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE;\n`;
}

/** Without a schema of its own, the connection's tables and views in the current schema go. */
const WIPE_CURRENT_SCHEMA = `DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      current_schema(), r.relname);
  END LOOP;
END $$;
`;

/**
 * MySQL/MariaDB: `mariadb-dump` or `mysqldump` (one consistent snapshot), restored by the
 * `mariadb` or `mysql` client after the database's tables are dropped. MySQL commits each
 * DDL statement, so a restore that fails half-way leaves the tables it got to.
 */
export const mysqlBackupDriver: BackupDriver = {
  async backup(connection, file, context) {
    const config = connection.config;
    if (config.driver !== 'mysql') throw new TypeError('not a MySQL connection');
    const target = serverTarget(config);
    if (!target.database)
      throw new E_BACKUP_FAILED('Backup', connection.name, 'the connection names no database');
    const dump = await findTool(['mariadb-dump', 'mysqldump'], 'MySQL', context.toolPath);
    await tool(
      'Backup',
      connection,
      dump,
      [
        ...mysqlArgs(target),
        '--single-transaction',
        '--quick',
        '--routines',
        '--triggers',
        '--no-tablespaces',
        '--hex-blob',
        `--result-file=${file}`,
        '--',
        target.database,
      ],
      mysqlEnv(target),
    );
  },

  async restore(connection, file, context) {
    const config = connection.config;
    if (config.driver !== 'mysql') throw new TypeError('not a MySQL connection');
    const target = serverTarget(config);
    if (!target.database)
      throw new E_BACKUP_FAILED('Restore', connection.name, 'the connection names no database');
    const client = await findTool(['mariadb', 'mysql'], 'MySQL', context.toolPath);
    // The tables go before the dump loads: check first that it is one.
    if (!(await isMysqlDump(file)))
      throw new E_BACKUP_INVALID(file, 'it is not a mariadb-dump or mysqldump file');
    // Tables made after the backup would survive its DROP TABLE IF EXISTS statements.
    await dropAllTables(connection);
    await tool(
      'Restore',
      connection,
      client,
      [...mysqlArgs(target), `--database=${target.database}`],
      mysqlEnv(target),
      file,
    );
  },
};

/** The dump tools start every file with a `-- MariaDB dump` or `-- MySQL dump` header. */
async function isMysqlDump(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return /^-- (MariaDB|MySQL) dump/m.test(head.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

async function tool(
  action: string,
  connection: Connection,
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
  stdinFile?: string,
): Promise<void> {
  try {
    await runTool(file, args, { env, ...(stdinFile ? { stdinFile } : {}) });
  } catch (error) {
    throw new E_BACKUP_FAILED(action, connection.name, (error as Error).message).withCause(error);
  }
}

export const BACKUP_DRIVERS: Readonly<Record<DialectName, BackupDriver>> = {
  sqlite: sqliteBackupDriver,
  postgres: postgresBackupDriver,
  mysql: mysqlBackupDriver,
};
