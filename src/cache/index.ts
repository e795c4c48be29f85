export {
  Cache,
  type CacheEventSink,
  type CacheLogger,
  type CacheOptions,
  checkKey,
  MAX_KEY_LENGTH,
  type RememberGuard,
  type RememberOptions,
  TaggedCache,
  type Ttl,
  ttlMs,
  type WriteOptions,
} from './cache.js';
export { CACHE_EVENTS, type CacheEventName, type CacheEventPayload } from './cache-events.js';
export { CacheManager, type CacheManagerOptions } from './cache-manager.js';
export {
  type CacheCall,
  type CacheObserver,
  type CacheOperation,
  observeCache,
} from './cache-observer.js';
export { CACHE_MIGRATION_NAME, CacheProvider, usesDatabaseStore } from './cache-provider.js';
export {
  CacheStats,
  type CacheStatsSnapshot,
  LATENCY_BUCKETS_MS,
  latencyPercentile,
  mergeSnapshots,
} from './cache-stats.js';
export {
  CACHE_STATS_FOLDER,
  CacheStatsRecorder,
  type CacheStatsRecorderOptions,
  DEFAULT_STATS_FLUSH_SECONDS,
  type ProcessCacheStats,
} from './cache-stats-recorder.js';
export {
  type CacheStatsProcess,
  type CacheStatsReport,
  type CacheStatsRow,
  isProcessRunning,
  readCacheStats,
  resetCacheStats,
} from './cache-stats-report.js';
export {
  type CacheWarmer,
  type CacheWarmerDefinition,
  CacheWarmers,
  type CacheWarmObserver,
  type CacheWarmOptions,
  type CacheWarmResult,
  type WarmProgress,
} from './cache-warmers.js';
export { argumentsKey, type CachedOptions, cached } from './cached.js';
export { cacheGcCommand, cacheStatsCommand, cacheWarmCommand } from './commands/index.js';
export {
  type CacheConfig,
  type CacheConfigInput,
  type CachePoolConfig,
  type CacheStoreConfig,
  cacheConfigSchema,
  defineCacheConfig,
  FRAMEWORK_POOLS,
  resolveCacheConfig,
} from './config.js';
export * from './errors.js';
export { deserialize, serialize, serializeBounded } from './serializer.js';
export {
  type CacheEntry,
  type CacheStore,
  DEFAULT_MAX_VALUE_BYTES,
  type SerializingStoreOptions,
} from './store.js';
// The database and Redis stores load Kysely and ioredis: import them from their files,
// or let the CacheManager load them when a pool uses them.
export type { DatabaseStore, DatabaseStoreOptions } from './stores/database-store.js';
export { FileStore, type FileStoreOptions } from './stores/file-store.js';
export { LazyStore } from './stores/lazy-store.js';
export { estimateBytes, MemoryStore, type MemoryStoreOptions } from './stores/memory-store.js';
export type { RedisStore, RedisStoreOptions } from './stores/redis-store.js';
