export {
  Cache,
  type CacheEventSink,
  type CacheOptions,
  checkKey,
  MAX_KEY_LENGTH,
  type RememberGuard,
  type Ttl,
  ttlMs,
} from './cache.js';
export { CACHE_EVENTS, type CacheEventName, type CacheEventPayload } from './cache-events.js';
export { CacheManager, type CacheManagerOptions } from './cache-manager.js';
export { CACHE_MIGRATION_NAME, CacheProvider, usesDatabaseStore } from './cache-provider.js';
export { argumentsKey, type CachedOptions, cached } from './cached.js';
export { cacheGcCommand } from './commands/index.js';
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
