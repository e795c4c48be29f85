import { CacheProvider } from '../cache/cache-provider.js';
import { DatabaseProvider } from '../db/db-provider.js';
import { HttpProvider } from '../http/index.js';
import { LockProvider } from '../locks/lock-provider.js';
import { HealthProvider } from '../observability/health/health-provider.js';
import { LoggingProvider } from '../observability/logging/logging-provider.js';
import { MetricsProvider } from '../observability/metrics/metrics-provider.js';
import { TracingProvider } from '../observability/tracing/tracing-provider.js';
import { QueueProvider } from '../queue/queue-provider.js';
import { ScheduleProvider } from '../queue/schedule/schedule-provider.js';
import type { Constructor } from '../support/index.js';

/**
 * The framework's own providers, registered before every module's. Later subsystems
 * (database, cache, queue, ...) add theirs here.
 */
// Cache and locks after the database: with a database store they register its table's
// migration in the registry the DatabaseProvider binds.
export const frameworkProviders: Constructor[] = [
  HttpProvider,
  DatabaseProvider,
  CacheProvider,
  LockProvider,
  QueueProvider,
  ScheduleProvider,
  // After the subsystems it measures: their managers exist when it boots.
  MetricsProvider,
  // After the HTTP kernel and the queue: it instruments both at boot.
  LoggingProvider,
  // After the HTTP kernel, the database, the cache and the queue: it instruments them at
  // boot. Its exporter flushes in an onShutdown callback, after every provider stopped.
  TracingProvider,
  // Last: its checks read what the others configured, and its shutdown (first, in
  // reverse) turns readiness off while the HTTP server still serves.
  HealthProvider,
];
