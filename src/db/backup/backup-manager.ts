import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { isKeelError } from '../../support/index.js';
import type { DatabaseManager } from '../database-manager.js';
import { E_BACKUP_FAILED, E_BACKUP_INVALID, E_BACKUP_NOT_FOUND } from '../errors.js';
import { BACKUP_DRIVERS, type BackupDriver } from './backup-drivers.js';
import {
  type BackupFile,
  backupFileName,
  dialectOfExtension,
  fileSafeName,
  parseBackupFileName,
} from './backup-file.js';

export interface BackupManagerOptions {
  manager: DatabaseManager;
  /** The app root: the backups folder (`database.backups.path`) resolves against it. */
  root: string;
  /** Where to look for pg_dump, mariadb-dump...; the PATH variable by default. */
  toolPath?: string;
  /** The clock, for file names. */
  now?: () => Date;
}

/** What a restore did. */
export interface RestoreResult {
  file: string;
  connection: string;
  dialect: BackupFile['dialect'];
}

/**
 * Backups of the application's connections in `database.backups.path` (`var/backups`),
 * one file per backup named `backup_<connection>_<timestamp>.<ext>`, the oldest pruned
 * beyond `database.backups.keep` per connection.
 *
 * @example
 * ```ts
 * const backups = new BackupManager({ manager: app.make('db'), root: app.paths.root });
 * const taken = await backups.backup('default');
 * await backups.restore(taken.name);
 * ```
 */
export class BackupManager {
  readonly directory: string;
  readonly #manager: DatabaseManager;
  readonly #root: string;
  readonly #toolPath: string | undefined;
  readonly #keep: number;
  readonly #now: () => Date;

  constructor(options: BackupManagerOptions) {
    this.#manager = options.manager;
    this.#root = options.root;
    this.#toolPath = options.toolPath;
    this.#now = options.now ?? (() => new Date());
    const settings = options.manager.config.backups;
    this.directory = resolve(options.root, settings.path);
    this.#keep = settings.keep;
  }

  /** Back up a connection (the default one without a name), then prune its old backups. */
  async backup(connectionName?: string): Promise<BackupFile> {
    const connection = this.#manager.connection(connectionName);
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    let at = this.#now();
    let name = backupFileName(connection.name, connection.dialect, at);
    // Two backups within a millisecond must not share a file.
    while (existsSync(join(this.directory, name))) {
      at = new Date(at.getTime() + 1);
      name = backupFileName(connection.name, connection.dialect, at);
    }
    const file = join(this.directory, name);
    // Written under a temporary name: a dump that fails half-way never looks like a backup.
    const partial = `${file}.partial`;
    try {
      await this.#driver(connection.dialect).backup(connection, partial, this.#context());
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      if (isKeelError(error)) throw error;
      throw new E_BACKUP_FAILED('Backup', connection.name, (error as Error).message).withCause(
        error,
      );
    }
    await this.prune(connection.name);
    const parsed = parseBackupFileName(name)!;
    return { file, name, ...parsed, bytes: (await stat(file)).size };
  }

  /** Every backup in the folder, newest first (of one connection, when named). */
  async list(connectionName?: string): Promise<BackupFile[]> {
    if (!existsSync(this.directory)) return [];
    const out: BackupFile[] = [];
    for (const name of await readdir(this.directory)) {
      const parsed = parseBackupFileName(name);
      if (!parsed) continue;
      if (connectionName !== undefined && parsed.connection !== fileSafeName(connectionName))
        continue;
      const file = join(this.directory, name);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) continue;
      out.push({ file, name, ...parsed, bytes: info.size });
    }
    return out.sort((a, b) =>
      a.createdAt === b.createdAt ? (a.name < b.name ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
    );
  }

  /** Delete a connection's backups beyond `database.backups.keep` (0 keeps all). */
  async prune(connectionName: string): Promise<string[]> {
    if (this.#keep === 0) return [];
    const old = (await this.list(connectionName)).slice(this.#keep);
    for (const backup of old) await rm(backup.file, { force: true });
    return old.map((b) => b.name);
  }

  /**
   * A backup by file name (looked up in the backups folder) or path (relative to `cwd`).
   * E_BACKUP_NOT_FOUND lists the backups there are.
   */
  async find(fileOrName: string, cwd: string = this.#root): Promise<string> {
    const candidates = isAbsolute(fileOrName)
      ? [fileOrName]
      : [join(this.directory, fileOrName), resolve(cwd, fileOrName)];
    for (const candidate of candidates) {
      const info = await stat(candidate).catch(() => undefined);
      if (info?.isFile()) return candidate;
    }
    throw new E_BACKUP_NOT_FOUND(
      fileOrName,
      (await this.list()).map((b) => b.name),
    );
  }

  /**
   * Replace a connection's data with a backup. The connection comes from the file name
   * (or `connection`); its engine must match the file's.
   */
  async restore(
    fileOrName: string,
    options: { connection?: string; cwd?: string } = {},
  ): Promise<RestoreResult> {
    const file = await this.find(fileOrName, options.cwd);
    const parsed = parseBackupFileName(basename(file));
    const connectionName =
      options.connection ??
      this.#manager.names().find((n) => parsed && fileSafeName(n) === parsed.connection) ??
      this.#manager.defaultName;
    const connection = this.#manager.connection(connectionName);
    const dialect = dialectOfExtension(extname(file).slice(1));
    if (dialect !== connection.dialect)
      throw new E_BACKUP_INVALID(
        basename(file),
        `connection "${connection.name}" is ${connection.dialect}, and this is ${dialect ? `a ${dialect} backup` : 'not a backup Keel wrote'}`,
      );
    await this.#driver(dialect).restore(connection, file, this.#context());
    return { file, connection: connection.name, dialect };
  }

  #driver(dialect: BackupFile['dialect']): BackupDriver {
    return BACKUP_DRIVERS[dialect];
  }

  #context() {
    return {
      root: this.#root,
      ...(this.#toolPath !== undefined ? { toolPath: this.#toolPath } : {}),
    };
  }
}
