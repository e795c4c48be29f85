export {
  appCommands,
  type CommandRunner,
  type CommandSource,
  commandRunner,
  LoggerUI,
} from './command-runner.js';
export * from './commands/index.js';
export { assertCron, assertTimezone, CronExpression, startOfMinute } from './cron-expression.js';
export * from './errors.js';
export {
  defineSchedule,
  Schedule,
  type ScheduleDefinition,
  type ScheduleOptions,
} from './schedule.js';
export { type ScheduleConfig, ScheduleProvider } from './schedule-provider.js';
export { ScheduleWorker, type ScheduleWorkerOptions } from './schedule-worker.js';
export {
  ScheduledTask,
  type TaskContext,
  type TaskFilter,
  type TaskInfo,
  type TaskTarget,
} from './scheduled-task.js';
export {
  type JobDispatcher,
  Scheduler,
  type SchedulerOptions,
  type TaskRunResult,
  type TaskSchedule,
} from './scheduler.js';
