import { E_METRICS_INVALID_METRIC } from './errors.js';

/** The label value every label of a metric's overflow series carries. */
export const OVERFLOW_LABEL = 'other';

/** How cluster aggregation merges one metric's values from several workers (prom-client's). */
export type Aggregator = 'sum' | 'max' | 'min' | 'average' | 'first' | 'omit';

/** One exported value, in prom-client's JSON shape (what `?format=json` lists). */
export interface SeriesValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What a metric renders at scrape time, in prom-client's shape. */
export interface SeriesSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: SeriesValue[];
  aggregator: Aggregator;
}

export interface MetricOptions<L extends string = string> {
  /** Without the registry's prefix: `jobs_imported_total` becomes `keel_jobs_imported_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** How `keel serve --workers N` merges the workers' values; default `sum`. */
  aggregator?: Aggregator;
}

export interface HistogramOptions<L extends string = string> extends MetricOptions<L> {
  /** Upper bounds, strictly increasing; default: `metrics.buckets`. */
  buckets?: readonly number[];
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Check a metric's name and labels; throws E_METRICS_INVALID_METRIC. */
export function validateMetric(
  name: string,
  labelNames: readonly string[],
  reserved: string[] = [],
): void {
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 200)
    throw new E_METRICS_INVALID_METRIC(String(name), 'the name must match [a-zA-Z_][a-zA-Z0-9_]*');
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (typeof label !== 'string' || !LABEL.test(label) || label.startsWith('__'))
      throw new E_METRICS_INVALID_METRIC(
        name,
        `the label "${String(label)}" is not a valid label name`,
      );
    if (reserved.includes(label))
      throw new E_METRICS_INVALID_METRIC(name, `the label "${label}" is reserved`);
    if (seen.has(label))
      throw new E_METRICS_INVALID_METRIC(name, `the label "${label}" is listed twice`);
    seen.add(label);
  }
}

interface Series<C> {
  labels: Record<string, string>;
  child: C;
}

/**
 * The base of Keel's metrics: series kept as plain objects, each a child with its own
 * numbers, rendered into prom-client's shape only at scrape time. Incrementing a child costs
 * one addition; prom-client's own `labels(...).inc()` hashes the labels on every call, which
 * the request path cannot afford. Distinct label sets are capped: past `maxLabelSets`, new
 * ones share one series whose every label is `other`.
 */
export abstract class SeriesMetric<C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator: Aggregator;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly #series = new Map<string, Series<C>>();
  readonly #maxLabelSets: number;
  readonly #onOverflow: ((metric: string) => void) | undefined;
  #overflow: Series<C> | undefined;

  constructor(
    fullName: string,
    options: MetricOptions,
    limits: { maxLabelSets: number; onOverflow?: (metric: string) => void },
  ) {
    this.name = fullName;
    this.help = options.help;
    this.labelNames = [...(options.labelNames ?? [])];
    this.aggregator = options.aggregator ?? 'sum';
    this.#maxLabelSets = limits.maxLabelSets;
    this.#onOverflow = limits.onOverflow;
  }

  protected abstract createChild(): C;
  protected abstract render(series: Iterable<Series<C>>): SeriesValue[];

  /**
   * The child of one label set, values in `labelNames` order. Keep the child where it is
   * used often: the lookup joins the values into a key.
   */
  labels(...values: string[]): C {
    const names = this.labelNames;
    if (values.length !== names.length)
      throw new E_METRICS_INVALID_METRIC(
        this.name,
        `expected ${names.length} label value(s) (${names.join(', ')}), got ${values.length}`,
      );
    const key = names.length === 1 ? String(values[0]) : values.join('\u0001');
    const found = this.#series.get(key);
    if (found !== undefined) return found.child;
    if (this.#series.size >= this.#maxLabelSets) return this.#overflowChild();
    const labels: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) labels[names[i] as string] = String(values[i]);
    const series = { labels, child: this.createChild() };
    this.#series.set(key, series);
    return series.child;
  }

  /** Distinct label sets in use, the overflow series not counted. */
  get size(): number {
    return this.#series.size;
  }

  #overflowChild(): C {
    if (this.#overflow === undefined) {
      const labels: Record<string, string> = {};
      for (const name of this.labelNames) labels[name] = OVERFLOW_LABEL;
      this.#overflow = { labels, child: this.createChild() };
      this.#onOverflow?.(this.name);
    }
    return this.#overflow.child;
  }

  /** Forget every series (tests; a gauge rebuilt from scratch at each collect). */
  reset(): void {
    this.#series.clear();
    this.#overflow = undefined;
  }

  /** What prom-client's registry calls to render the metric. */
  get(): SeriesSnapshot {
    const all = this.#overflow ? [...this.#series.values(), this.#overflow] : this.#series.values();
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.render(all),
      aggregator: this.aggregator,
    };
  }
}

