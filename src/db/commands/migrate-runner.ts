import { relative } from 'node:path';
import type { Application, CommandUI } from '../../kernel/index.js';
import { formatBytes } from '../backup/backup-file.js';
import { BackupManager } from '../backup/backup-manager.js';
import type { DatabaseManager } from '../database-manager.js';
import {
  appDatabase,
  appMigrations,
  appMigrator,
  migrationConnections,
  migrationState,
} from '../migrations/app-migrations.js';
import type { MigrationEntry } from '../migrations/migration.js';
import { unsafeError } from '../migrations/migration-state.js';
import type { MigrateResult, MigrationRun, Migrator } from '../migrations/migrator.js';

/** A backup taken before migrating: its path relative to the app root, and its size. */
export interface TakenBackup {
  file: string;
  bytes: number;
}

/** What `migrate` did (or would do) on one connection. */
export interface ConnectionMigrateOutcome extends MigrateResult {
  backup: TakenBackup | null;
}

export interface MigrateAppOptions {
  /** One connection; default: the default one and every connection some migration names. */
  connection?: string;
  step?: number | true;
  dryRun?: boolean;
  /** Back up each connection before its first pending migration. */
  backup: boolean;
  ui: CommandUI;
  /** Prefix of the progress lines. */
  indent?: string;
}

/** Run `fn` with the app's database manager and migrations, releasing a manager it opened. */
export async function withAppMigrations<T>(
  app: Application,
  fn: (manager: DatabaseManager, entries: MigrationEntry[]) => Promise<T>,
): Promise<T> {
  const database = appDatabase(app);
  try {
    return await fn(database.manager, await appMigrations(app, database.manager));
  } finally {
    await database.release();
  }
}

/** A migrator whose lock waits are reported on `ui`. */
export function commandMigrator(
  app: Application,
  manager: DatabaseManager,
  entries: readonly MigrationEntry[],
  connection: string,
  ui: CommandUI,
): Migrator {
  return appMigrator(app, manager, entries, connection, {
    onLockWait: () =>
      ui.warn(`another process is migrating "${connection}": waiting for its lock (up to 60 s)`),
  });
}

/**
 * Migrate the app's connections the way `keel migrate` and `setup:update` do: refuse
 * while any of them is UNSAFE, back each one up before its first pending migration
 * (unless `backup` is false), and print a line per migration.
 */
export function migrateApp(
  app: Application,
  options: MigrateAppOptions,
): Promise<ConnectionMigrateOutcome[]> {
  const { ui } = options;
  const indent = options.indent ?? '  ';
  return withAppMigrations(app, async (manager, entries) => {
    const names = migrationConnections(entries, manager, options.connection);
    const state = migrationState(app);
    for (const name of names) {
      const unsafe = (await state.get(name)).unsafe;
      if (unsafe) throw unsafeError(unsafe);
    }
    const backups = new BackupManager({ manager, root: app.paths.root });
    const outcomes: ConnectionMigrateOutcome[] = [];
    for (const name of names) {
      let backup: TakenBackup | null = null;
      const migrator = commandMigrator(app, manager, entries, name, ui);
      const result = await migrator.migrate({
        ...(options.step !== undefined ? { step: options.step } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
        ...(options.backup
          ? {
              beforeMigrate: async () => {
                const taken = await backups.backup(name);
                backup = { file: relative(app.paths.root, taken.file), bytes: taken.bytes };
                ui.line(`${indent}backup ${backup.file} (${formatBytes(taken.bytes)})`);
              },
            }
          : {}),
        onMigrated: (run) => ui.line(`${indent}${ui.green('✔')} ${describeRun(run)}`),
      });
      outcomes.push({ ...result, backup });
    }
    return outcomes;
  });
}

/** `2024_05_01_120000_create_orders (billing) 12 ms`. */
export function describeRun(run: MigrationRun): string {
  return `${run.name} (${run.module}) ${run.durationMs} ms`;
}
