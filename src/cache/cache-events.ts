/**
 * The cache's events on the application bus. They are emitted only while something
 * listens (the bus's `hasListeners`), so an application without listeners pays one map
 * lookup per operation and builds no payload.
 *
 * @example
 * ```ts
 * app.events.on('cache.miss', ({ pool, key }) => misses.inc({ pool }));
 * ```
 */
export interface CacheEventPayload {
  /** The pool's name (`data`, `views`, ...). */
  pool: string;
  /** The key as the caller gave it, without the prefix. */
  key: string;
  /** The prefix of the cache (pool prefix plus namespaces). */
  prefix: string;
}

export const CACHE_EVENTS = ['cache.hit', 'cache.miss', 'cache.written', 'cache.deleted'] as const;

export type CacheEventName = (typeof CACHE_EVENTS)[number];

declare module '../events/types.js' {
  interface EventMap {
    'cache.hit': CacheEventPayload;
    'cache.miss': CacheEventPayload;
    'cache.written': CacheEventPayload;
    'cache.deleted': CacheEventPayload;
  }
}
