export {
  queueClearCommand,
  queueFailedCommand,
  queueFlushCommand,
  queueForgetCommand,
  queueMonitorCommand,
  queueRetryCommand,
} from './queue-admin-commands.js';
export { queueWorkCommand } from './queue-work-command.js';
