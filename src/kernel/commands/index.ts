export { serveCommand } from './serve-command.js';
export { setEnvValue, setupInstallCommand } from './setup-install-command.js';
export {
  ensureVarFolders,
  setupPermissionsCommand,
  varFolders,
} from './setup-permissions-command.js';
