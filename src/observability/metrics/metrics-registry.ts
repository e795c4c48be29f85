import type { Registry } from 'prom-client';
import { E_METRICS_INVALID_METRIC } from './errors.js';
import {
  Counter,
  Gauge,
  Histogram,
  type HistogramOptions,
  type MetricOptions,
  type SeriesMetric,
  type SeriesSnapshot,
  validateMetric,
} from './metric-series.js';

export interface MetricsRegistryOptions {
  /** Prepended to every name (default `keel_`). */
  prefix?: string;
  /** Distinct label sets per metric (default 1000). */
  maxLabelSets?: number;
  /** Histogram buckets when a histogram names none (seconds). */
  buckets?: readonly number[];
  /** The longest one collector may take at scrape time, ms (default 1000). */
  collectTimeoutMs?: number;
  /** Told once per metric when it reaches its label-set cap, and when a collector fails. */
  onWarning?: (message: string, error?: unknown) => void;
}

/** A scrape-time reader: sets gauges (or counters copied from elsewhere) just before rendering. */
export type MetricsCollector = () => void | Promise<void>;

/** prom-client's JSON form of one metric (`?format=json`). */
export type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

type AnyMetric = SeriesMetric<unknown>;

type PromClient = typeof import('prom-client');
let promClient: Promise<PromClient> | undefined;

/**
 * prom-client, loaded on first use: it costs tens of milliseconds to load, so a process
 * pays for it when it first renders (a scrape, a cluster answer) or starts the process
 * metrics, never at boot. A dynamic import (not a require) so that `keel build --bundle`
 * can bundle it.
 */
export function loadPromClient(): Promise<PromClient> {
  promClient ??= import('prom-client').then(
    (mod) => ((mod as { default?: PromClient }).default ?? mod) as PromClient,
  );
  return promClient;
}

/** The Prometheus text format's content type (prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The application's own metrics registry (never prom-client's global one): the framework's
 * HTTP, database, cache, queue and error metrics, the process metrics, and whatever modules
 * register through {@link MetricsRegistry.counter}, {@link MetricsRegistry.gauge} and
 * {@link MetricsRegistry.histogram}. `app.make('metrics')`.
 *
 * Subsystems without a hot path of their own (sessions, auth, ...) register here from their
 * provider's `boot()` when `app.container.bound('metrics')`.
 *
 * @example
 * ```ts
 * if (app.container.bound('metrics')) {
 *   const logins = app.make('metrics').counter({
 *     name: 'auth_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'],
 *   });
 *   const ok = logins.labels('success'); // keep the child: ok.inc() costs one addition
 * }
 * ```
 */
export class MetricsRegistry {
  readonly prefix: string;
  /** The prom-client registry everything is rendered from, made on first render. */
  #registry: Promise<Registry> | undefined;
  readonly #maxLabelSets: number;
  readonly #buckets: readonly number[];
  readonly #timeoutMs: number;
  readonly #onWarning: (message: string, error?: unknown) => void;
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #collectors = new Map<string, MetricsCollector>();
  readonly #scrapeErrors: Counter<'collector'>;

