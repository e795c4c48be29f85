export { type LocksPruneOutput, locksPruneCommand } from './locks-prune-command.js';
