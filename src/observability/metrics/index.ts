/**
 * Prometheus metrics: the application's own registry (`app.make('metrics')`), HTTP,
 * database, cache, queue, error and process metrics, the protected `/_metrics` endpoint,
 * cluster-wide sums, and the hourly snapshots behind `keel metrics:show`.
 */

export { instrumentCache } from './cache-metrics.js';
export { metricsShowCommand } from './commands/index.js';
export {
  DEFAULT_DURATION_BUCKETS,
  type MetricsConfig,
  type MetricsConfigInput,
  resolveMetricsConfig,
} from './config.js';
export { instrumentDatabase } from './db-metrics.js';
export { errorCode, errorMetricsReporter, INTERNAL_ERROR_CODE } from './error-metrics.js';
export * from './errors.js';
export { HttpMetrics, OTHER_METHOD, UNMATCHED_ROUTE } from './http-metrics.js';
export {
  type Aggregator,
  Counter,
  CounterChild,
  Gauge,
  GaugeChild,
  Histogram,
  HistogramChild,
  type HistogramOptions,
  type MetricOptions,
  OVERFLOW_LABEL,
  type SeriesSnapshot,
  type SeriesValue,
} from './metric-series.js';
export {
  hasMetricsKey,
  isLoopback,
  METRICS_GATHER_TOPIC,
  type MetricsEndpointOptions,
  metricsHandler,
} from './metrics-endpoint.js';
export { MetricsProvider } from './metrics-provider.js';
export {
  type MetricJson,
  type MetricsCollector,
  MetricsRegistry,
  type MetricsRegistryOptions,
} from './metrics-registry.js';
export { type MetricsSummary, type RouteSummary, readMetricsSummary } from './metrics-report.js';
export {
  METRICS_SNAPSHOT_FOLDER,
  MetricsSnapshotRecorder,
  type MetricsTotals,
  type ProcessMetricsSnapshot,
  readTotals,
  SNAPSHOT_HOURS,
} from './metrics-snapshots.js';
export { instrumentQueue } from './queue-metrics.js';
