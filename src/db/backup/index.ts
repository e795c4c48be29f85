export {
  BACKUP_DRIVERS,
  type BackupContext,
  type BackupDriver,
  mysqlBackupDriver,
  postgresBackupDriver,
  sqliteBackupDriver,
} from './backup-drivers.js';
export {
  BACKUP_EXTENSIONS,
  type BackupFile,
  backupFileName,
  formatBytes,
  parseBackupFileName,
} from './backup-file.js';
export { BackupManager, type BackupManagerOptions, type RestoreResult } from './backup-manager.js';
export { type ServerTarget, serverTarget } from './server-target.js';
export { findTool, runTool, type ToolOptions } from './tool-runner.js';
