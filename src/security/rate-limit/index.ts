export {
  type RateLimitClearOutput,
  rateLimitClearCommand,
} from './commands/rate-limit-clear-command.js';
export {
  countsAsError,
  ERROR_LIMITER,
  ErrorThrottle,
  type ErrorThrottleOptions,
} from './error-throttle.js';
export * from './errors.js';
export { RateLimitHealthLimiter } from './health-rate-limiter.js';
export {
  createRateLimitsTable,
  createRateLimitsTableMigration,
  RATE_LIMIT_MIGRATION_MODULE,
  RATE_LIMITS_MIGRATION_NAME,
  RATE_LIMITS_TABLE,
} from './migrations/create-rate-limits-table.js';
export {
  type ErrorThrottleConfig,
  type RateLimitConfig,
  type RateLimitKey,
  type RateLimitKeyMode,
  type RateLimitLimiterConfig,
  type RateLimitStoreName,
  rateLimitConfigSchema,
  resolveRateLimitConfig,
} from './rate-limit-config.js';
export { writeRateLimitHeaders } from './rate-limit-headers.js';
export { defaultUserId, requestKey, storedKey, type UserIdResolver } from './rate-limit-key.js';
export { LOGIN_LIMITER, RateLimitProvider } from './rate-limit-provider.js';
export type { LimiterSpec, RateLimitStore } from './rate-limit-store.js';
export {
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitObserver,
  type RateLimitPolicy,
  type RateLimitResult,
} from './rate-limiter.js';
export {
  DatabaseRateLimitStore,
  type DatabaseRateLimitStoreOptions,
} from './stores/database-rate-limit-store.js';
export {
  DatabaseRateLimiter,
  type DatabaseRateLimiterOptions,
} from './stores/database-rate-limiter.js';
export { MemoryRateLimitStore } from './stores/memory-rate-limit-store.js';
export {
  RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
} from './stores/redis-rate-limit-store.js';
export {
  DEFAULT_LIMITER,
  type ThrottleOptions,
  throttle,
  throttlePolicy,
} from './throttle-middleware.js';
