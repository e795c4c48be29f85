import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { E_DB_UNSAFE, E_MIGRATION_STATE_INVALID } from '../errors.js';

/** A migration being applied (or undone) right now, recorded before it starts. */
export interface RunningMigration {
  migration: string;
  module: string;
  connection: string;
  direction: 'up' | 'down';
  /** Inside a transaction: if the process dies, the database rolls its work back. */
  transactional: boolean;
  pid: number;
  host: string;
  startedAt: string;
}

/**
 * Why a connection's schema cannot be trusted: a migration failed (`failed`), or a process
 * died while running one (`interrupted`). `changes` says whether its work was rolled back
 * (transactional DDL) or may be partly applied (MySQL, or a non-transactional migration).
 */
export interface UnsafeState {
  reason: 'failed' | 'interrupted';
  migration: string;
  module: string;
  connection: string;
  direction: 'up' | 'down';
  error: string;
  at: string;
  changes: 'rolled-back' | 'partial';
}

export interface ConnectionMigrationState {
  running?: RunningMigration;
  unsafe?: UnsafeState;
}

interface StateFile {
  version: 1;
  connections: Record<string, ConnectionMigrationState>;
}

/**
 * `var/state/migrations.json`: which migration runs now, and which connections are UNSAFE
 * because one failed or was cut short. It outlives the process on purpose: a migration
 * killed half-way leaves its `running` record behind, and the next run refuses to go on.
 *
 * @example
 * ```ts
 * const state = new MigrationStateStore(`${app.paths.state}/migrations.json`);
 * const unsafe = (await state.get('default')).unsafe;
 * ```
 */
export class MigrationStateStore {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  /** Every connection's state; E_MIGRATION_STATE_INVALID when the file is not ours. */
  async read(): Promise<Record<string, ConnectionMigrationState>> {
    if (!existsSync(this.file)) return {};
    const text = await readFile(this.file, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new E_MIGRATION_STATE_INVALID(this.file, 'it is not valid JSON').withCause(error);
    }
    const connections = (parsed as Partial<StateFile> | null)?.connections;
    if (!connections || typeof connections !== 'object' || Array.isArray(connections))
      throw new E_MIGRATION_STATE_INVALID(this.file, 'it has no "connections" object');
    return connections;
  }

  async get(connection: string): Promise<ConnectionMigrationState> {
    const all = await this.read();
    return Object.hasOwn(all, connection) ? (all[connection] ?? {}) : {};
  }

  /** Record that a migration starts (before its first statement). */
  async markRunning(record: Omit<RunningMigration, 'pid' | 'host' | 'startedAt'>): Promise<void> {
    await this.#update(record.connection, (state) => ({
      ...state,
      running: { ...record, pid: process.pid, host: hostname(), startedAt: now() },
    }));
  }

  /** The migration finished: nothing runs on the connection any more. */
  async clearRunning(connection: string): Promise<void> {
    await this.#update(connection, ({ running: _, ...rest }) => rest);
  }

  /** The connection is UNSAFE until {@link reset}; its `running` record goes. */
  async markUnsafe(unsafe: Omit<UnsafeState, 'at'>): Promise<UnsafeState> {
    const record: UnsafeState = { ...unsafe, at: now() };
    await this.#update(unsafe.connection, () => ({ unsafe: record }));
    return record;
  }

  /**
   * Called with the connection's migration lock held: a `running` record now belongs to a
   * process that died mid-migration, so it turns into an UNSAFE one. Throws E_DB_UNSAFE
   * when the connection is (or just became) UNSAFE.
   */
  async assertSafe(connection: string): Promise<void> {
    const state = await this.get(connection);
    let unsafe = state.unsafe;
    if (!unsafe && state.running) {
      const r = state.running;
      unsafe = await this.markUnsafe({
        reason: 'interrupted',
        migration: r.migration,
        module: r.module,
        connection,
        direction: r.direction,
        error: `process ${r.pid} on ${r.host} stopped while running it (started ${r.startedAt})`,
        changes: r.transactional ? 'rolled-back' : 'partial',
      });
    }
    if (unsafe) throw unsafeError(unsafe);
  }

  /** Forget the state of one connection, or of all. */
  async reset(connection?: string): Promise<void> {
    if (connection === undefined) {
      await rm(this.file, { force: true });
      return;
    }
    let all: Record<string, ConnectionMigrationState>;
    try {
      all = await this.read();
    } catch {
      // A damaged file: resetting one connection resets them all.
      all = {};
    }
    delete all[connection];
    await this.#write(all);
  }

  async #update(
    connection: string,
    change: (state: ConnectionMigrationState) => ConnectionMigrationState,
  ): Promise<void> {
    const all = await this.read();
    const next = change(Object.hasOwn(all, connection) ? (all[connection] ?? {}) : {});
    if (Object.keys(next).length === 0) delete all[connection];
    else all[connection] = next;
    await this.#write(all);
  }

  // Write a temp file and rename it: a crash mid-write never leaves half a JSON document.
  async #write(connections: Record<string, ConnectionMigrationState>): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const body: StateFile = { version: 1, connections };
    const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, this.file);
  }
}

/** The E_DB_UNSAFE error for a recorded state. */
export function unsafeError(unsafe: UnsafeState): Error {
  const what = unsafe.reason === 'interrupted' ? 'was interrupted' : 'failed';
  const changes =
    unsafe.changes === 'rolled-back'
      ? 'its changes were rolled back'
      : 'its changes may be partly applied';
  return new E_DB_UNSAFE(
    unsafe.connection,
    `migration ${unsafe.migration} (${unsafe.module}, ${unsafe.direction}) ${what} at ${unsafe.at}: ${unsafe.error}; ${changes}`,
  );
}

/** True when the process that wrote `running` still runs (on this machine). */
export function isAlive(running: RunningMigration): boolean {
  if (running.host !== hostname()) return true;
  try {
    process.kill(running.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function now(): string {
  return new Date().toISOString();
}
