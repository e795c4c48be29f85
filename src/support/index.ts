export { abortableWait } from './abortable-wait.js';
export { AsyncSlot } from './async-slot.js';
export { type DeprecationOptions, deprecate, resetDeprecations } from './deprecation.js';
export { E_INVALID_DURATION, parseDuration } from './duration.js';
export { defineError, isKeelError, KeelError, type KeelErrorClass } from './keel-error.js';
export { deepFreeze, deepMerge, getPath, hasKeys, isPlainObject, setPath } from './object.js';
export { outageWarning, type RedisEndpoint, redisConnectArgs } from './outage-warning.js';
export {
  isProcessRunning,
  isProcessSnapshotFile,
  PeriodicSnapshotWriter,
  type PeriodicSnapshotWriterOptions,
  type ProcessSnapshot,
  type ProcessSnapshotHeader,
  type ProcessSnapshotsRead,
  type ProcessState,
  processSnapshotFileName,
  type ReadProcessSnapshotsOptions,
  readProcessSnapshots,
  writeFileAtomic,
} from './process-snapshots.js';
export {
  closeRedisClient,
  createRedisClient,
  isRedisUnavailable,
  type RedisClientOptions,
  redisOutageReason,
} from './redis-client.js';
export { editDistance, suggest } from './suggest.js';
export { isThenable } from './thenable.js';
export type { Awaitable, Constructor, DotPath, PathValue } from './types.js';
export { uuid } from './uuid.js';
