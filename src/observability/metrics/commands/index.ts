export { type BacklogRow, metricsShowCommand } from './metrics-show-command.js';
