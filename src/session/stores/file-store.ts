import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../support/index.js';
import { isSessionHandle, isSessionId, sessionHandle } from '../session-id.js';
import { isExpired, type SessionRecord, toRecord } from '../session-record.js';
import type { ServerSessionStore, SessionStoreOptions, StoredSession } from '../store.js';

export interface FileSessionStoreOptions extends SessionStoreOptions {
  /** The folder of session files (the provider uses `var/sessions`). */
  directory: string;
}

/**
 * One JSON file per session, `<handle>.json` under `directory`, written atomically (a temp
 * file renamed over the old one), so a reader never sees half a session and a crash leaves
 * the previous version. Listing a user's sessions reads every file: fine for one machine
 * and thousands of sessions; use the database or Redis store beyond that.
 *
 * @example
 * ```ts
 * const store = new FileSessionStore({ directory: 'var/sessions', lifetime });
 * ```
 */
export class FileSessionStore implements ServerSessionStore {
  readonly driver = 'file';
  readonly #dir: string;
  readonly #options: SessionStoreOptions;

  constructor(options: FileSessionStoreOptions) {
    this.#dir = options.directory;
    this.#options = options;
  }

  async read(cookieValue: string): Promise<{ id: string; record: SessionRecord } | undefined> {
    if (!isSessionId(cookieValue)) return undefined;
    const record = await this.#load(sessionHandle(cookieValue));
    return record ? { id: cookieValue, record } : undefined;
  }

  cookieValue(id: string): string {
    return id;
  }

  async write(id: string, record: SessionRecord): Promise<void> {
    await writeFileAtomic(this.#file(sessionHandle(id)), JSON.stringify(record));
  }

  async destroy(id: string): Promise<void> {
    await rm(this.#file(sessionHandle(id)), { force: true });
  }

  async forUser(userId: string, now: number): Promise<StoredSession[]> {
    const all = await this.#all();
    return all.filter(
      ({ record }) => record.userId === userId && !isExpired(record, this.#options.lifetime, now),
    );
  }

  async destroyHandle(handle: string): Promise<boolean> {
    if (!isSessionHandle(handle)) return false;
    return unlink(this.#file(handle)).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
  }

  async destroyUser(userId: string, keep: readonly string[] = []): Promise<number> {
    let removed = 0;
    for (const { handle, record } of await this.#all())
      if (record.userId === userId && !keep.includes(handle) && (await this.destroyHandle(handle)))
        removed++;
    return removed;
  }

  async countActive(now: number): Promise<number> {
    const all = await this.#all();
    return all.filter(({ record }) => !isExpired(record, this.#options.lifetime, now)).length;
  }

  /** Expired sessions, and files that are not sessions any more (corrupt), are removed. */
  async gc(now: number): Promise<number> {
    let removed = 0;
    for (const handle of await this.#handles()) {
      const record = await this.#load(handle);
      if (
        (record === undefined || isExpired(record, this.#options.lifetime, now)) &&
        (await this.destroyHandle(handle))
      )
        removed++;
    }
    return removed;
  }

  #file(handle: string): string {
    return join(this.#dir, `${handle}.json`);
  }

  async #handles(): Promise<string[]> {
    const names = await readdir(this.#dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -5))
      .filter(isSessionHandle);
  }

  async #all(): Promise<StoredSession[]> {
    const out: StoredSession[] = [];
    for (const handle of await this.#handles()) {
      const record = await this.#load(handle);
      if (record) out.push({ handle, record });
    }
    return out;
  }

  async #load(handle: string): Promise<SessionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#file(handle), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return toRecord(JSON.parse(text));
    } catch {
      return undefined;
    }
  }
}
