import { z } from 'zod';
import { E_TRACING_CONFIG_INVALID } from './errors.js';

/** Where spans go: nowhere (`noop`), an OTLP/HTTP collector, stdout, or memory (tests). */
export type TracingDriver = 'noop' | 'otel' | 'console' | 'memory';

const DRIVERS = ['noop', 'otel', 'console', 'memory'] as const;

export const tracingConfigSchema = z
  .object({
    /** Trace at all (env TRACING_ENABLED; default false). */
    enabled: z.boolean().optional(),
    /** Where spans go (env TRACING_DRIVER; default `otel`). `noop` turns tracing off. */
    driver: z.enum(DRIVERS).optional(),
    /** `service.name` of every span (default OTEL_SERVICE_NAME, else the app's name). */
    serviceName: z.string().min(1).max(200).optional(),
    /** `service.version` (default the app's version). */
    serviceVersion: z.string().min(1).max(200).optional(),
    /**
     * Share of new traces kept, 0 to 1 (env TRACING_SAMPLE_RATIO; default 1). Parent-based:
     * a request carrying a `traceparent` follows the caller's decision.
     */
    sampleRatio: z.number().min(0).max(1).optional(),
    /**
     * `global`: a span for every request. `middleware`: only routes using the `tracing`
     * middleware alias get one.
     */
    http: z.enum(['global', 'middleware']).default('global'),
    /** Spans for SQL statements, cache calls and jobs (each on by default). */
    queries: z.boolean().default(true),
    cache: z.boolean().default(true),
    jobs: z.boolean().default(true),
    /**
     * Query and cache spans only inside a trace (a request or a job): migrations, boot-time
     * queries and warmers make no root spans of their own. Default true.
     */
    requireParent: z.boolean().default(true),
    /** Record cache keys as `cache.key` (off by default: keys may hold e-mails or ids). */
    cacheKeys: z.boolean().default(false),
    otlp: z
      .object({
        /**
         * The collector's base URL (`/v1/traces` is appended) or the full traces URL (env
         * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT; default
         * http://localhost:4318).
         */
        endpoint: z.url({ protocol: /^https?$/ }).optional(),
        /** Sent with every export (API keys); env OTEL_EXPORTER_OTLP_HEADERS `k=v,k2=v2`. */
        headers: z.record(z.string().min(1), z.string()).optional(),
        /** Give up one export after this long (ms). */
        timeoutMs: z.number().int().positive().max(120_000).default(10_000),
      })
      .strict()
      .default({ timeoutMs: 10_000 }),
    /** The batch span processor of the `otel` driver. */
    batch: z
      .object({
        maxQueueSize: z.number().int().positive().default(2048),
        maxExportBatchSize: z.number().int().positive().default(512),
        scheduledDelayMs: z.number().int().positive().default(5000),
      })
      .strict()
      .refine((b) => b.maxExportBatchSize <= b.maxQueueSize, {
        message: 'maxExportBatchSize must not exceed maxQueueSize',
      })
      .default({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 5000 }),
    /** Extra resource attributes (`deployment.environment.name`, `service.namespace`, ...). */
    resource: z
      .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]))
      .default({}),
  })
  .strict();

export type TracingConfigInput = z.input<typeof tracingConfigSchema>;

