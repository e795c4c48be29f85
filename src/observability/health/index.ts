/**
 * Health: liveness (`/healthz`), readiness (`/ready`) and detailed (`/health`) endpoints
 * over `app.health`, the checks of the subsystems that do not check themselves (Redis,
 * queue backlog, disk, memory, migrations) and the interim rate limiter guarding them.
 */
export { type QueueBacklogOptions, queueBacklogCheck } from './checks/queue-backlog-check.js';
export {
  describeTarget,
  RedisPingCheck,
  type RedisSources,
  type RedisTarget,
  redisTargets,
} from './checks/redis-check.js';
export {
  diskSpaceCheck,
  type HealthLevels,
  memoryCeiling,
  memoryCheck,
} from './checks/resource-checks.js';
export * from './errors.js';
export { HealthAccess } from './health-access.js';
export {
  defineHealthConfig,
  type HealthAmount,
  type HealthConfig,
  type HealthConfigInput,
  type HealthEndpointSettings,
  type HealthRateLimitSettings,
  healthConfigSchema,
  parseHealthAmount,
  type QueueThresholds,
  resolveHealthConfig,
} from './health-config.js';
export {
  type HealthCheckView,
  type HealthDocument,
  HealthEndpoints,
  type HealthEndpointsOptions,
  type ReadinessDocument,
} from './health-endpoints.js';
export { HealthProvider } from './health-provider.js';
export {
  type HealthRateLimiter,
  InterimRateLimiter,
  type InterimRateLimiterOptions,
  type RateLimitDecision,
} from './interim-rate-limiter.js';
