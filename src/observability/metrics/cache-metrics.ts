import { type CacheManager, LATENCY_BUCKETS_MS } from '../../cache/index.js';
import type { MetricsRegistry } from './metrics-registry.js';

const COUNTERS = [
  ['hits', 'cache_hits_total', 'Cache reads that found a value, by pool'],
  ['misses', 'cache_misses_total', 'Cache reads that found nothing, by pool'],
  ['writes', 'cache_writes_total', 'Cache writes, by pool'],
  ['deletes', 'cache_deletes_total', 'Cache deletions, by pool'],
  [
    'errors',
    'cache_errors_total',
    'Cache store failures (answered as a miss or a skipped write), by pool',
  ],
  [
    'stale',
    'cache_stale_total',
    'remember() answers served stale within the grace period, by pool',
  ],
  [
    'evictions',
    'cache_evictions_total',
    'Entries dropped by a memory store to stay within bounds, by pool',
  ],
] as const;

/**
 * Cache metrics, read at scrape time from each pool's CacheStats counters: the cache's own
 * hot path pays nothing for them. Counters are copied (the pools never reset theirs), and
 * the store latency histogram is copied bucket by bucket.
 *
 * @example
 * ```ts
 * instrumentCache(registry, app.make('cache'));
 * ```
 */
export function instrumentCache(registry: MetricsRegistry, manager: CacheManager): () => void {
  const counters = COUNTERS.map(
    ([field, name, help]) =>
      [field, registry.counter({ name, help, labelNames: ['pool', 'store'] })] as const,
  );
  const latency = registry.histogram({
    name: 'cache_operation_duration_seconds',
    help: 'Round trips to a cache store (not memory hits), by pool',
    labelNames: ['pool', 'store'],
    buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
  });
  return registry.onCollect('cache', () => {
    for (const snapshot of manager.stats()) {
      for (const [field, counter] of counters)
        counter.labels(snapshot.pool, snapshot.store).value = snapshot[field];
      const child = latency.labels(snapshot.pool, snapshot.store);
      child.counts.set(snapshot.latency.buckets.slice(0, child.counts.length));
      child.count = snapshot.latency.count;
      child.sum = snapshot.latency.sumMs / 1000;
    }
  });
}