/** The tracing config, validated, with the environment's defaults applied. */
export interface TracingConfig {
  /** On when `enabled` and the driver is not `noop`. */
  readonly enabled: boolean;
  readonly driver: TracingDriver;
  readonly serviceName: string | undefined;
  readonly serviceVersion: string | undefined;
  readonly sampleRatio: number;
  readonly http: 'global' | 'middleware';
  readonly queries: boolean;
  readonly cache: boolean;
  readonly jobs: boolean;
  readonly requireParent: boolean;
  readonly cacheKeys: boolean;
  readonly otlp: {
    /** The full traces URL (`.../v1/traces`). */
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
  };
  readonly batch: {
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
    readonly scheduledDelayMs: number;
  };
  readonly resource: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Type a `config/tracing.ts`.
 *
 * @example
 * ```ts
 * export default defineTracingConfig({ enabled: true, driver: 'otel', sampleRatio: 0.1 });
 * ```
 */
export function defineTracingConfig(config: TracingConfigInput): TracingConfigInput {
  return config;
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';

/**
 * Validate the `tracing` config; keys the file leaves out come from the environment
 * (TRACING_ENABLED, TRACING_DRIVER, TRACING_SAMPLE_RATIO, OTEL_SERVICE_NAME and the standard
 * OTEL_EXPORTER_OTLP_* variables). A bad value throws E_TRACING_CONFIG_INVALID naming the
 * key (and the variable it came from).
 */
export function resolveTracingConfig(
  raw: unknown,
  env: (name: string) => string | undefined,
): TracingConfig {
  const file = raw ?? {};
  if (typeof file !== 'object' || Array.isArray(file))
    throw new E_TRACING_CONFIG_INVALID('(root)', `expected an object, got ${typeof file}`);
  const given = file as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...given };
  const fromEnv = new Map<string, string>();
  const take = (key: string, variable: string, parse: (value: string) => unknown) => {
    if (given[key] !== undefined) return;
    const value = env(variable);
    if (value === undefined || value === '') return;
    merged[key] = parse(value);
    fromEnv.set(key, variable);
  };
  take('enabled', 'TRACING_ENABLED', parseBoolean);
  take('driver', 'TRACING_DRIVER', (v) => v.trim().toLowerCase());
  take('sampleRatio', 'TRACING_SAMPLE_RATIO', parseNumber);
  const parsed = tracingConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    const variable = fromEnv.get(String(issue.path[0]));
    throw new E_TRACING_CONFIG_INVALID(variable ? `${path} (${variable})` : path, issue.message);
  }
  const config = parsed.data;
  const driver = config.driver ?? 'otel';
  return {
    enabled: (config.enabled ?? false) && driver !== 'noop',
    driver,
    serviceName: config.serviceName ?? nonEmpty(env('OTEL_SERVICE_NAME')),
    serviceVersion: config.serviceVersion,
    sampleRatio: config.sampleRatio ?? 1,
    http: config.http,
    queries: config.queries,
    cache: config.cache,
    jobs: config.jobs,
    requireParent: config.requireParent,
    cacheKeys: config.cacheKeys,
    otlp: {
      url: tracesUrl(config.otlp.endpoint, env),
      headers: config.otlp.headers ?? otlpHeaders(env),
      timeoutMs: config.otlp.timeoutMs,
    },
    batch: config.batch,
    resource: config.resource,
  };
}

/** The traces URL: the config's endpoint, else the OTel variables, per the OTLP exporter spec. */
function tracesUrl(endpoint: string | undefined, env: (name: string) => string | undefined) {
  if (endpoint !== undefined) return withTracesPath(endpoint);
  const signal = nonEmpty(env('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'));
  // The signal-specific variable is the full URL, used as it is (the spec says so).
  if (signal !== undefined)
    return checkedUrl(signal, 'otlp.endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)');
  const base = nonEmpty(env('OTEL_EXPORTER_OTLP_ENDPOINT'));
  if (base === undefined) return `${DEFAULT_ENDPOINT}/v1/traces`;
  return withTracesPath(checkedUrl(base, 'otlp.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)'));
}

function withTracesPath(base: string): string {
  if (/\/v1\/traces\/?$/.test(base)) return base;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function checkedUrl(value: string, key: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new E_TRACING_CONFIG_INVALID(key, `"${value.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new E_TRACING_CONFIG_INVALID(key, `"${url.protocol}" is not http: or https:`);
  return value;
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs, comma-separated, values URL-encoded. */
function otlpHeaders(env: (name: string) => string | undefined): Record<string, string> {
  const variable = env('OTEL_EXPORTER_OTLP_TRACES_HEADERS')
    ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'
    : 'OTEL_EXPORTER_OTLP_HEADERS';
  const raw = nonEmpty(env(variable));
  const headers: Record<string, string> = Object.create(null);
  if (raw === undefined) return headers;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? '' : pair.slice(0, eq).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new E_TRACING_CONFIG_INVALID(
        `otlp.headers (${variable})`,
        `"${pair.slice(0, 100)}" is not a name=value pair`,
      );
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new E_TRACING_CONFIG_INVALID(
        `otlp.headers (${variable})`,
        `the value of "${name}" is not URL-encoded`,
      );
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

function parseBoolean(value: string): unknown {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  return value; // Left as a string: the schema then names the key in its error.
}

function parseNumber(value: string): unknown {
  const n = Number(value.trim());
  return value.trim() === '' || Number.isNaN(n) ? value : n;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
