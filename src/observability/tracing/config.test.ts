import { describe, expect, it } from 'vitest';
import { resolveTracingConfig } from './config.js';

const env =
  (vars: Record<string, string> = {}) =>
  (name: string): string | undefined =>
    vars[name];

function failure(run: () => unknown): { code: string; message: string; path: unknown } {
  try {
    run();
  } catch (error) {
    const e = error as { code: string; message: string; details?: { path?: unknown } };
    return { code: e.code, message: e.message, path: e.details?.path };
  }
  throw new Error('expected the config to be refused');
}

describe('resolveTracingConfig', () => {
  it('is off by default, with the OTLP defaults of the spec', () => {
    const config = resolveTracingConfig(undefined, env());
    expect(config).toMatchObject({
      enabled: false,
      driver: 'otel',
      sampleRatio: 1,
      http: 'global',
      requireParent: true,
      cacheKeys: false,
      otlp: { url: 'http://localhost:4318/v1/traces', headers: {}, timeoutMs: 10_000 },
    });
  });

  it('reads TRACING_* and OTEL_* variables for keys the file leaves out', () => {
    const config = resolveTracingConfig(
      {},
      env({
        TRACING_ENABLED: 'true',
        TRACING_DRIVER: 'Console',
        TRACING_SAMPLE_RATIO: '0.25',
        OTEL_SERVICE_NAME: 'billing',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%3D%3D, X-Team=ops',
      }),
    );
    expect(config).toMatchObject({
      enabled: true,
      driver: 'console',
      sampleRatio: 0.25,
      serviceName: 'billing',
      otlp: {
        url: 'https://otlp.example.com:4318/v1/traces',
        headers: { 'api-key': 'abc==', 'x-team': 'ops' },
      },
    });
  });

  it('the file wins over the environment; the traces endpoint variable is used as it is', () => {
    const config = resolveTracingConfig(
      { enabled: false, driver: 'memory', otlp: { headers: { authorization: 'Bearer t' } } },
      env({
        TRACING_ENABLED: 'true',
        TRACING_DRIVER: 'otel',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom/path',
        OTEL_EXPORTER_OTLP_HEADERS: 'ignored=1',
      }),
    );
    expect(config.enabled).toBe(false);
    expect(config.driver).toBe('memory');
    expect(config.otlp.url).toBe('http://collector:4318/custom/path');
    expect(config.otlp.headers).toEqual({ authorization: 'Bearer t' });
    expect(
      resolveTracingConfig({ otlp: { endpoint: 'http://a:1/v1/traces' } }, env()).otlp.url,
    ).toBe('http://a:1/v1/traces');
  });

  it('driver noop means off, even when enabled', () => {
    const config = resolveTracingConfig({ enabled: true, driver: 'noop' }, env());
    expect(config.enabled).toBe(false);
  });

  it.each([
    [{ enabled: 'yes please' }, {}, 'enabled'],
    [{ driver: 'zipkin' }, {}, 'driver'],
    [{ sampleRatio: 1.5 }, {}, 'sampleRatio'],
    [{ sampleRatio: -0.1 }, {}, 'sampleRatio'],
    [{ http: 'sometimes' }, {}, 'http'],
    [{ otlp: { endpoint: 'ftp://collector' } }, {}, 'otlp.endpoint'],
    [{ otlp: { endpoint: 'not a url' } }, {}, 'otlp.endpoint'],
    [{ otlp: { timeoutMs: 0 } }, {}, 'otlp.timeoutMs'],
    [{ batch: { maxQueueSize: 10, maxExportBatchSize: 100 } }, {}, 'batch'],
    [{ resource: { nested: { no: 1 } } }, {}, 'resource.nested'],
    [{ __proto__: { enabled: true }, surprise: 1 }, {}, '(root)'],
    [{}, { TRACING_ENABLED: 'maybe' }, 'enabled (TRACING_ENABLED)'],
    [{}, { TRACING_DRIVER: 'jaeger' }, 'driver (TRACING_DRIVER)'],
    [{}, { TRACING_SAMPLE_RATIO: 'half' }, 'sampleRatio (TRACING_SAMPLE_RATIO)'],
    [{}, { TRACING_SAMPLE_RATIO: '2' }, 'sampleRatio (TRACING_SAMPLE_RATIO)'],
    [
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' },
      'otlp.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)',
    ],
    [
      {},
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '::' },
      'otlp.endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)',
    ],
    [
      {},
      { OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' },
      'otlp.headers (OTEL_EXPORTER_OTLP_HEADERS)',
    ],
    [{}, { OTEL_EXPORTER_OTLP_HEADERS: 'bad name=1' }, 'otlp.headers (OTEL_EXPORTER_OTLP_HEADERS)'],
    [{}, { OTEL_EXPORTER_OTLP_HEADERS: 'k=%E0%A4%A' }, 'otlp.headers (OTEL_EXPORTER_OTLP_HEADERS)'],
  ])('refuses %j with env %j, naming %s', (file, vars, path) => {
    const error = failure(() => resolveTracingConfig(file, env(vars)));
    expect(error.code).toBe('E_TRACING_CONFIG_INVALID');
    // (root) for an unknown key: the schema is strict, and names the key in the reason.
    if (path === '(root)') expect(error.message).toContain('surprise');
    expect(error.path).toBe(path);
  });

  it.each([['a string'], [42], [['enabled']]])(
    'refuses a config that is not an object: %j',
    (raw) => {
      const error = failure(() => resolveTracingConfig(raw, env()));
      expect(error.code).toBe('E_TRACING_CONFIG_INVALID');
      expect(error.path).toBe('(root)');
    },
  );
});
