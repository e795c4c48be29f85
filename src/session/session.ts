import { E_SESSION_DATA_INVALID } from './errors.js';
import { generateSessionId } from './session-id.js';
import type { SessionRecord } from './session-record.js';

/** How a session was found at the start of the request. */
export interface SessionState {
  id: string;
  record: SessionRecord;
  /** True when no stored session was adopted (new visitor, unknown, expired or forged id). */
  fresh: boolean;
}

/**
 * One visitor's session: `ctx.session` once the `session` middleware ran. Changes are kept
 * here and saved by the middleware as the response head is written — only when something
 * changed, or to refresh the last activity (at most once per `touch_interval`).
 *
 * Values are stored as JSON. Flash values live for the next request only. Call
 * `regenerate()` when privileges change (login) so an id planted before is worthless, and
 * `invalidate()` on logout.
 *
 * @example
 * ```ts
 * router.post('/cart', (ctx) => {
 *   ctx.session.put('cart', [...(ctx.session.get<string[]>('cart') ?? []), ctx.input('sku')]);
 *   ctx.session.flash('notice', 'Added to your cart');
 *   return ctx.redirect('/cart');
 * });
 * ```
 */
export class Session {
  #id: string;
  /** Ids this session had earlier in the request, to delete from the store on save. */
  readonly #retired: string[] = [];
  readonly #fresh: boolean;
  readonly #data: Map<string, unknown>;
  #flashNew: Set<string>;
  #flashOld: Set<string>;
  #userId: string | null;
  #createdAt: number;
  readonly #lastActivity: number;
  #dirty = false;
  readonly #now: () => number;

  constructor(state: SessionState, now: () => number = Date.now) {
    this.#now = now;
    this.#id = state.id;
    this.#fresh = state.fresh;
    // A Map, not the parsed object: a key named "__proto__" stays a key.
    this.#data = new Map(Object.entries(state.record.data));
    this.#flashNew = new Set(state.record.flash.new);
    this.#flashOld = new Set(state.record.flash.old);
    this.#userId = state.record.userId;
    this.#createdAt = state.record.createdAt;
    this.#lastActivity = state.record.lastActivity;
  }

  /** The session id (43 characters of base64url). Never put it in URLs or logs. */
  get id(): string {
    return this.#id;
  }

  /** True when this request started a new session rather than resuming a stored one. */
  get isNew(): boolean {
    return this.#fresh;
  }

  /** True when something changed that must be saved. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** The signed-in user's id, or null. */
  get userId(): string | null {
    return this.#userId;
  }

  /** When the session started (epoch milliseconds): the absolute lifetime counts from it. */
  get createdAt(): number {
    return this.#createdAt;
  }

  /** When the session was last saved or touched (epoch milliseconds). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** Ids this session had before `regenerate()`/`invalidate()` in this request. */
  get retiredIds(): readonly string[] {
    return this.#retired;
  }

  get<T = unknown>(key: string, fallback?: T): T | undefined {
    return this.#data.has(key) ? (this.#data.get(key) as T) : fallback;
  }

  has(key: string): boolean {
    return this.#data.get(key) !== undefined && this.#data.get(key) !== null;
  }

  /** Store `value` under `key` (or every entry of an object); `undefined` forgets the key. */
  put(key: string, value: unknown): this;
  put(values: Record<string, unknown>): this;
  put(keyOrValues: string | Record<string, unknown>, value?: unknown): this {
    if (typeof keyOrValues === 'string') return this.#set(keyOrValues, value);
    for (const [key, v] of Object.entries(keyOrValues)) this.#set(key, v);
    return this;
  }

  forget(...keys: string[]): this {
    for (const key of keys) {
      if (this.#data.delete(key)) this.#dirty = true;
      this.#flashNew.delete(key);
    }
    return this;
  }

  /** The value, removed from the session. */
  pull<T = unknown>(key: string, fallback?: T): T | undefined {
    const value = this.get<T>(key, fallback);
    this.forget(key);
    return value;
  }

  /** Every value (a copy). */
  all(): Record<string, unknown> {
    return Object.fromEntries(this.#data);
  }

  /** Remove every value, flash data included (the user stays signed in: see `invalidate`). */
  flush(): this {
    if (this.#data.size > 0 || this.#flashNew.size > 0 || this.#flashOld.size > 0)
      this.#dirty = true;
    this.#data.clear();
    this.#flashNew.clear();
    this.#flashOld.clear();
    return this;
  }

  /** Store `value` for this request and the next one only. */
  flash(key: string, value: unknown): this {
    this.#set(key, value);
    this.#flashNew.add(key);
    this.#flashOld.delete(key);
    return this;
  }

  /** Keep this request's flash data (or only `keys` of it) for one more request. */
  reflash(...keys: string[]): this {
    const kept = keys.length > 0 ? keys.filter((k) => this.#flashOld.has(k)) : [...this.#flashOld];
    for (const key of kept) {
      this.#flashNew.add(key);
      this.#flashOld.delete(key);
    }
    if (kept.length > 0) this.#dirty = true;
    return this;
  }

  /**
   * A new id for the same data; the old id stops working when the session is saved. Call
   * it on login and on any change of privileges (session fixation).
   */
  regenerate(): this {
    this.#retired.push(this.#id);
    this.#id = generateSessionId();
    this.#dirty = true;
    return this;
  }

  /** A new, empty session: new id, no data, no user; the old one is deleted on save. */
  invalidate(): this {
    this.#data.clear();
    this.#flashNew.clear();
    this.#flashOld.clear();
    this.#userId = null;
    this.#createdAt = this.#now();
    return this.regenerate();
  }

  /**
   * Attach the session to a user (stored with it, so `sessionManager.forUser(id)` lists it),
   * or detach it with `null`. Pair it with `regenerate()` on login.
   */
  setUser(id: string | number | null): this {
    const next = id === null ? null : String(id);
    // The database store's user_id column holds 255 characters.
    if (next !== null && (next === '' || next.length > 255))
      throw new E_SESSION_DATA_INVALID('userId', 'a user id is 1 to 255 characters');
    if (next !== this.#userId) this.#dirty = true;
    this.#userId = next;
    return this;
  }

  /**
   * The record to save at `now`: flash data of this request removed, this request's
   * flashes kept for the next. Changes nothing here (saving twice gives the same record).
   */
  toRecord(now: number, meta: { ip: string | null; userAgent: string | null }): SessionRecord {
    const data = new Map(this.#data);
    for (const key of this.#flashOld) if (!this.#flashNew.has(key)) data.delete(key);
    return {
      data: Object.fromEntries(data),
      flash: { new: [], old: [...this.#flashNew] },
      userId: this.#userId,
      ip: meta.ip,
      userAgent: meta.userAgent,
      createdAt: this.#createdAt,
      lastActivity: now,
    };
  }

  /** True when the last request's flash data is still stored: saving drops it. */
  get hasStaleFlash(): boolean {
    return this.#flashOld.size > 0;
  }

  /** Whether there is anything worth storing for a new session. */
  get isEmpty(): boolean {
    return this.#data.size === 0 && this.#userId === null;
  }

  #set(key: string, value: unknown): this {
    if (typeof key !== 'string' || key === '')
      throw new E_SESSION_DATA_INVALID(String(key), 'a key is a non-empty string');
    if (value === undefined) return this.forget(key);
    const type = typeof value;
    if (type === 'function' || type === 'symbol' || type === 'bigint')
      throw new E_SESSION_DATA_INVALID(key, `a ${type} is not JSON`);
    this.#data.set(key, value);
    this.#dirty = true;
    return this;
  }
}
