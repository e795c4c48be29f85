export { authTokensPruneCommand } from './auth-tokens-prune-command.js';
