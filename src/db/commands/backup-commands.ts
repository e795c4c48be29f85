import { relative } from 'node:path';
import { type Application, defineCommand } from '../../kernel/index.js';
import type { BackupFile } from '../backup/backup-file.js';
import type { BackupManager } from '../backup/backup-manager.js';
import type { DatabaseManager } from '../database-manager.js';

/** Run `fn` with the app's backups, closing a database manager opened for it. */
async function withBackups<T>(
  app: Application,
  fn: (backups: BackupManager, manager: DatabaseManager) => Promise<T>,
): Promise<T> {
  // Loads Kysely and the drivers: imported when a command runs, not when the CLI starts.
  const { appDatabase } = await import('../migrations/app-migrations.js');
  const { BackupManager } = await import('../backup/backup-manager.js');
  const database = appDatabase(app);
  try {
    return await fn(
      new BackupManager({ manager: database.manager, root: app.paths.root }),
      database.manager,
    );
  } finally {
    await database.release();
  }
}

async function size(bytes: number): Promise<string> {
  const { formatBytes } = await import('../backup/backup-file.js');
  return formatBytes(bytes);
}

/** A backup as the commands print it: the path relative to the app root. */
function shown(app: Application, backup: BackupFile): BackupFile {
  return { ...backup, file: relative(app.paths.root, backup.file) };
}

/** `keel db:backup`: back a connection up into `database.backups.path`. */
export const dbBackupCommand = defineCommand<Application>({
  name: 'db:backup',
  description: 'Back up a database connection (SQLite backup API, pg_dump, mariadb-dump)',
  json: true,
  options: [
    { flags: '--connection <name>', description: 'this connection (default: the default one)' },
  ],
  async handle({ app, options, ui }) {
    const taken = await withBackups(app, (backups) =>
      backups.backup(typeof options.connection === 'string' ? options.connection : undefined),
    );
    const backup = shown(app, taken);
    const human = await size(backup.bytes);
    ui.output(backup, () =>
      ui.success(`${backup.connection}: backed up to ${backup.file} (${human})`),
    );
    return 0;
  },
});

/** `keel db:backups`: the backups on disk, newest first. */
export const dbBackupsCommand = defineCommand<Application>({
  name: 'db:backups',
  description: 'List the database backups: file, connection, size and date',
  json: true,
  options: [{ flags: '--connection <name>', description: 'only this connection’s backups' }],
  async handle({ app, options, ui }) {
    const { list, directory } = await withBackups(app, async (backups) => ({
      directory: relative(app.paths.root, backups.directory) || '.',
      list: await backups.list(
        typeof options.connection === 'string' ? options.connection : undefined,
      ),
    }));
    const { formatBytes } = await import('../backup/backup-file.js');
    const backups = list.map((b) => shown(app, b));
    ui.output({ directory, backups }, () => {
      if (backups.length === 0) {
        ui.info(`No backups in ${directory}: \`keel db:backup\` takes one.`);
        return;
      }
      ui.table(
        backups.map((b) => ({
          File: b.name,
          Connection: b.connection,
          Size: formatBytes(b.bytes),
          Date: b.createdAt,
        })),
        ['File', 'Connection', 'Size', 'Date'],
      );
    });
    return 0;
  },
});

/** `keel db:restore <file>`: replace a connection's data with a backup. */
export const dbRestoreCommand = defineCommand<Application>({
  name: 'db:restore',
  description: 'Restore a backup over its connection (asks first unless --force)',
  json: true,
  arguments: [
    { name: 'file', description: 'a file name from `keel db:backups`, or a path', required: true },
  ],
  options: [
    {
      flags: '--connection <name>',
      description: 'restore into this connection (default: the file’s)',
    },
    { flags: '--force', description: 'restore without asking' },
  ],
  async handle({ app, args, options, ui, cwd }) {
    const { migrationState } = await import('../migrations/app-migrations.js');
    const requested = typeof options.connection === 'string' ? options.connection : undefined;
    const result = await withBackups(app, async (backups) => {
      const file = await backups.find(String(args.file), cwd);
      if (options.force !== true) {
        const target = requested ?? 'its connection';
        const yes = await ui.confirm(
          `Restore ${relative(cwd, file) || file} into ${target}? Its current data is replaced.`,
          false,
        );
        if (!yes) return undefined;
      }
      return backups.restore(file, { ...(requested ? { connection: requested } : {}), cwd });
    });
    if (!result) {
      ui.warn('Restore cancelled: nothing changed (pass --force to restore without asking).');
      return 1;
    }
    // The data is back to a known state: a failed migration's UNSAFE mark no longer applies.
    const store = migrationState(app);
    const state = await store.get(result.connection);
    const stateCleared = Boolean(state.unsafe || state.running);
    if (stateCleared) await store.reset(result.connection);
    const output = { ...result, file: relative(app.paths.root, result.file), stateCleared };
    ui.output(output, () => {
      ui.success(`${output.connection}: restored ${output.file}`);
      if (stateCleared) ui.info(`cleared the UNSAFE migration state of ${output.connection}`);
    });
    return 0;
  },
});
