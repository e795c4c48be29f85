/**
 * The upper bounds (ms) of the latency buckets: the Prometheus histogram the metrics
 * issue exports, and the percentiles `cache:stats` prints.
 */
export const LATENCY_BUCKETS_MS = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000,
] as const;

/** A point-in-time copy of a pool's counters, as `cache:stats` and metrics read them. */
export interface CacheStatsSnapshot {
  pool: string;
  /** The driver of the pool's store (`memory`, `redis`, `tiered`, ...). */
  store: string;
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  /** Entries the memory store (or a tier's L1) dropped to stay within its bounds. */
  evictions: number;
  /** Store failures answered as a miss or skipped write (fail-open), or thrown. */
  errors: number;
  /** remember() answers served stale inside the grace period. */
  stale: number;
  /** Factory calls made by remember() (misses that computed a value). */
  factoryCalls: number;
  /** Latency of the operations that went to the store asynchronously, in ms. */
  latency: { count: number; sumMs: number; buckets: number[] };
}

/**
 * The counters of one pool: hits, misses, writes, deletes, errors, stale answers, factory
 * calls, and a latency histogram of the store round trips. Plain integer fields: a hit on
 * the memory store costs one increment. Namespaces of a pool share its counters.
 *
 * @example
 * ```ts
 * const stats = app.make('cache').pool('data').stats.snapshot();
 * console.log(stats.hits / (stats.hits + stats.misses));
 * ```
 */
export class CacheStats {
  readonly pool: string;
  readonly store: string;
  hits = 0;
  misses = 0;
  writes = 0;
  deletes = 0;
  errors = 0;
  stale = 0;
  factoryCalls = 0;
  #latencyCount = 0;
  #latencySum = 0;
  readonly #buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  /** Reads the store's eviction count (memory and tiered stores keep one). */
  readonly #evictions: () => number;

  constructor(pool: string, store: string, evictions: () => number = () => 0) {
    this.pool = pool;
    this.store = store;
    this.#evictions = evictions;
  }

  /** Record one store round trip of `ms` milliseconds. */
  observe(ms: number): void {
    this.#latencyCount++;
    this.#latencySum += ms;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > (LATENCY_BUCKETS_MS[i] as number)) i++;
    this.#buckets[i] = (this.#buckets[i] as number) + 1;
  }

  snapshot(): CacheStatsSnapshot {
    return {
      pool: this.pool,
      store: this.store,
      hits: this.hits,
      misses: this.misses,
      writes: this.writes,
      deletes: this.deletes,
      evictions: this.#evictions(),
      errors: this.errors,
      stale: this.stale,
      factoryCalls: this.factoryCalls,
      latency: { count: this.#latencyCount, sumMs: this.#latencySum, buckets: [...this.#buckets] },
    };
  }

  /** Back to zero (tests, and `cache:stats --reset`). */
  reset(): void {
    this.hits = this.misses = this.writes = this.deletes = 0;
    this.errors = this.stale = this.factoryCalls = 0;
    this.#latencyCount = this.#latencySum = 0;
    this.#buckets.fill(0);
  }
}

/**
 * Add snapshots of the same pool (from several processes) into one; the percentile of a
 * merged histogram is read with {@link latencyPercentile}.
 */
export function mergeSnapshots(snapshots: readonly CacheStatsSnapshot[]): CacheStatsSnapshot {
  const first = snapshots[0];
  if (first === undefined) throw new Error('mergeSnapshots needs at least one snapshot');
  const total: CacheStatsSnapshot = {
    ...first,
    latency: { ...first.latency, buckets: [...first.latency.buckets] },
  };
  for (const s of snapshots.slice(1)) {
    for (const field of COUNTERS) total[field] += s[field];
    total.latency.count += s.latency.count;
    total.latency.sumMs += s.latency.sumMs;
    s.latency.buckets.forEach((n, i) => {
      total.latency.buckets[i] = (total.latency.buckets[i] ?? 0) + n;
    });
  }
  return total;
}

/** The counter fields of a snapshot (everything but pool, store and latency). */
export const COUNTERS = [
  'hits',
  'misses',
  'writes',
  'deletes',
  'evictions',
  'errors',
  'stale',
  'factoryCalls',
] as const;

/**
 * The upper bound (ms) of the bucket holding the `p`-th percentile (0–100) of a latency
 * histogram, `Infinity` when it lies past the last bound, undefined when it is empty.
 */
export function latencyPercentile(
  latency: CacheStatsSnapshot['latency'],
  p: number,
): number | undefined {
  if (latency.count === 0) return undefined;
  const rank = Math.ceil((p / 100) * latency.count);
  let seen = 0;
  for (const [i, n] of latency.buckets.entries()) {
    seen += n;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}
