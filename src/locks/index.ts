export {
  type LockDriverName,
  type LocksConfig,
  locksConfigSchema,
  resolveLocksConfig,
} from './config.js';
export * from './errors.js';
export {
  Lock,
  type LockContext,
  type LockDuration,
  type LockOptions,
  type LockRunOptions,
} from './lock.js';
export { LockManager, type LockManagerOptions } from './lock-manager.js';
export { LockProvider } from './lock-provider.js';
export {
  assertLockName,
  type LockStore,
  lockTtl,
  MAX_LOCK_NAME_LENGTH,
  MAX_LOCK_TTL_MS,
} from './lock-store.js';
export {
  createKeelLocksTable,
  LOCKS_MIGRATION_MODULE,
  LOCKS_MIGRATION_NAME,
  LOCKS_TABLE,
} from './migrations/create-keel-locks-table.js';
export { DatabaseLockStore, type DatabaseLockStoreOptions } from './stores/database-lock-store.js';
export { MemoryLockStore } from './stores/memory-lock-store.js';
export { RedisLockStore, type RedisLockStoreOptions } from './stores/redis-lock-store.js';
