import { existsSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Awaitable } from '../../support/index.js';
import { type DialectName, sqliteFilePath } from '../config.js';
import type { AnyDatabase, Connection } from '../connection.js';
import {
  E_MIGRATE_IN_PRODUCTION,
  E_MIGRATE_OPTION_INVALID,
  E_MIGRATION_FAILED,
  E_MIGRATION_IRREVERSIBLE,
  E_MIGRATION_NOT_FOUND,
} from '../errors.js';
import type { MigrationEntry } from './migration.js';
import { withMigrationLock } from './migration-lock.js';
import { type MigrationRecord, MigrationRepository } from './migration-repository.js';
import { type MigrationStateStore, unsafeError } from './migration-state.js';
import { recordSql } from './sql-recorder.js';
import { dropAllTables } from './table-inspector.js';

export interface MigratorOptions {
  connection: Connection;
  /** The application's migrations; those of other connections are ignored. */
  migrations: readonly MigrationEntry[];
  /** `var/state/migrations.json`. */
  state: MigrationStateStore;
  /** The app root (SQLite files resolve against it). */
  root: string;
  /** `fresh()` refuses to run unless forced. */
  production?: boolean;
  /** How long to wait for another process's migration lock (ms); default 60 s. */
  lockTimeoutMs?: number;
  /** Called once when another process holds the lock and this one starts waiting. */
  onLockWait?: () => void;
}

/** Where one migration stands on its connection. */
export interface MigrationStatus {
  name: string;
  module: string;
  connection: string;
  /** `missing`: recorded as run, but no module or source has it any more. */
  status: 'ran' | 'pending' | 'missing';
  batch: number | null;
  migratedAt: string | null;
}

/** One migration applied or undone (or, in a dry run, the SQL it would send). */
export interface MigrationRun {
  name: string;
  module: string;
  connection: string;
  direction: 'up' | 'down';
  batch: number;
  durationMs: number;
  /** Dry runs: the statements, compiled for the connection's dialect. */
  statements?: string[];
}

export interface MigrateResult {
  connection: string;
  dialect: DialectName;
  direction: 'up' | 'down';
  dryRun: boolean;
  migrations: MigrationRun[];
}

export interface MigrateOptions {
  /**
   * `true`: each migration gets its own batch (so `rollback --step 1` undoes one);
   * a number N: run only the next N pending migrations, each in its own batch.
   */
  step?: number | true;
  /** Print the SQL, run nothing, take no lock. */
  dryRun?: boolean;
  /** Runs with the lock held when something is pending, before the first migration. */
  beforeMigrate?: (pending: readonly MigrationEntry[]) => Awaitable<void>;
  onMigrated?: (run: MigrationRun) => void;
}

export interface RollbackOptions {
  /** Undo the last N migrations; without it, the last batch. */
  step?: number;
  dryRun?: boolean;
  onMigrated?: (run: MigrationRun) => void;
}

export interface FreshOptions {
  /** Allow it in production. */
  force?: boolean;
  /** Runs with the lock held, before anything is dropped (the backup). */
  beforeDrop?: () => Awaitable<void>;
  onMigrated?: (run: MigrationRun) => void;
}

export interface FreshResult extends MigrateResult {
  dropped: string[];
}

const key = (module: string, name: string): string => `${module}\u0000${name}`;

/**
 * Applies and undoes the migrations of one connection, recording them in
 * `keel_migrations` by batch. Each migration runs in a transaction where the dialect has
 * transactional DDL, under a lock that keeps other processes out, and is recorded in
 * `var/state/migrations.json` while it runs: a failure (or a process killed mid-way)
 * marks the connection UNSAFE, and nothing migrates it until the state is reset.
 *
 * @example
 * ```ts
 * const migrator = new Migrator({ connection: db(), migrations, state, root: app.paths.root });
 * await migrator.migrate();
 * await migrator.rollback({ step: 1 });
 * ```
 */
export class Migrator {
  readonly connection: Connection;
  readonly #entries: readonly MigrationEntry[];
  readonly #state: MigrationStateStore;
  readonly #repository: MigrationRepository;
  readonly #options: MigratorOptions;

  constructor(options: MigratorOptions) {
    this.connection = options.connection;
    this.#entries = options.migrations.filter((m) => m.connection === options.connection.name);
    this.#state = options.state;
    this.#repository = new MigrationRepository(options.connection);
    this.#options = options;
  }

  /** This connection's migrations, in order. */
  get migrations(): readonly MigrationEntry[] {
    return this.#entries;
  }

