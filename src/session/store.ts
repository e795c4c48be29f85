import type { SessionLifetime, SessionRecord } from './session-record.js';

/** A session as a store holds it, named by its handle (the SHA-256 of its id). */
export interface StoredSession {
  handle: string;
  record: SessionRecord;
}

/**
 * Where sessions live. The cookie names a session by a value the store hands out from
 * `cookieValue()` (the id for server-side stores, the sealed session itself for the cookie
 * store) and reads back with `read()`. Server-side stores never keep the raw id: they key
 * by its SHA-256 handle.
 */
export interface SessionStore {
  readonly driver: string;
  /** The session the cookie value names, or undefined (unknown, malformed, forged). */
  read(cookieValue: string): Promise<{ id: string; record: SessionRecord } | undefined>;
  /**
   * The value the cookie carries for this session: the id for server-side stores, the
   * sealed session for the cookie store. Synchronous, because it is computed as the
   * response head is written.
   */
  cookieValue(id: string, record: SessionRecord): string;
  /** Save `record` under `id` (a no-op for the cookie store, whose cookie is the session). */
  write(id: string, record: SessionRecord): Promise<void>;
  /** Forget the session `id` (a no-op for stores that keep nothing on the server). */
  destroy(id: string): Promise<void>;
  /** Release connections. */
  close?(): Promise<void>;
}

/**
 * A store that keeps sessions on the server, and so can list a user's sessions, end them
 * remotely and remove expired ones. Every implementation passes the conformance suite in
 * `session-store.contract.ts`.
 */
export interface ServerSessionStore extends SessionStore {
  /** The user's sessions that have not expired. */
  forUser(userId: string, now: number): Promise<StoredSession[]>;
  /** Remove the session with this handle; true when there was one. */
  destroyHandle(handle: string): Promise<boolean>;
  /** Remove every session of the user except the handles in `keep`; returns how many. */
  destroyUser(userId: string, keep?: readonly string[]): Promise<number>;
  /** How many sessions have not expired. */
  countActive(now: number): Promise<number>;
  /** Remove expired sessions; returns how many. */
  gc(now: number): Promise<number>;
}

export function isServerStore(store: SessionStore): store is ServerSessionStore {
  return typeof (store as Partial<ServerSessionStore>).forUser === 'function';
}

/** What every store is built with. */
export interface SessionStoreOptions {
  lifetime: SessionLifetime;
}
