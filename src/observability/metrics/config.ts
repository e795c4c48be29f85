import { z } from 'zod';
import { E_METRICS_CONFIG_INVALID } from './errors.js';

/** Request duration buckets (seconds) when `metrics.buckets` is not set. */
export const DEFAULT_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

const increasing = (values: readonly number[]): boolean =>
  values.every((v, i) => i === 0 || v > (values[i - 1] as number));

const buckets = z
  .array(z.number().positive().finite())
  .min(1)
  .max(50)
  .refine(increasing, 'buckets must be strictly increasing');

/** Seconds, or `false` for off. */
const interval = z.union([z.literal(false), z.number().min(0).max(86_400)]);

const metricsConfigSchema = z
  .object({
    /** Collect and serve metrics at all. */
    enabled: z.boolean().default(true),
    /** Where the scrape endpoint answers. */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_.-]*$/, 'must be an absolute path of [A-Za-z0-9/_.-]')
      .max(200)
      .default('/_metrics'),
    /** The bearer key that lets non-loopback clients scrape (default env METRICS_API_KEY). */
    apiKey: z.string().min(1).max(1024).optional(),
    /** Prepended to every metric name. */
    prefix: z
      .string()
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must match [a-zA-Z_][a-zA-Z0-9_]*')
      .max(50)
      .default('keel_'),
    /** Histogram buckets (seconds) of request, query and job durations. */
    buckets: buckets.default([...DEFAULT_DURATION_BUCKETS]),
    /** Distinct label sets per metric; further ones count in one `other` series. */
    maxLabelSets: z.number().int().min(1).max(100_000).default(1_000),
    /** `'global'`: every request; `'middleware'`: routes naming the `metrics` middleware; `false`: none. */
    http: z.union([z.enum(['global', 'middleware']), z.literal(false)]).default('global'),
    /** Process, heap, GC and event-loop lag metrics (prom-client's default metrics). */
    defaultMetrics: z.boolean().default(true),
    /** Event-loop lag sampling resolution, ms. */
    eventLoopMonitoringPrecision: z.number().int().min(1).max(1_000).default(10),
    /** The longest a scrape-time read (queue backlog, pool usage) may take, ms. */
    collectTimeoutMs: z.number().int().min(1).max(60_000).default(1_000),
    /** Cluster workers: a scrape returns the sum over every worker, gathered within this time. */
    cluster: z
      .object({
        aggregate: z.boolean().default(true),
        timeoutMs: z.number().int().min(1).max(60_000).default(2_000),
      })
      .strict()
      .default({ aggregate: true, timeoutMs: 2_000 }),
    /** Seconds between two `var/state/metrics` snapshots for `keel metrics:show`; default 10 (off in tests). */
    snapshotInterval: interval.optional(),
    /** Queue connections whose backlog is read at scrape time (default: the default one). */
    queueConnections: z.array(z.string().min(1)).optional(),
    /**
     * Scrapes allowed per minute and client address when the rate-limit subsystem is
     * registered (the `throttle` middleware, counted in its shared store); `false` for none.
     * Default 120: a scrape every 15 s from each of a few Prometheus replicas fits easily.
     */
    rateLimit: z.union([z.number().int().min(1).max(100_000), z.literal(false)]).default(120),
  })
  .strict();

export type MetricsConfig = z.output<typeof metricsConfigSchema>;

/** What `config/metrics.ts` may hold (every key optional). */
export type MetricsConfigInput = z.input<typeof metricsConfigSchema>;

/**
 * Validate the `metrics` config namespace and apply defaults; `apiKey` falls back to the
 * `METRICS_API_KEY` variable. A broken config fails the boot with `E_METRICS_CONFIG_INVALID`.
 *
 * @example
 * ```ts
 * const config = resolveMetricsConfig({ maxLabelSets: 200 }, (name) => process.env[name]);
 * ```
 */
export function resolveMetricsConfig(
  raw: unknown,
  env: (name: string) => string | undefined = () => undefined,
): MetricsConfig {
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw)))
    throw new E_METRICS_CONFIG_INVALID('(root)', 'must be an object');
  const input = { ...(raw as Record<string, unknown> | undefined) };
  if (input.apiKey === undefined) {
    const key = env('METRICS_API_KEY');
    if (key !== undefined && key !== '') input.apiKey = key;
  }
  const parsed = metricsConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new E_METRICS_CONFIG_INVALID(
      issue?.path.join('.') || '(root)',
      issue?.message ?? 'invalid',
    );
  }
  return parsed.data;
}
