import type { Encrypter } from '../../security/encryption/index.js';
import { E_SESSION_COOKIE_TOO_LARGE } from '../errors.js';
import { isSessionId } from '../session-id.js';
import { type SessionRecord, toRecord } from '../session-record.js';
import type { SessionStore, SessionStoreOptions } from '../store.js';

export interface CookieSessionStoreOptions extends SessionStoreOptions {
  /** The application's encrypter (`app.make('encryption')`). */
  encrypter: Encrypter;
  /**
   * Longest cookie value, in bytes (default 4000: browsers keep about 4096 bytes per cookie,
   * name and attributes included).
   */
  maxBytes?: number;
}

const PURPOSE = 'keel:session';

/**
 * The whole session in the cookie, encrypted and authenticated with the application key
 * (AES-256-GCM, purpose-bound): nothing on the server, nothing to clean up. A changed,
 * forged or foreign-key cookie reads as no session. The limits come with the design: the
 * session must fit in a cookie (`E_SESSION_COOKIE_TOO_LARGE` otherwise), and the server
 * cannot revoke a cookie it handed out — `regenerate()` and `invalidate()` replace the
 * cookie, but a copy taken before still opens until it expires. Listing or ending a user's
 * sessions needs a server-side store.
 *
 * @example
 * ```ts
 * const store = new CookieSessionStore({ encrypter: app.make('encryption'), lifetime });
 * ```
 */
export class CookieSessionStore implements SessionStore {
  readonly driver = 'cookie';
  readonly #encrypter: Encrypter;
  readonly #maxBytes: number;

  constructor(options: CookieSessionStoreOptions) {
    this.#encrypter = options.encrypter;
    this.#maxBytes = options.maxBytes ?? 4000;
  }

  async read(cookieValue: string): Promise<{ id: string; record: SessionRecord } | undefined> {
    // Anything longer than we would ever write is not ours: refuse before decrypting it.
    if (typeof cookieValue !== 'string' || cookieValue.length > this.#maxBytes) return undefined;
    const opened = this.#encrypter.tryDecrypt<{ i?: unknown; r?: unknown }>(cookieValue, {
      purpose: PURPOSE,
    });
    if (typeof opened !== 'object' || opened === null || !isSessionId(opened.i)) return undefined;
    const record = toRecord(opened.r);
    return record ? { id: opened.i, record } : undefined;
  }

  cookieValue(id: string, record: SessionRecord): string {
    const value = this.#encrypter.encrypt({ i: id, r: record }, { purpose: PURPOSE });
    if (value.length > this.#maxBytes)
      throw new E_SESSION_COOKIE_TOO_LARGE(value.length, this.#maxBytes);
    return value;
  }

  /** The cookie is the session: there is nothing to write on the server. */
  async write(): Promise<void> {}

  async destroy(): Promise<void> {}
}
