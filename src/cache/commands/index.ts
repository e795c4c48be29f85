export { cacheGcCommand } from './cache-gc-command.js';
