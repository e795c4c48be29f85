export {
  queueClearCommand,
  queueFailedCommand,
  queueFlushCommand,
  queueForgetCommand,
  queueMonitorCommand,
  queueRetryCommand,
} from './queue-admin-commands.js';
export {
  DEFAULT_PRUNE_RETENTION,
  queuePruneCommand,
  queueWorkersCommand,
} from './queue-maintenance-commands.js';
export { queueWorkCommand } from './queue-work-command.js';
