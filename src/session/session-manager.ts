import { E_SESSION_STORE_UNSUPPORTED } from './errors.js';
import { Session } from './session.js';
import { generateSessionId, isSessionHandle, sessionHandle } from './session-id.js';
import { isExpired, type SessionLifetime, type SessionRecord } from './session-record.js';
import { isServerStore, type ServerSessionStore, type SessionStore } from './store.js';
import { describeUserAgent } from './user-agent.js';

export interface SessionManagerOptions {
  store: SessionStore;
  lifetime: SessionLifetime;
  /**
   * A session nobody changed is saved again (to move its last activity) at most this often,
   * in milliseconds (default 60 000): idle expiry is exact to within this interval.
   */
  touchIntervalMs?: number;
  /** How long `countActive()` reuses its last answer, ms (default 15 000). */
  countCacheMs?: number;
  /** Clock, epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Who is making the request, stored with the session for "your active sessions". */
export interface SessionClient {
  ip: string | null;
  userAgent: string | null;
}

/** One of a user's sessions, as "your active sessions" lists show them. */
export interface ActiveSession {
  /** The session's public handle (the SHA-256 of its id): pass it to `destroy()`. */
  handle: string;
  /** "Firefox on Windows". */
  device: string;
  userAgent: string | null;
  ip: string | null;
  lastActivity: Date;
  createdAt: Date;
  /** True for the session of the request that asked. */
  current: boolean;
}

/** What saving a session asks of the response and the store. */
export interface SessionCommit {
  /** `set` the cookie to `value`, `clear` it, or leave it as the browser has it. */
  cookie: 'set' | 'clear' | 'keep';
  value?: string;
  /** The store writes and deletes, to run (and await) before the response ends. */
  persist?: () => Promise<void>;
}

/**
 * Starts and saves sessions on one store, and manages a user's sessions: list them, end
 * one, all others, or all. `app.make('session.manager')`.
 *
 * @example
 * ```ts
 * const sessions = app.make('session.manager');
 * const mine = await sessions.forUser(user.id, ctx.session.id); // [{ device, ip, current, ... }]
 * await sessions.destroyOthers(user.id, ctx.session.id);         // "sign out other devices"
 * ```
 */
export class SessionManager {
  readonly store: SessionStore;
  readonly lifetime: SessionLifetime;
  readonly #touchMs: number;
  readonly #countCacheMs: number;
  readonly #now: () => number;
  /** Sessions whose request presented a cookie that was not adopted (to clear it). */
  readonly #refused = new WeakSet<Session>();
  #count: { value: Promise<number>; at: number } | undefined;

  constructor(options: SessionManagerOptions) {
    this.store = options.store;
    this.lifetime = options.lifetime;
    this.#touchMs = options.touchIntervalMs ?? 60_000;
    this.#countCacheMs = options.countCacheMs ?? 15_000;
    this.#now = options.now ?? Date.now;
  }

  /** The current time by this manager's clock. */
  now(): number {
    return this.#now();
  }

