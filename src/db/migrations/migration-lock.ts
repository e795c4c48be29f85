import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import { sqliteFilePath } from '../config.js';
import type { AnyDatabase, Connection } from '../connection.js';
import { E_MIGRATION_LOCKED } from '../errors.js';

export interface MigrationLockOptions {
  /** Give up after waiting this long for another process's lock (ms); 0 tries once. */
  timeoutMs: number;
  /** How often to try again while waiting (ms). */
  pollMs?: number;
  /** The app root SQLite paths resolve against. */
  root: string;
  /** Called once when the lock is taken and this process starts waiting. */
  onWait?: () => void;
}

/** Arbitrary first key of Keel's PostgreSQL advisory locks ("Keel" in ASCII). */
const PG_LOCK_KEY = 0x4b65656c;

/** One attempt to take the lock: the release function, or undefined when it is held. */
type TryLock = () => Promise<(() => Promise<void>) | undefined>;

/**
 * Run `fn` holding the connection's migration lock, so two processes migrating the same
 * database never both run: PostgreSQL takes a session advisory lock keyed by the schema,
 * MySQL `GET_LOCK` keyed by the database, and SQLite an exclusive transaction on a lock
 * database beside its file. All three are released by the server or the OS when the
 * holder dies, so a killed migration never leaves a stale lock. PostgreSQL and MySQL hold
 * one pooled connection for the lock, so the pool needs at least two.
 */
export async function withMigrationLock<T>(
  connection: Connection,
  options: MigrationLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  if (connection.dialect === 'sqlite') {
    const file = sqliteLockFile(connection, options.root);
    if (!file) return fn();
    return holding(connection.name, () => trySqliteLock(file), options, fn);
  }
  // The lock is a session's: every attempt and the release run on one pinned connection.
  return connection.kysely
    .connection()
    .execute((pinned) =>
      holding(
        connection.name,
        () => (connection.dialect === 'postgres' ? tryPgLock(pinned) : tryMysqlLock(pinned)),
        options,
        fn,
      ),
    );
}

async function holding<T>(
  name: string,
  attempt: TryLock,
  options: MigrationLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  let release = await attempt();
  let waited = false;
  while (!release) {
    if (Date.now() - started >= options.timeoutMs) throw new E_MIGRATION_LOCKED(name);
    if (!waited) options.onWait?.();
    waited = true;
    await sleep(options.pollMs ?? 100);
    release = await attempt();
  }
  try {
    return await fn();
  } finally {
    // A release that fails means the session holding the lock is gone, and the lock with
    // it: the error of `fn` (if any) is the one worth reporting.
    await release().catch(() => undefined);
  }
}

function tryPgLock(db: Kysely<AnyDatabase>): ReturnType<TryLock> {
  return (async () => {
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_lock(${sql.lit(PG_LOCK_KEY)}, hashtext(current_schema())) as locked`.execute(
      db,
    );
    if (!rows[0]?.locked) return undefined;
    return async () => {
      await sql`select pg_advisory_unlock(${sql.lit(PG_LOCK_KEY)}, hashtext(current_schema()))`.execute(
        db,
      );
    };
  })();
}

// GET_LOCK names are server-wide and at most 64 characters: a hash of the database name.
const MYSQL_LOCK_NAME = sql`concat('keel_migrations:', sha1(database()))`;

function tryMysqlLock(db: Kysely<AnyDatabase>): ReturnType<TryLock> {
  return (async () => {
    const { rows } = await sql<{
      locked: number | null;
    }>`select get_lock(${MYSQL_LOCK_NAME}, 0) as locked`.execute(db);
    if (Number(rows[0]?.locked) !== 1) return undefined;
    return async () => {
      await sql`select release_lock(${MYSQL_LOCK_NAME})`.execute(db);
    };
  })();
}

/** The lock database of a SQLite file; none for in-memory databases (one process only). */
export function sqliteLockFile(connection: Connection, root: string): string | undefined {
  const config = connection.config;
  if (config.driver !== 'sqlite') return undefined;
  const file = sqliteFilePath(config.filename, root);
  if (file === ':memory:' || file.startsWith('file:')) return undefined;
  return `${file}.keel-lock`;
}

/**
 * The migration's own writes go to the main file, so the lock cannot be a write
 * transaction there (it would block them): it is one on a small database beside it.
 * SQLite's file locks are held by the process, so the OS drops them when it dies.
 */
async function trySqliteLock(file: string): ReturnType<TryLock> {
  const { default: Database } = await import('better-sqlite3');
  // The database file itself may not exist yet: its folder is made on first connect.
  mkdirSync(dirname(file), { recursive: true });
  const lock = new Database(file, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw error;
  }
  return async () => {
    lock.exec('COMMIT');
    lock.close();
  };
}
