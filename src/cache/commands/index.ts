export { cacheGcCommand } from './cache-gc-command.js';
export { cacheStatsCommand } from './cache-stats-command.js';
export { cacheWarmCommand } from './cache-warm-command.js';