  /**
   * The session the cookie names, or a fresh one with a new id when there is no cookie or
   * it names nothing live (unknown, expired, malformed, forged). A client-chosen id is never
   * adopted: only ids the store knows are.
   */
  async start(cookieValue: string | undefined): Promise<Session> {
    const now = this.#now();
    const found =
      typeof cookieValue === 'string' && cookieValue !== ''
        ? await this.store.read(cookieValue)
        : undefined;
    if (found && !isExpired(found.record, this.lifetime, now))
      return new Session({ id: found.id, record: found.record, fresh: false }, this.#now);
    if (found) await this.store.destroy(found.id);
    const session = new Session(
      { id: generateSessionId(), record: emptyRecord(now), fresh: true },
      this.#now,
    );
    if (cookieValue !== undefined && cookieValue !== '') this.#refused.add(session);
    return session;
  }

  /**
   * Decide what saving `session` takes, synchronously (it runs as the response head is
   * written): a new or changed session is written with a fresh cookie; an unchanged one
   * only when its last activity is older than the touch interval; an empty one is deleted
   * and its cookie cleared. Throws `E_SESSION_COOKIE_TOO_LARGE` for the cookie store.
   */
  prepare(session: Session, client: SessionClient): SessionCommit {
    const now = this.#now();
    const retired = [...session.retiredIds];
    if (session.isEmpty) {
      const gone = session.isNew ? retired : [...retired, session.id];
      const clear = gone.length > 0 || this.#refused.has(session);
      return {
        cookie: clear ? 'clear' : 'keep',
        ...(gone.length > 0 ? { persist: () => this.#destroyAll(gone) } : {}),
      };
    }
    const touch = !session.isNew && now - session.lastActivity >= this.#touchMs;
    if (!session.dirty && !session.hasStaleFlash && !touch) return { cookie: 'keep' };
    const record = session.toRecord(now, client);
    const value = this.store.cookieValue(session.id, record);
    const id = session.id;
    return {
      cookie: 'set',
      value,
      persist: async () => {
        await this.#destroyAll(retired);
        await this.store.write(id, record);
      },
    };
  }

  /** `prepare()` and its store writes, for code outside HTTP (jobs, tests). */
  async commit(session: Session, client: SessionClient): Promise<SessionCommit> {
    const plan = this.prepare(session, client);
    await plan.persist?.();
    return plan;
  }

  /** The user's live sessions, most recent first; `currentId` marks the asking one. */
  async forUser(userId: string | number, currentId?: string): Promise<ActiveSession[]> {
    const store = this.#server('list sessions');
    const current = currentId === undefined ? undefined : sessionHandle(currentId);
    const sessions = await store.forUser(String(userId), this.#now());
    return sessions
      .map(({ handle, record }) => ({
        handle,
        device: describeUserAgent(record.userAgent),
        userAgent: record.userAgent,
        ip: record.ip,
        lastActivity: new Date(record.lastActivity),
        createdAt: new Date(record.createdAt),
        current: handle === current,
      }))
      .sort((a, b) => b.lastActivity.getTime() - a.lastActivity.getTime());
  }

  /** End one session, by the handle from `forUser()` or by its id. True when it existed. */
  async destroy(handleOrId: string): Promise<boolean> {
    const store = this.#server('end a session');
    const handle = isSessionHandle(handleOrId) ? handleOrId : sessionHandle(handleOrId);
    this.#count = undefined;
    return store.destroyHandle(handle);
  }

  /** End every session of the user but the current one ("sign out other devices"). */
  async destroyOthers(userId: string | number, currentId: string): Promise<number> {
    const store = this.#server('end sessions');
    this.#count = undefined;
    return store.destroyUser(String(userId), [sessionHandle(currentId)]);
  }

  /** End every session of the user (password reset, account locked). */
  async destroyAll(userId: string | number): Promise<number> {
    const store = this.#server('end sessions');
    this.#count = undefined;
    return store.destroyUser(String(userId));
  }

  /**
   * How many sessions are live, for the `keel_sessions_active` gauge; undefined for the
   * cookie store. Reuses its answer for 15 s (a scrape must not scan the table each time).
   */
  async countActive(): Promise<number | undefined> {
    if (!isServerStore(this.store)) return undefined;
    const now = this.#now();
    if (this.#count && now - this.#count.at < this.#countCacheMs) return this.#count.value;
    const value = this.store.countActive(now);
    this.#count = { value, at: now };
    value.catch(() => {
      if (this.#count?.value === value) this.#count = undefined;
    });
    return value;
  }

  /** Remove expired sessions from the store; the number removed (0 for the cookie store). */
  async cleanup(): Promise<number> {
    if (!isServerStore(this.store)) return 0;
    this.#count = undefined;
    return this.store.gc(this.#now());
  }

  async close(): Promise<void> {
    await this.store.close?.();
  }

  async #destroyAll(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.store.destroy(id);
  }

  #server(operation: string): ServerSessionStore {
    if (!isServerStore(this.store))
      throw new E_SESSION_STORE_UNSUPPORTED(this.store.driver, operation);
    return this.store;
  }
}

function emptyRecord(now: number): SessionRecord {
  return {
    data: {},
    flash: { new: [], old: [] },
    userId: null,
    ip: null,
    userAgent: null,
    createdAt: now,
    lastActivity: now,
  };
}