  /** Every migration with its status, plus recorded ones whose source is gone (`missing`). */
  async status(): Promise<MigrationStatus[]> {
    const records = await this.#records();
    const byKey = new Map(records.map((r) => [key(r.module, r.name), r]));
    const known = new Set<string>();
    const out: MigrationStatus[] = this.#entries.map((entry) => {
      const k = key(entry.module, entry.name);
      known.add(k);
      const record = byKey.get(k);
      return {
        name: entry.name,
        module: entry.module,
        connection: this.connection.name,
        status: record ? 'ran' : 'pending',
        batch: record?.batch ?? null,
        migratedAt: record?.migratedAt ?? null,
      };
    });
    for (const record of records) {
      if (known.has(key(record.module, record.name))) continue;
      out.push({
        name: record.name,
        module: record.module,
        connection: this.connection.name,
        status: 'missing',
        batch: record.batch,
        migratedAt: record.migratedAt,
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The migrations not run yet, in the order they will run. */
  async pending(): Promise<MigrationEntry[]> {
    const ran = new Set((await this.#records()).map((r) => key(r.module, r.name)));
    return this.#entries.filter((e) => !ran.has(key(e.module, e.name)));
  }

  /** Run the pending migrations (or `step` of them) as a new batch. */
  async migrate(options: MigrateOptions = {}): Promise<MigrateResult> {
    const step = checkStep(options.step, true);
    await this.#assertNotUnsafe();
    if (options.dryRun) return this.#planUp(step);
    const state = await this.#state.get(this.connection.name);
    // Nothing to do and no crash to detect: no lock, and no table created.
    if (!state.running && (await this.pending()).length === 0) return this.#result('up', [], false);
    return this.#locked(() => this.#migrateLocked(step, options));
  }

  /** Undo the last batch, or the last `step` migrations. */
  async rollback(options: RollbackOptions = {}): Promise<MigrateResult> {
    const step = checkStep(options.step, false) as number | undefined;
    await this.#assertNotUnsafe();
    if (options.dryRun) {
      const targets = this.#rollbackTargets(await this.#records(), step);
      const runs: MigrationRun[] = [];
      for (const { entry, record } of targets) {
        const statements = await recordSql(this.connection.dialect, (db) =>
          entry.migration.down?.(db),
        );
        runs.push(this.#run(entry, 'down', record.batch, 0, statements));
      }
      return this.#result('down', runs, true);
    }
    return this.#locked(async () => {
      await this.#state.assertSafe(this.connection.name);
      const targets = this.#rollbackTargets(await this.#repository.all(), step);
      const runs: MigrationRun[] = [];
      for (const { entry, record } of targets) {
        const run = await this.#apply(entry, 'down', record.batch);
        options.onMigrated?.(run);
        runs.push(run);
      }
      return this.#result('down', runs, false);
    });
  }

  /**
   * Drop every table of the connection (on PostgreSQL, of its schema), then run every
   * migration. Refused in production without `force`. It also clears the connection's
   * UNSAFE state: nothing of the old schema is left.
   */
  async fresh(options: FreshOptions = {}): Promise<FreshResult> {
    if (this.#options.production && !options.force)
      throw new E_MIGRATE_IN_PRODUCTION('migrate:fresh');
    return this.#locked(async () => {
      await options.beforeDrop?.();
      const dropped = await dropAllTables(this.connection);
      await this.#state.reset(this.connection.name);
      const result = await this.#migrateLocked(undefined, { onMigrated: options.onMigrated });
      return { ...result, dropped };
    });
  }

  async #migrateLocked(step: number | true | undefined, options: MigrateOptions) {
    await this.#state.assertSafe(this.connection.name);
    await this.#repository.ensure();
    const records = await this.#repository.all();
    const ran = new Set(records.map((r) => key(r.module, r.name)));
    let pending = this.#entries.filter((e) => !ran.has(key(e.module, e.name)));
    if (typeof step === 'number') pending = pending.slice(0, step);
    if (pending.length === 0) return this.#result('up', [], false);
    await options.beforeMigrate?.(pending);
    let batch = Math.max(0, ...records.map((r) => r.batch)) + 1;
    const runs: MigrationRun[] = [];
    for (const entry of pending) {
      const run = await this.#apply(entry, 'up', batch);
      options.onMigrated?.(run);
      runs.push(run);
      if (step !== undefined) batch++;
    }
    return this.#result('up', runs, false);
  }

  async #planUp(step: number | true | undefined): Promise<MigrateResult> {
    const records = await this.#records();
    let pending = await this.pending();
    if (typeof step === 'number') pending = pending.slice(0, step);
    let batch = Math.max(0, ...records.map((r) => r.batch)) + 1;
    const runs: MigrationRun[] = [];
    for (const entry of pending) {
      const statements = await recordSql(this.connection.dialect, (db) => entry.migration.up(db));
      runs.push(this.#run(entry, 'up', batch, 0, statements));
      if (step !== undefined) batch++;
    }
    return this.#result('up', runs, true);
  }

  /** Apply or undo one migration, recorded as running until it ends, UNSAFE if it fails. */
  async #apply(entry: MigrationEntry, direction: 'up' | 'down', batch: number) {
    const connection = this.connection;
    const transactional = connection.dialect !== 'mysql' && entry.migration.transactional !== false;
    const body = async (db: Kysely<AnyDatabase>): Promise<void> => {
      if (direction === 'up') {
        await entry.migration.up(db);
        await this.#repository.log(db, entry.module, entry.name, batch);
      } else {
        await entry.migration.down?.(db);
        await this.#repository.remove(db, entry.module, entry.name);
      }
    };
    await this.#state.markRunning({
      migration: entry.name,
      module: entry.module,
      connection: connection.name,
      direction,
      transactional,
    });
    const started = performance.now();
    try {
      if (transactional) await connection.transaction(body);
      else await body(connection.kysely);
    } catch (error) {
      const changes = transactional ? 'rolled-back' : 'partial';
      const message = error instanceof Error ? error.message : String(error);
      await this.#state.markUnsafe({
        reason: 'failed',
        migration: entry.name,
        module: entry.module,
        connection: connection.name,
        direction,
        error: message,
        changes,
      });
      throw new E_MIGRATION_FAILED(
        entry.name,
        entry.module,
        connection.name,
        message,
        changes,
      ).withCause(error);
    }
    await this.#state.clearRunning(connection.name);
    return this.#run(entry, direction, batch, performance.now() - started);
  }

  #rollbackTargets(
    records: MigrationRecord[],
    step: number | undefined,
  ): Array<{ entry: MigrationEntry; record: MigrationRecord }> {
    const newest = [...records].sort((a, b) => b.batch - a.batch || b.id - a.id);
    const chosen =
      step === undefined
        ? newest.filter((r) => r.batch === newest[0]?.batch)
        : newest.slice(0, step);
    const entries = new Map(this.#entries.map((e) => [key(e.module, e.name), e]));
    // Check every target before undoing any: a missing file or a missing down() stops
    // the rollback while the schema is still whole.
    return chosen.map((record) => {
      const entry = entries.get(key(record.module, record.name));
      if (!entry) throw new E_MIGRATION_NOT_FOUND(record.name, record.module, this.connection.name);
      if (!entry.migration.down) throw new E_MIGRATION_IRREVERSIBLE(record.name, record.module);
      return { entry, record };
    });
  }

  /** Recorded migrations, without creating anything (not even a missing SQLite file). */
  async #records(): Promise<MigrationRecord[]> {
    const config = this.connection.config;
    if (config.driver === 'sqlite' && this.connection.native() === undefined) {
      const file = sqliteFilePath(config.filename, this.#options.root);
      if (file !== ':memory:' && !file.startsWith('file:') && !existsSync(file)) return [];
    }
    return this.#repository.all();
  }

  /** A recorded UNSAFE state stops everything before any lock or backup. */
  async #assertNotUnsafe(): Promise<void> {
    const unsafe = (await this.#state.get(this.connection.name)).unsafe;
    if (unsafe) throw unsafeError(unsafe);
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return withMigrationLock(
      this.connection,
      {
        root: this.#options.root,
        timeoutMs: this.#options.lockTimeoutMs ?? 60_000,
        ...(this.#options.onLockWait ? { onWait: this.#options.onLockWait } : {}),
      },
      fn,
    );
  }

  #run(
    entry: MigrationEntry,
    direction: 'up' | 'down',
    batch: number,
    durationMs: number,
    statements?: string[],
  ): MigrationRun {
    return {
      name: entry.name,
      module: entry.module,
      connection: this.connection.name,
      direction,
      batch,
      durationMs: Math.round(durationMs * 100) / 100,
      ...(statements ? { statements } : {}),
    };
  }

  #result(direction: 'up' | 'down', migrations: MigrationRun[], dryRun: boolean): MigrateResult {
    return {
      connection: this.connection.name,
      dialect: this.connection.dialect,
      direction,
      dryRun,
      migrations,
    };
  }
}

function checkStep(step: unknown, allowTrue: boolean): number | true | undefined {
  if (step === undefined || (allowTrue && step === true)) return step as true | undefined;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 1)
    throw new E_MIGRATE_OPTION_INVALID('step', String(step), 'a whole number of at least 1');
  return step;
}
