import type { DialectName } from '../config.js';

/** One backup on disk, as `db:backups` lists it. */
export interface BackupFile {
  /** Absolute path. */
  file: string;
  /** The file name: `backup_<connection>_<YYYYMMDD_HHMMSS_mmm>.<ext>`. */
  name: string;
  connection: string;
  /** The engine it was taken from, by its extension. */
  dialect: DialectName;
  bytes: number;
  /** When it was taken (ISO 8601, UTC), from its name. */
  createdAt: string;
}

/** The file extension of each engine's backups. */
export const BACKUP_EXTENSIONS: Readonly<Record<DialectName, string>> = {
  sqlite: 'sqlite',
  postgres: 'dump',
  mysql: 'sql',
};

const NAME = /^backup_(.+)_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_(\d{3})\.(sqlite|dump|sql)$/;

/**
 * The connection name as it appears in a file name: anything but letters, digits, `-` and
 * `_` becomes `-`, so no name can reach outside the backups folder.
 */
export function fileSafeName(connection: string): string {
  return connection.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100) || 'connection';
}

/** `backup_default_20240501_120000_123.sqlite` for a connection, dialect and time. */
export function backupFileName(connection: string, dialect: DialectName, at: Date): string {
  const iso = at.toISOString(); // 2024-05-01T12:00:00.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}_${iso.slice(20, 23)}`;
  return `backup_${fileSafeName(connection)}_${stamp}.${BACKUP_EXTENSIONS[dialect]}`;
}

/** What a backup's file name says, or undefined for another file. */
export function parseBackupFileName(
  name: string,
): { connection: string; dialect: DialectName; createdAt: string } | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const [, connection, y, mo, d, h, mi, s, ms, ext] = match;
  const dialect = dialectOfExtension(ext!)!;
  return { connection: connection!, dialect, createdAt: `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z` };
}

/** The engine a backup extension belongs to. */
export function dialectOfExtension(extension: string): DialectName | undefined {
  const entry = Object.entries(BACKUP_EXTENSIONS).find(([, ext]) => ext === extension);
  return entry?.[0] as DialectName | undefined;
}

/** `12.3 KB`, `4.0 MB`: sizes as people read them (1 KB = 1024 bytes). */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'n/a';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
