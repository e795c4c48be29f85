import { isSessionId, sessionHandle } from '../session-id.js';
import { isExpired, type SessionRecord } from '../session-record.js';
import type { ServerSessionStore, SessionStoreOptions, StoredSession } from '../store.js';

export interface MemorySessionStoreOptions extends SessionStoreOptions {
  /** The map to keep sessions in (handle → JSON), to share or inspect it; default a new one. */
  sessions?: Map<string, string>;
}

/**
 * Sessions in this process's memory, keyed by handle; records are copied in and out (as
 * JSON) so a caller cannot change a stored session by holding a reference. For tests and
 * single-process development: sessions die with the process.
 *
 * @example
 * ```ts
 * const store = new MemorySessionStore({ lifetime: { idleMs: 7_200_000, absoluteMs: 43_200_000 } });
 * ```
 */
export class MemorySessionStore implements ServerSessionStore {
  readonly driver = 'memory';
  readonly #sessions: Map<string, string>;
  readonly #options: SessionStoreOptions;

  constructor(options: MemorySessionStoreOptions) {
    this.#options = options;
    this.#sessions = options.sessions ?? new Map();
  }

  async read(cookieValue: string): Promise<{ id: string; record: SessionRecord } | undefined> {
    if (!isSessionId(cookieValue)) return undefined;
    const text = this.#sessions.get(sessionHandle(cookieValue));
    return text === undefined ? undefined : { id: cookieValue, record: JSON.parse(text) };
  }

  cookieValue(id: string): string {
    return id;
  }

  async write(id: string, record: SessionRecord): Promise<void> {
    this.#sessions.set(sessionHandle(id), JSON.stringify(record));
  }

  async destroy(id: string): Promise<void> {
    this.#sessions.delete(sessionHandle(id));
  }

  async forUser(userId: string, now: number): Promise<StoredSession[]> {
    return this.#entries().filter(
      ({ record }) => record.userId === userId && !isExpired(record, this.#options.lifetime, now),
    );
  }

  async destroyHandle(handle: string): Promise<boolean> {
    return this.#sessions.delete(handle);
  }

  async destroyUser(userId: string, keep: readonly string[] = []): Promise<number> {
    let removed = 0;
    for (const { handle, record } of this.#entries())
      if (record.userId === userId && !keep.includes(handle) && this.#sessions.delete(handle))
        removed++;
    return removed;
  }

  async countActive(now: number): Promise<number> {
    return this.#entries().filter(({ record }) => !isExpired(record, this.#options.lifetime, now))
      .length;
  }

  async gc(now: number): Promise<number> {
    let removed = 0;
    for (const { handle, record } of this.#entries())
      if (isExpired(record, this.#options.lifetime, now) && this.#sessions.delete(handle))
        removed++;
    return removed;
  }

  #entries(): StoredSession[] {
    return [...this.#sessions].map(([handle, text]) => ({ handle, record: JSON.parse(text) }));
  }
}
