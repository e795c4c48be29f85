import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ContainerBindings } from '../../container/index.js';
import { sample, samples } from './__fixtures__/exposition.js';
import { resolveMetricsConfig } from './config.js';
import { errorCode, INTERNAL_ERROR_CODE } from './error-metrics.js';
import { E_METRICS_FORBIDDEN } from './errors.js';
import type { Counter } from './metric-series.js';
import './metrics-provider.js';
import { OVERFLOW_LABEL } from './metric-series.js';
import { MetricsRegistry } from './metrics-registry.js';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms with the prefix, in text and JSON', async () => {
    const registry = new MetricsRegistry({ prefix: 'keel_' });
    const imports = registry.counter({
      name: 'rows_imported_total',
      help: 'Rows imported',
      labelNames: ['source'],
    });
    imports.labels('csv').inc(3);
    imports.inc({ source: 'api' });
    registry.gauge({ name: 'sessions_active', help: 'Open sessions' }).labels().set(7);
    const render = registry.histogram({
      name: 'render_seconds',
      help: 'Rendering',
      buckets: [0.1, 1],
    });
    render.labels().observe(0.05);
    render.labels().observe(0.5);
    render.labels().observe(5);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE keel_rows_imported_total counter');
    expect(sample(text, 'keel_rows_imported_total', { source: 'csv' })).toBe(3);
    expect(sample(text, 'keel_rows_imported_total', { source: 'api' })).toBe(1);
    expect(sample(text, 'keel_sessions_active')).toBe(7);
    expect(sample(text, 'keel_render_seconds_bucket', { le: '0.1' })).toBe(1);
    expect(sample(text, 'keel_render_seconds_bucket', { le: '1' })).toBe(2);
    expect(sample(text, 'keel_render_seconds_bucket', { le: '+Inf' })).toBe(3);
    expect(sample(text, 'keel_render_seconds_count')).toBe(3);
    expect(sample(text, 'keel_render_seconds_sum')).toBeCloseTo(5.55);
    const json = await registry.json();
    expect(json.find((m) => m.name === 'keel_rows_imported_total')).toMatchObject({
      type: 'counter',
      values: expect.arrayContaining([{ value: 3, labels: { source: 'csv' } }]),
    });
  });

  it('caps distinct label sets per metric: further ones share the "other" series', async () => {
    const registry = new MetricsRegistry({ maxLabelSets: 3 });
    const hits = registry.counter({
      name: 'hits_total',
      help: 'Hits',
      labelNames: ['tenant', 'kind'],
    });
    for (let i = 0; i < 10; i++) hits.labels(`tenant-${i}`, 'a').inc();
    hits.labels('tenant-0', 'a').inc(); // a known set still has its own series
    expect(hits.size).toBe(3);
    const text = await registry.metrics();
    const series = samples(text).filter((s) => s.name === 'keel_hits_total');
    expect(series).toHaveLength(4);
    expect(sample(text, 'keel_hits_total', { tenant: 'tenant-0' })).toBe(2);
    expect(sample(text, 'keel_hits_total', { tenant: OVERFLOW_LABEL, kind: OVERFLOW_LABEL })).toBe(
      7,
    );
  });

  it('escapes hostile label values instead of breaking the exposition', async () => {
    const registry = new MetricsRegistry();
    const c = registry.counter({ name: 'odd_total', help: 'Odd labels', labelNames: ['v'] });
    c.labels('a"b\\c\nd} 1\n# x').inc();
    const text = await registry.metrics();
    expect(text).toContain('keel_odd_total{v="a\\"b\\\\c\\nd} 1\\n# x"} 1');
    expect(samples(text).filter((s) => s.name === 'keel_odd_total')).toHaveLength(1);
  });

  it('returns the same metric for the same registration and refuses bad ones', () => {
    const registry = new MetricsRegistry();
    const a = registry.counter({ name: 'logins_total', help: 'Logins', labelNames: ['outcome'] });
    expect(
      registry.counter({ name: 'logins_total', help: 'Logins', labelNames: ['outcome'] }),
    ).toBe(a);
    expect(registry.get('logins_total')).toBe(a);
    expect(registry.get('keel_logins_total')).toBe(a);
    const bad = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'no error';
    };
    expect(bad(() => registry.gauge({ name: 'logins_total', help: 'x' }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(
      bad(() => registry.counter({ name: 'logins_total', help: 'x', labelNames: ['other'] })),
    ).toBe('E_METRICS_INVALID_METRIC');
    expect(bad(() => registry.counter({ name: 'logins', help: 'x' }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(bad(() => registry.gauge({ name: 'bad-name', help: 'x' }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(bad(() => registry.gauge({ name: 'g', help: '' }))).toBe('E_METRICS_INVALID_METRIC');
    expect(bad(() => registry.gauge({ name: 'g2', help: 'x', labelNames: ['__x'] }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(bad(() => registry.gauge({ name: 'g3', help: 'x', labelNames: ['a', 'a'] }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(bad(() => registry.histogram({ name: 'h', help: 'x', labelNames: ['le'] }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(bad(() => registry.histogram({ name: 'h2', help: 'x', buckets: [1, 1] }))).toBe(
      'E_METRICS_INVALID_METRIC',
    );
    expect(bad(() => a.labels())).toBe('E_METRICS_INVALID_METRIC');
    expect(bad(() => a.labels('x', 'y'))).toBe('E_METRICS_INVALID_METRIC');
    // A counter never goes down; garbage increments are dropped, not thrown on the hot path.
    const child = a.labels('ok');
    child.inc(-5);
    child.inc(Number.NaN);
    child.inc(Number.POSITIVE_INFINITY);
    expect(child.value).toBe(0);
  });

  it('runs collectors at scrape time; a failing or hanging one counts a scrape error and keeps its last value', async () => {
    const warnings: string[] = [];
    const registry = new MetricsRegistry({
      collectTimeoutMs: 20,
      onWarning: (m) => warnings.push(m),
    });
    const backlog = registry.gauge({ name: 'backlog', help: 'Backlog' });
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    registry.onCollect('backlog', () => {
      if (mode === 'fail') throw new Error('store down');
      if (mode === 'hang') return new Promise<void>(() => {});
      backlog.labels().set(42);
    });
    expect(sample(await registry.metrics(), 'keel_backlog')).toBe(42);
    mode = 'fail';
    let text = await registry.metrics();
    expect(sample(text, 'keel_backlog')).toBe(42);
    expect(sample(text, 'keel_metrics_scrape_errors_total', { collector: 'backlog' })).toBe(1);
    mode = 'hang';
    text = await registry.metrics();
    expect(sample(text, 'keel_backlog')).toBe(42);
    expect(sample(text, 'keel_metrics_scrape_errors_total', { collector: 'backlog' })).toBe(2);
    expect(warnings.filter((w) => w.includes('"backlog" failed'))).toHaveLength(2);
  });

  it('keeps registries apart: two apps in one process never share a metric', async () => {
    const one = new MetricsRegistry();
    const two = new MetricsRegistry();
    one.counter({ name: 'x_total', help: 'x' }).labels().inc();
    expect(sample(await one.metrics(), 'keel_x_total')).toBe(1);
    expect(sample(await two.metrics(), 'keel_x_total')).toBeUndefined();
  });
});

describe('resolveMetricsConfig', () => {
  it('applies defaults and takes the API key from METRICS_API_KEY', () => {
    const config = resolveMetricsConfig(undefined, (name) =>
      name === 'METRICS_API_KEY' ? 's3cret' : undefined,
    );
    expect(config).toMatchObject({
      enabled: true,
      path: '/_metrics',
      prefix: 'keel_',
      apiKey: 's3cret',
      maxLabelSets: 1000,
      http: 'global',
    });
    expect(resolveMetricsConfig({ apiKey: 'mine' }, () => 'env').apiKey).toBe('mine');
  });

  it.each([
    [{ path: 'metrics' }, 'path'],
    [{ path: '/a b' }, 'path'],
    [{ prefix: 'keel-' }, 'prefix'],
    [{ buckets: [1, 0.5] }, 'buckets'],
    [{ buckets: [] }, 'buckets'],
    [{ maxLabelSets: 0 }, 'maxLabelSets'],
    [{ http: 'sometimes' }, 'http'],
    [{ enabled: 'yes' }, 'enabled'],
    [{ surprise: true }, '(root)'],
    ['metrics', '(root)'],
  ])('refuses %j with E_METRICS_CONFIG_INVALID naming %s', (raw, key) => {
    expect(() => resolveMetricsConfig(raw)).toThrow(
      expect.objectContaining({
        code: 'E_METRICS_CONFIG_INVALID',
        details: expect.objectContaining({ key }),
      }),
    );
  });
});

describe('error codes and types', () => {
  it('labels errors by Keel code, an E_ code they carry, or E_INTERNAL', () => {
    expect(errorCode(new E_METRICS_FORBIDDEN('/_metrics'))).toBe('E_METRICS_FORBIDDEN');
    expect(errorCode(Object.assign(new Error('x'), { code: 'E_CUSTOM_THING' }))).toBe(
      'E_CUSTOM_THING',
    );
    expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(
      INTERNAL_ERROR_CODE,
    );
    expect(errorCode(Object.assign(new Error('x'), { code: `E_${'A'.repeat(500)}` }))).toBe(
      INTERNAL_ERROR_CODE,
    );
    expect(errorCode('a string')).toBe(INTERNAL_ERROR_CODE);
    expect(errorCode(null)).toBe(INTERNAL_ERROR_CODE);
  });

  it('types the container binding and label names', () => {
    expectTypeOf<ContainerBindings['metrics']>().toEqualTypeOf<MetricsRegistry>();
    const registry = new MetricsRegistry();
    const logins = registry.counter({ name: 'typed_total', help: 'x', labelNames: ['outcome'] });
    expectTypeOf(logins).toEqualTypeOf<Counter<'outcome'>>();
    expectTypeOf(logins.inc)
      .parameter(0)
      .toEqualTypeOf<Partial<Record<'outcome', string>> | undefined>();
  });
});
