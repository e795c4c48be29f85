export { scheduleListCommand } from './schedule-list-command.js';
export { scheduleRunCommand } from './schedule-run-command.js';
export { scheduleWorkCommand } from './schedule-work-command.js';
