import { E_INVALID_DURATION, parseDuration } from '../support/index.js';
import {
  E_CACHE_INVALID_KEY,
  E_CACHE_INVALID_TAG,
  E_CACHE_INVALID_TTL,
  E_CACHE_INVALID_VALUE,
} from './errors.js';

/** A TTL: seconds as a number, or a duration string (`'30s'`, `'10m'`, `'1h30m'`). */
export type Ttl = number | string;

/** The longest key a caller may give (the prefix comes on top). */
export const MAX_KEY_LENGTH = 250;

/**
 * How a value is written: its TTL, its tags and a grace period. A plain {@link Ttl} in
 * place of these options means `{ ttl }`.
 *
 * @example
 * ```ts
 * await cache.set('product:42', product, { ttl: '10m', tags: ['catalog:products:42'] });
 * ```
 */
export interface WriteOptions {
  /** How long the value is fresh (default: the pool's default TTL, else forever). */
  ttl?: Ttl;
  /**
   * Tags to invalidate the entry by (`invalidateTags`). Tags are hierarchical: an entry
   * tagged `catalog:products:42` is invalidated by `catalog:products` and by `catalog`.
   */
  tags?: readonly string[];
  /**
   * How long past its TTL the value is kept to be served stale by `remember` while one
   * caller refreshes it, or when the refresh fails (default: none).
   */
  grace?: Ttl;
}

/**
 * {@link WriteOptions} for `remember`, plus how long its factory may take.
 *
 * @example
 * ```ts
 * const rates = await cache.remember('fx', { ttl: '1m', grace: '1h', timeout: '200ms' }, fetchRates);
 * ```
 */
export interface RememberOptions extends WriteOptions {
  /**
   * With a stale value at hand (grace), the longest the refreshing caller waits for the
   * factory before it answers with the stale value; the factory goes on in the background.
   */
  timeout?: Ttl;
  /**
   * Without a stale value, the longest any caller waits before E_CACHE_FACTORY_TIMEOUT;
   * the factory goes on and its value is still stored.
   */
  hardTimeout?: Ttl;
}

/** Write options resolved to milliseconds (`ttlMs`: undefined = no expiry, 0 = delete). */
export interface ResolvedWrite {
  ttlMs: number | undefined;
  tags: readonly string[] | undefined;
  graceMs: number | undefined;
}

const ttlMemo = new Map<string, number>();

/** A TTL in milliseconds: undefined for infinity (no expiry), 0 for "expire now". */
export function ttlMs(ttl: Ttl): number | undefined {
  if (typeof ttl === 'number') {
    if (ttl === Number.POSITIVE_INFINITY) return undefined;
    if (!Number.isFinite(ttl) || ttl < 0) throw new E_CACHE_INVALID_TTL(String(ttl));
    return ttl * 1000;
  }
  if (typeof ttl !== 'string') throw new E_CACHE_INVALID_TTL(String(ttl));
  const known = ttlMemo.get(ttl);
  if (known !== undefined) return known;
  // A bare number in a string is seconds, as a number TTL is (parseDuration reads ms).
  let ms: number;
  try {
    ms = /^\s*\d+(\.\d+)?\s*$/.test(ttl) ? Number(ttl) * 1000 : parseDuration(ttl);
  } catch (error) {
    if (error instanceof E_INVALID_DURATION) throw new E_CACHE_INVALID_TTL(JSON.stringify(ttl));
    throw error;
  }
  if (ttlMemo.size < 1024) ttlMemo.set(ttl, ms);
  return ms;
}

/** A duration option (grace, timeouts) in ms: finite and above zero. */
export function durationMs(value: Ttl): number {
  const ms = ttlMs(value);
  if (ms === undefined || ms === 0) throw new E_CACHE_INVALID_TTL(String(value));
  return ms;
}

/** Resolve a TTL-or-options argument against the pool's default TTL. */
export function resolveWrite(
  options: Ttl | WriteOptions | undefined,
  defaultTtlMs: number | undefined,
): ResolvedWrite {
  if (options === undefined) return { ttlMs: defaultTtlMs, tags: undefined, graceMs: undefined };
  if (typeof options !== 'object' || options === null)
    return { ttlMs: ttlMs(options), tags: undefined, graceMs: undefined };
  const tags = options.tags;
  if (tags !== undefined && !Array.isArray(tags))
    throw new E_CACHE_INVALID_TAG(
      String(tags),
      `tags must be an array of strings, got ${typeof tags}`,
    );
  return {
    ttlMs: options.ttl === undefined ? defaultTtlMs : ttlMs(options.ttl),
    tags: tags !== undefined && tags.length > 0 ? tags : undefined,
    graceMs: options.grace === undefined ? undefined : durationMs(options.grace),
  };
}

/** Throw E_CACHE_INVALID_KEY unless `key` is a usable key. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string')
    throw new E_CACHE_INVALID_KEY(String(key), `expected a string, got ${typeof key}`);
  if (key.length === 0) throw new E_CACHE_INVALID_KEY(key, 'it is empty');
  if (key.length > MAX_KEY_LENGTH)
    throw new E_CACHE_INVALID_KEY(
      key,
      `it is ${key.length} characters long (at most ${MAX_KEY_LENGTH})`,
    );
  // Keys starting with a control character are the tag index's (TagIndex).
  if (key.charCodeAt(0) < 32)
    throw new E_CACHE_INVALID_KEY(
      `?${key.slice(1)}`,
      'it starts with a control character (reserved for the tag index)',
    );
  // PostgreSQL text cannot hold NUL, and C-string tools truncate at it: refused everywhere.
  if (key.includes('\0'))
    throw new E_CACHE_INVALID_KEY(key.replaceAll('\0', '\\0'), 'it contains a NUL character');
}

/** Throw E_CACHE_INVALID_VALUE for what no store can hold. */
export function checkValue(key: string, value: unknown): void {
  if (value === undefined)
    throw new E_CACHE_INVALID_VALUE(key, 'undefined cannot be cached (delete the key instead)');
  if (typeof value === 'function' || typeof value === 'symbol')
    throw new E_CACHE_INVALID_VALUE(key, `a ${typeof value} cannot be cached`);
}