export class CounterChild {
  value = 0;
  /** Add `n` (default 1); a negative or non-finite `n` is ignored, as a counter never goes down. */
  inc(n = 1): void {
    if (n >= 0 && n !== Number.POSITIVE_INFINITY) this.value += n;
  }
}

/**
 * A monotonic counter.
 *
 * @example
 * ```ts
 * const imported = metrics.counter({ name: 'rows_imported_total', help: 'Rows imported', labelNames: ['source'] });
 * imported.labels('csv').inc(120);
 * ```
 */
export class Counter<L extends string = string> extends SeriesMetric<CounterChild> {
  readonly type = 'counter' as const;
  declare readonly labelNames: readonly L[];
  protected createChild(): CounterChild {
    return new CounterChild();
  }
  /** Increment the series of `labels` (an object keyed by label name). */
  inc(labels?: Partial<Record<L, string>>, n = 1): void {
    this.labels(...this.labelNames.map((name) => labels?.[name] ?? '')).inc(n);
  }
  protected render(series: Iterable<Series<CounterChild>>): SeriesValue[] {
    const out: SeriesValue[] = [];
    for (const s of series) out.push({ value: s.child.value, labels: s.labels });
    return out;
  }
}

export class GaugeChild {
  value = 0;
  set(n: number): void {
    this.value = n;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/**
 * A value that goes up and down; set it as things happen, or from a collector at scrape time.
 *
 * @example
 * ```ts
 * const sessions = metrics.gauge({ name: 'sessions_active', help: 'Open sessions', aggregator: 'sum' });
 * metrics.onCollect('sessions', async () => sessions.labels().set(await store.count()));
 * ```
 */
export class Gauge<L extends string = string> extends SeriesMetric<GaugeChild> {
  readonly type = 'gauge' as const;
  declare readonly labelNames: readonly L[];
  protected createChild(): GaugeChild {
    return new GaugeChild();
  }
  /** Set the series of `labels` (an object keyed by label name). */
  set(labels: Partial<Record<L, string>> | undefined, n: number): void {
    this.labels(...this.labelNames.map((name) => labels?.[name] ?? '')).set(n);
  }
  protected render(series: Iterable<Series<GaugeChild>>): SeriesValue[] {
    const out: SeriesValue[] = [];
    for (const s of series) out.push({ value: s.child.value, labels: s.labels });
    return out;
  }
}

export class HistogramChild {
  /** Per-bucket counts (not cumulative); the last slot is past the last bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    if (!(value >= 0) || value === Number.POSITIVE_INFINITY) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram of durations or sizes: `_bucket{le}`, `_sum` and `_count` series.
 *
 * @example
 * ```ts
 * const render = metrics.histogram({ name: 'pdf_render_seconds', help: 'PDF rendering', buckets: [0.1, 1, 10] });
 * render.labels().observe(seconds);
 * ```
 */
export class Histogram<L extends string = string> extends SeriesMetric<HistogramChild> {
  readonly type = 'histogram' as const;
  declare readonly labelNames: readonly L[];
  readonly buckets: readonly number[];
  constructor(
    fullName: string,
    options: HistogramOptions,
    limits: { maxLabelSets: number; onOverflow?: (metric: string) => void },
    defaultBuckets: readonly number[],
  ) {
    super(fullName, options, limits);
    const buckets = [...(options.buckets ?? defaultBuckets)];
    if (
      buckets.length === 0 ||
      !buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > (buckets[i - 1] as number)))
    )
      throw new E_METRICS_INVALID_METRIC(
        fullName,
        'buckets must be finite and strictly increasing',
      );
    this.buckets = buckets;
  }
  protected createChild(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  /** Observe `value` in the series of `labels` (an object keyed by label name). */
  observe(labels: Partial<Record<L, string>> | undefined, value: number): void {
    this.labels(...this.labelNames.map((name) => labels?.[name] ?? '')).observe(value);
  }
  protected render(series: Iterable<Series<HistogramChild>>): SeriesValue[] {
    const out: SeriesValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of series) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += s.child.counts[i] as number;
        out.push({
          value: cumulative,
          labels: { ...s.labels, le: this.buckets[i] as number },
          metricName: bucket,
        });
      }
      out.push({ value: s.child.count, labels: { ...s.labels, le: '+Inf' }, metricName: bucket });
      out.push({ value: s.child.sum, labels: s.labels, metricName: `${this.name}_sum` });
      out.push({ value: s.child.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return out;
  }
}
