/**
 * Idempotency keys: the `idempotent` middleware runs an unsafe request once per
 * `Idempotency-Key` and replays its stored response to retries; stores in memory, the
 * database (`idempotency_keys`) and Redis; `idempotency:prune`.
 */
export { type IdempotencyPruneOutput, idempotencyPruneCommand } from './commands/index.js';
export {
  type IdempotencyConfig,
  type IdempotencyStoreName,
  idempotencyConfigSchema,
  resolveIdempotencyConfig,
} from './config.js';
export * from './errors.js';
export {
  canonicalBody,
  type FingerprintInput,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  readIdempotencyKey,
  requestFingerprint,
  scopedKey,
} from './idempotency-key.js';
export {
  DEFAULT_REPLAY_HEADERS,
  type IdempotencyOptions,
  type IdempotencyOutcome,
  type IdempotencyScope,
  idempotency,
  idempotentAlias,
  UNSAFE_METHODS,
} from './idempotency-middleware.js';
export { IdempotencyProvider, type IdempotencyService } from './idempotency-provider.js';
export type {
  ClaimRequest,
  ClaimResult,
  IdempotencyStore,
  StoredResponse,
} from './idempotency-store.js';
export {
  createIdempotencyKeysTable,
  IDEMPOTENCY_MIGRATION_MODULE,
  IDEMPOTENCY_MIGRATION_NAME,
  IDEMPOTENCY_TABLE,
} from './migrations/create-idempotency-keys-table.js';
export {
  type CapturedResponse,
  captureResponse,
  type ResponseCapture,
} from './response-capture.js';
export {
  DatabaseIdempotencyStore,
  type DatabaseIdempotencyStoreOptions,
} from './stores/database-idempotency-store.js';
export { MemoryIdempotencyStore } from './stores/memory-idempotency-store.js';
export {
  RedisIdempotencyStore,
  type RedisIdempotencyStoreConnectOptions,
  type RedisIdempotencyStoreOptions,
} from './stores/redis-idempotency-store.js';
