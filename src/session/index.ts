/**
 * Keel sessions: `ctx.session` behind the `session` middleware, stores (cookie, memory,
 * file, database, Redis) behind one contract, and a user's sessions managed from the
 * server (`app.make('session.manager')`).
 */
import './session-context.js';

export { sessionCleanupCommand } from './commands/session-cleanup-command.js';
export {
  resolveSessionConfig,
  SESSION_DRIVERS,
  type SessionConfig,
  type SessionDriver,
} from './config.js';
export * from './errors.js';
export { createSessionsTable, SESSIONS_TABLE } from './migrations/create-sessions-table.js';
export { Session, type SessionState } from './session.js';
export { sessionOf } from './session-context.js';
export { generateSessionId, isSessionId, sessionHandle } from './session-id.js';
export {
  type ActiveSession,
  type SessionClient,
  type SessionCommit,
  SessionManager,
  type SessionManagerOptions,
} from './session-manager.js';
export { type SessionMiddlewareOptions, sessionMiddleware } from './session-middleware.js';
export { SESSIONS_MIGRATION_NAME, SessionProvider } from './session-provider.js';
export {
  expiresAt,
  isExpired,
  type SessionLifetime,
  type SessionRecord,
} from './session-record.js';
export type {
  ServerSessionStore,
  SessionStore,
  SessionStoreOptions,
  StoredSession,
} from './store.js';
export { isServerStore } from './store.js';
export { CookieSessionStore, type CookieSessionStoreOptions } from './stores/cookie-store.js';
export { DatabaseSessionStore, type DatabaseSessionStoreOptions } from './stores/database-store.js';
export { FileSessionStore, type FileSessionStoreOptions } from './stores/file-store.js';
export { MemorySessionStore, type MemorySessionStoreOptions } from './stores/memory-store.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './stores/redis-store.js';
export { describeUserAgent } from './user-agent.js';
