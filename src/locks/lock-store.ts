import { isKeelError, parseDuration } from '../support/index.js';
import { E_LOCK_INVALID_NAME, E_LOCK_INVALID_TTL } from './errors.js';

/**
 * Where locks live. Every method is one atomic step on the store (one statement, one Lua
 * script, one synchronous turn in memory), so two processes can never both believe they
 * hold the same name. Stores are driven by {@link Lock}; they trust their inputs (names and
 * TTLs are validated before they get here).
 *
 * Invariants every store keeps, checked by `lock-store.contract.ts`:
 * - at most one unexpired owner per name;
 * - `release` and `extend` change nothing unless `owner` is the current unexpired owner;
 * - the fencing token returned by each successful `acquire` of a name is greater than every
 *   token returned before for that name, across owners, expiries and releases.
 *
 * @example
 * ```ts
 * const store: LockStore = new MemoryLockStore();
 * const token = await store.acquire('report', 'owner-1', 10_000); // 1, or null when held
 * ```
 */
export interface LockStore {
  /** `memory`, `database`, `redis`: for messages and metrics. */
  readonly driver: string;
  /**
   * Take `name` for `owner` for `ttlMs` if nobody holds it (or its holder's lease
   * expired). Returns the new fencing token, or null when another owner holds it.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<number | null>;
  /** Release `name` if `owner` holds it; false (and nothing changed) otherwise. */
  release(name: string, owner: string): Promise<boolean>;
  /** Set the lease of `name` to `ttlMs` from now if `owner` holds it; false otherwise. */
  extend(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** The current unexpired owner of `name`, or null. */
  owner(name: string): Promise<string | null>;
  /** Release `name` whoever holds it (an operator's tool); true when it was held. */
  forceRelease(name: string): Promise<boolean>;
  /** Free what the store opened (connections it owns); the store is unusable after. */
  close?(): Promise<void>;
}

/** Longest lock name: fits a `varchar(255)` key on every dialect (JS length ≥ code points). */
export const MAX_LOCK_NAME_LENGTH = 255;
/** Longest lease: a lock meant to outlive this is a record, not a lock. */
export const MAX_LOCK_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** A lone surrogate cannot be encoded as UTF-8, so SQL drivers would mangle the name. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Check a lock name and return it. Quotes, spaces, unicode and `%`/`_` are fine (names
 * are always bound as parameters, compared byte for byte); NUL is refused because
 * PostgreSQL cannot store it in text, and unpaired surrogates because they have no UTF-8.
 *
 * @example
 * ```ts
 * assertLockName("invoice:42 'draft'"); // returned as is
 * assertLockName(''); // throws E_LOCK_INVALID_NAME
 * ```
 */
export function assertLockName(name: unknown): string {
  if (typeof name !== 'string') throw new E_LOCK_INVALID_NAME(name, 'it must be a string');
  if (name.length === 0) throw new E_LOCK_INVALID_NAME(name, 'it is empty');
  if (name.length > MAX_LOCK_NAME_LENGTH)
    throw new E_LOCK_INVALID_NAME(
      name,
      `it has ${name.length} characters, more than ${MAX_LOCK_NAME_LENGTH}`,
    );
  if (name.includes('\0')) throw new E_LOCK_INVALID_NAME(name, 'it contains a NUL character');
  if (LONE_SURROGATE.test(name))
    throw new E_LOCK_INVALID_NAME(name, 'it contains an unpaired surrogate (not valid UTF-8)');
  return name;
}

/**
 * A lease duration in whole milliseconds (rounded up: a lease is never shorter than asked),
 * from milliseconds or a duration string (`'10s'`).
 *
 * @example
 * ```ts
 * lockTtl('10s'); // 10000
 * lockTtl(0); // throws E_LOCK_INVALID_TTL
 * ```
 */
export function lockTtl(input: unknown): number {
  if (typeof input !== 'number' && typeof input !== 'string')
    throw new E_LOCK_INVALID_TTL(input, 'give milliseconds or a duration string');
  let ms: number;
  try {
    ms = parseDuration(input);
  } catch (error) {
    if (isKeelError(error)) throw new E_LOCK_INVALID_TTL(input, error.message).withCause(error);
    throw error;
  }
  if (!(ms > 0)) throw new E_LOCK_INVALID_TTL(input, 'it must be greater than zero');
  if (ms > MAX_LOCK_TTL_MS) throw new E_LOCK_INVALID_TTL(input, 'it is longer than 30 days');
  return Math.ceil(ms);
}