  constructor(options: MetricsRegistryOptions = {}) {
    this.prefix = options.prefix ?? 'keel_';
    this.#maxLabelSets = options.maxLabelSets ?? 1_000;
    this.#buckets = options.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.#timeoutMs = options.collectTimeoutMs ?? 1_000;
    this.#onWarning = options.onWarning ?? (() => {});
    this.#scrapeErrors = this.counter({
      name: 'metrics_scrape_errors_total',
      help: 'Scrape-time reads that failed or timed out; their metrics kept their last values',
      labelNames: ['collector'],
    });
  }

  /**
   * A counter (its name must end in `_total`); the same name and labels again return the
   * same counter.
   */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    if (!options.name?.endsWith?.('_total'))
      throw new E_METRICS_INVALID_METRIC(String(options.name), 'a counter name ends in "_total"');
    return this.#register(
      options,
      'counter',
      (name, limits) => new Counter<L>(name, options, limits),
    );
  }

  /** A gauge; the same name and labels again return the same gauge. */
  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.#register(options, 'gauge', (name, limits) => new Gauge<L>(name, options, limits));
  }

  /** A histogram (default buckets: `metrics.buckets`); the same name again returns it. */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.#register(
      options,
      'histogram',
      (name, limits) => new Histogram<L>(name, options, limits, this.#buckets),
    );
  }

  #register<M extends AnyMetric>(
    options: MetricOptions<string>,
    type: M['type'],
    create: (name: string, limits: { maxLabelSets: number; onOverflow: (m: string) => void }) => M,
  ): M {
    const labelNames = [...(options.labelNames ?? [])];
    validateMetric(options.name, labelNames, type === 'histogram' ? ['le'] : []);
    if (typeof options.help !== 'string' || options.help.trim() === '')
      throw new E_METRICS_INVALID_METRIC(options.name, 'a metric needs a help text');
    const name = `${this.prefix}${options.name}`;
    const existing = this.#metrics.get(name);
    if (existing !== undefined) {
      if (existing.type !== type || existing.labelNames.join() !== labelNames.join())
        throw new E_METRICS_INVALID_METRIC(
          name,
          `already registered as a ${existing.type} with labels [${existing.labelNames.join(', ')}]`,
        );
      return existing as M;
    }
    const metric = create(name, {
      maxLabelSets: this.#maxLabelSets,
      onOverflow: (m) =>
        this.#onWarning(
          `metric ${m} reached ${this.#maxLabelSets} label sets (metrics.maxLabelSets); further ones count as "other"`,
        ),
    });
    this.#metrics.set(name, metric);
    // Registered with prom-client when its registry is made (or now, if it exists).
    this.#registry?.then((registry) => registry.registerMetric(metric as never));
    return metric;
  }

  /** A metric registered here, by name with or without the prefix. */
  get(name: string): Counter | Gauge | Histogram | undefined {
    return (this.#metrics.get(name) ?? this.#metrics.get(`${this.prefix}${name}`)) as
      | Counter
      | Gauge
      | Histogram
      | undefined;
  }

  /**
   * Run `collect` before every scrape, to copy values kept elsewhere into gauges. It gets
   * `collectTimeoutMs`; a failure or a timeout counts in `keel_metrics_scrape_errors_total`
   * and leaves the values it set last time. Returns a function removing it.
   */
  onCollect(name: string, collect: MetricsCollector): () => void {
    this.#collectors.set(name, collect);
    return () => {
      if (this.#collectors.get(name) === collect) this.#collectors.delete(name);
    };
  }

  /** Run every collector (concurrently, each within the timeout); never rejects. */
  async collect(): Promise<void> {
    await Promise.all([...this.#collectors].map(([name, fn]) => this.#runCollector(name, fn)));
  }

  async #runCollector(name: string, collect: MetricsCollector): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`collector "${name}" took over ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
      await Promise.race([Promise.resolve().then(collect), timeout]);
    } catch (error) {
      this.#scrapeErrors.labels(name).inc();
      this.#onWarning(`metrics collector "${name}" failed`, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The prom-client registry everything is rendered from (prom-client loads on the first
   * call). prom-client renders anything with name, help, type and get(): Keel's metrics
   * keep their own numbers and join it as they are.
   */
  promRegistry(): Promise<Registry> {
    this.#registry ??= loadPromClient().then((client) => {
      const registry = new client.Registry();
      for (const metric of this.#metrics.values()) registry.registerMetric(metric as never);
      return registry;
    });
    return this.#registry;
  }

  /**
   * Start prom-client's process metrics (CPU, memory, heap, GC, event-loop lag) in this
   * registry, without those whose names break the exposition rules.
   */
  async collectDefaultMetrics(
    options: { eventLoopMonitoringPrecision?: number } = {},
  ): Promise<void> {
    const [client, registry] = await Promise.all([loadPromClient(), this.promRegistry()]);
    client.collectDefaultMetrics({
      register: registry,
      prefix: this.prefix,
      ...(options.eventLoopMonitoringPrecision === undefined
        ? {}
        : { eventLoopMonitoringPrecision: options.eventLoopMonitoringPrecision }),
    });
    // Gauges named like counters, which `promtool check metrics` rejects; the same counts
    // remain by type in nodejs_active_handles / _requests / _resources.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
      registry.removeSingleMetric(`${this.prefix}nodejs_${name}`);
  }

  /** The Prometheus text exposition (collectors run first). */
  async metrics(): Promise<string> {
    await this.collect();
    return (await this.promRegistry()).metrics();
  }

  /** Every metric in prom-client's JSON form (collectors run first). */
  async json(): Promise<MetricJson[]> {
    await this.collect();
    return (await this.promRegistry()).getMetricsAsJSON();
  }

  /** The text format's content type. */
  get contentType(): string {
    return PROMETHEUS_CONTENT_TYPE;
  }

  /** The current values of one of Keel's metrics, without running the collectors. */
  snapshot(name: string): SeriesSnapshot | undefined {
    return this.get(name)?.get();
  }
}
