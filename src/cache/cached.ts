import { createHash } from 'node:crypto';
import type { Awaitable } from '../support/index.js';
import { type Cache, MAX_KEY_LENGTH, type Ttl } from './cache.js';
import { E_CACHE_INVALID_KEY } from './errors.js';

export interface CachedOptions<A extends unknown[]> {
  /** The cache, or a function returning it (resolved on each call, e.g. from the app). */
  cache: Cache | (() => Cache);
  /** How long a result is kept; default: the cache's default TTL. */
  ttl?: Ttl;
  /**
   * The key: a name the arguments are appended to (default: the function's name), or a
   * function building the whole key from the arguments.
   */
  key?: string | ((...args: A) => string);
}

/**
 * Cache a function's results by its arguments: calls with equal arguments (compared as
 * JSON with sorted object keys) share one cached result, and concurrent calls one
 * computation. Arguments must be plain data.
 *
 * @example
 * ```ts
 * class PriceService {
 *   quote = cached((sku: string, qty: number) => this.#compute(sku, qty), {
 *     cache: () => app.make('cache').pool('data'),
 *     key: 'prices.quote',
 *     ttl: '5m',
 *   });
 * }
 * await prices.quote('A-1', 3);
 * ```
 */
export function cached<A extends unknown[], R>(
  fn: (...args: A) => Awaitable<R>,
  options: CachedOptions<A>,
): (...args: A) => Promise<R> {
  const name = typeof options.key === 'string' ? options.key : fn.name;
  if (typeof options.key !== 'function' && name === '')
    throw new E_CACHE_INVALID_KEY('', 'cached() needs a `key` for an anonymous function');
  return function (this: unknown, ...args: A): Promise<R> {
    const cache = typeof options.cache === 'function' ? options.cache() : options.cache;
    const key =
      typeof options.key === 'function' ? options.key(...args) : `${name}:${argumentsKey(args)}`;
    return cache.remember(key, options.ttl, () => fn.apply(this, args));
  };
}

/**
 * A key for a list of arguments: its JSON with sorted object keys, or that JSON's
 * SHA-256 when it would make the key too long.
 */
export function argumentsKey(args: readonly unknown[]): string {
  const json = JSON.stringify(args, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (value instanceof Map) return { $map: [...value] };
    if (value instanceof Set) return { $set: [...value] };
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(value).sort())
        Object.defineProperty(sorted, k, {
          value: (value as Record<string, unknown>)[k],
          enumerable: true,
        });
      return sorted;
    }
    return value;
  });
  return json.length > MAX_KEY_LENGTH / 2 || json.includes('\0')
    ? `#${createHash('sha256').update(json).digest('hex')}`
    : json;
}
