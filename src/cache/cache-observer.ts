/** The cache calls an observer sees (`pull`, `decrement`, `rememberForever` and tagged views go through these). */
export type CacheOperation =
  | 'get'
  | 'has'
  | 'set'
  | 'add'
  | 'delete'
  | 'many'
  | 'setMany'
  | 'increment'
  | 'remember'
  | 'flush'
  | 'invalidateTags';

/** One cache call, as an observer sees it. */
export interface CacheCall {
  readonly operation: CacheOperation;
  /** The pool's name (`data`, `views`, ...). */
  readonly pool: string;
  /** The store's driver (`memory`, `redis`, `database`, ...). */
  readonly driver: string;
  /** The key the caller gave (without the pool prefix); undefined for multi-key calls. */
  readonly key: string | undefined;
  /**
   * For `get`, `has` and `remember`, set before the call settles: whether the value came
   * from the cache (for `remember`: the factory did not run for this call).
   */
  hit: boolean | undefined;
}

/**
 * Wraps every cache call (tracing): `observe` must call `run` once and return what it
 * returns, settled the same way. Process-wide, like OpenTelemetry's global tracer: set
 * by the tracing provider when tracing is on. Unset, a cache call pays one comparison.
 *
 * @example
 * ```ts
 * observeCache({
 *   observe: (call, run) => tracer.startActiveSpan(`cache ${call.operation}`, (span) =>
 *     run().finally(() => span.end())),
 * });
 * ```
 */
export interface CacheObserver {
  observe<T>(call: CacheCall, run: () => Promise<T>): Promise<T>;
}

/** The observer cache calls go through (read by `Cache` on every call). */
export let cacheObserver: CacheObserver | undefined;

/** Set (or, with undefined, remove) the process's cache observer. */
export function observeCache(observer: CacheObserver | undefined): void {
  cacheObserver = observer;
}
