import { join } from 'node:path';
import { ServiceProvider } from '../../container/index.js';
import { answerClusterGather, type RequestInstrument } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import { instrumentCache } from './cache-metrics.js';
import { type MetricsConfig, resolveMetricsConfig } from './config.js';
import { instrumentDatabase } from './db-metrics.js';
import { errorMetricsReporter } from './error-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { METRICS_GATHER_TOPIC, metricsHandler } from './metrics-endpoint.js';
import { MetricsRegistry } from './metrics-registry.js';
import {
  DEFAULT_SNAPSHOT_SECONDS,
  METRICS_SNAPSHOT_FOLDER,
  MetricsSnapshotRecorder,
  readTotals,
} from './metrics-snapshots.js';
import { instrumentQueue } from './queue-metrics.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** The application's metrics registry (see MetricsRegistry). */
    metrics: MetricsRegistry;
    /** The resolved `metrics` config namespace. */
    'metrics.config': MetricsConfig;
  }
}

/**
 * Prometheus metrics for the application: binds `app.make('metrics')` (a registry of the
 * app's own), measures HTTP requests (an instrument, or the `metrics` middleware), database
 * statements, cache pools, queue jobs and backlog, reported errors and the process, serves
 * them at `metrics.path` (`/_metrics`) to loopback clients and API-key holders, sums them
 * over cluster workers, and writes hourly snapshots for `keel metrics:show`.
 */
export class MetricsProvider extends ServiceProvider<Application> {
  #config: MetricsConfig | undefined;
  #stops: Array<() => void> = [];
  #recorder: MetricsSnapshotRecorder | undefined;

  override register(): void {
    const app = this.app;
    const config = resolveMetricsConfig(app.config.get('metrics' as never), (name) => {
      const value = app.env.variable(name);
      return value === '' ? undefined : value;
    });
    this.#config = config;
    app.container.value('metrics.config', config);
    app.container.singleton(
      'metrics',
      () =>
        new MetricsRegistry({
          prefix: config.prefix,
          maxLabelSets: config.maxLabelSets,
          buckets: config.buckets,
          collectTimeoutMs: config.collectTimeoutMs,
          onWarning: (message, error) =>
            app.logger.warn(error === undefined ? {} : { err: error }, message),
        }),
    );
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (config === undefined) return;
    const app = this.app;
    if (!config.enabled) {
      // Routes may still name the middleware: it passes through.
      if (app.container.bound('http'))
        app.make('http').middleware.register('metrics', () => (_ctx, next) => next());
      return;
    }
    const registry = app.make('metrics');
    // Process metrics where a process serves or is tested, not in CLI commands. prom-client
    // loads for them after boot in a server, so the first request does not wait for it.
    if (config.defaultMetrics && app.environment !== 'console') {
      const start = () =>
        registry.collectDefaultMetrics({
          eventLoopMonitoringPrecision: config.eventLoopMonitoringPrecision,
        });
      if (app.environment === 'http')
        setImmediate(() => {
          start().catch((error: unknown) =>
            app.logger.warn({ err: error }, 'metrics: the process metrics could not start'),
          );
        });
      else await start();
    }
    if (app.container.bound('http')) this.#bootHttp(registry, config);
    if (app.container.bound('db')) this.#stops.push(instrumentDatabase(registry, app.make('db')));
    if (app.container.bound('cache'))
      this.#stops.push(instrumentCache(registry, app.make('cache')));
    this.#createRecorder(registry, config);
    if (app.container.bound('queue'))
      this.#stops.push(
        instrumentQueue(registry, app.make('queue'), {
          connections: config.queueConnections,
          // `keel queue:work` runs in the console environment: its first job starts the writes.
          onFirstJob: () => this.#recorder?.start(),
        }),
      );
    // Cluster workers answer the worker that received a scrape with their own metrics.
    this.#stops.push(answerClusterGather(METRICS_GATHER_TOPIC, () => registry.json()));
    if (
      this.#recorder &&
      (app.environment === 'http' ||
        app.environment === 'worker' ||
        config.snapshotInterval !== undefined)
    )
      this.#recorder.start();
  }

  #bootHttp(registry: MetricsRegistry, config: MetricsConfig): void {
    const app = this.app;
    const kernel = app.make('http');
    const http = new HttpMetrics(registry);
    if (config.http === 'global') kernel.instrument(http.instrument() as RequestInstrument<never>);
    // Routes may name `metrics` whatever the mode: outside 'middleware' mode it passes through.
    kernel.middleware.register(
      'metrics',
      config.http === 'middleware' ? () => http.middleware() : () => (_ctx, next) => next(),
    );
    const route = kernel.router.get(
      config.path,
      metricsHandler({ registry, apiKey: config.apiKey, cluster: config.cluster }),
    );
    // Rate limited per client address once the rate-limit subsystem is there (it boots
    // before this provider, so its `throttle` alias is registered by now).
    if (config.rateLimit !== false && kernel.middleware.has('throttle'))
      route.middleware([`throttle:${config.rateLimit},60,ip`]);
    this.#stops.push(app.make('http.reporters').add(errorMetricsReporter(registry)));
  }

  /**
   * Hourly counts for `keel metrics:show`, written to `var/state/metrics/<host>-<pid>.json`
   * every `metrics.snapshotInterval` seconds (default 10) and at shutdown by serving
   * processes, and by console processes once they ran a job (`queue:work`); tests and other
   * commands write none unless the interval is set in config.
   */
  #createRecorder(registry: MetricsRegistry, config: MetricsConfig): void {
    const app = this.app;
    const seconds =
      config.snapshotInterval ?? (app.environment === 'test' ? false : DEFAULT_SNAPSHOT_SECONDS);
    if (seconds === false || seconds === 0) return;
    const cache = app.container.bound('cache') ? () => app.make('cache').stats() : undefined;
    this.#recorder = new MetricsSnapshotRecorder({
      folder: join(app.paths.state, METRICS_SNAPSHOT_FOLDER),
      read: () => readTotals(registry, cache),
      intervalMs: seconds * 1000,
      onError: (error) =>
        app.logger.warn(
          { err: error },
          'metrics snapshots could not be written to var/state/metrics (further failures are not logged)',
        ),
    });
  }

  override async shutdown(): Promise<void> {
    // Only a recorder that started writes a last time: a command that served nothing leaves no file.
    if (this.#recorder?.started) await this.#recorder.stop();
    this.#recorder = undefined;
    for (const stop of this.#stops.splice(0)) stop();
  }
}
