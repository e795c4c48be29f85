import { createHash, timingSafeEqual } from 'node:crypto';
import { clusterGather, type HttpContext } from '../../http/index.js';
import { isLoopbackIp } from '../../security/ip/index.js';
import { E_METRICS_FORBIDDEN, E_METRICS_UNKNOWN_FORMAT } from './errors.js';
import { loadPromClient, type MetricJson, type MetricsRegistry } from './metrics-registry.js';

/** The gather topic cluster workers answer with their own metrics. */
export const METRICS_GATHER_TOPIC = 'keel:metrics';

export interface MetricsEndpointOptions {
  registry: MetricsRegistry;
  /** The bearer key that lets a non-loopback client in; none: loopback only. */
  apiKey?: string | undefined;
  /** Sum the metrics of every cluster worker, gathered within `timeoutMs`. */
  cluster?: { aggregate: boolean; timeoutMs: number };
}

/** Whether `ip` is this host: 127.0.0.0/8, ::1, or either mapped into IPv6. */
export function isLoopback(ip: string): boolean {
  return isLoopbackIp(ip);
}

// Digests first: timingSafeEqual needs equal lengths, and comparing digests leaks neither
// the key's length nor where a guess went wrong.
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Whether the request's `Authorization: Bearer <key>` holds `key` (timing-safe). */
export function hasMetricsKey(header: string | undefined, key: string | undefined): boolean {
  if (key === undefined || key === '' || typeof header !== 'string') return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return false;
  return timingSafeEqual(digest(match[1] as string), digest(key));
}

/**
 * The `GET /_metrics` handler: Prometheus text (or prom-client's JSON with `?format=json`),
 * for loopback clients (`ctx.ip`, so behind a trusted proxy the forwarded client counts) or
 * holders of the metrics API key; anyone else gets a 403 `E_METRICS_FORBIDDEN`. In a
 * `keel serve --workers N` worker, the answer is the sum over every worker.
 *
 * @example
 * ```ts
 * kernel.router.get('/_metrics', metricsHandler({ registry, apiKey: process.env.METRICS_API_KEY }));
 * ```
 */
export function metricsHandler(
  options: MetricsEndpointOptions,
): (ctx: HttpContext) => Promise<void> {
  const { registry, apiKey } = options;
  const cluster = options.cluster ?? { aggregate: true, timeoutMs: 2_000 };
  return async (ctx) => {
    if (!isLoopback(ctx.ip) && !hasMetricsKey(ctx.header('authorization'), apiKey))
      throw new E_METRICS_FORBIDDEN(ctx.path);
    const format = metricsFormat(ctx.query.format);
    ctx.setHeader('cache-control', 'no-store');
    const gathered = cluster.aggregate
      ? await clusterGather(METRICS_GATHER_TOPIC, cluster.timeoutMs)
      : undefined;
    const answers = gathered?.answers.filter(Array.isArray) as MetricJson[][] | undefined;
    if (gathered !== undefined && answers !== undefined && answers.length > 0) {
      ctx.setHeader('x-metrics-workers', String(answers.length));
      if (gathered.missing > 0)
        ctx.setHeader('x-metrics-workers-missing', String(gathered.missing));
      const merged = (await loadPromClient()).AggregatorRegistry.aggregate(answers as never);
      if (format === 'json') ctx.json(await merged.getMetricsAsJSON());
      else ctx.send(await merged.metrics(), registry.contentType);
      return;
    }
    if (format === 'json') ctx.json(await registry.json());
    else ctx.send(await registry.metrics(), registry.contentType);
  };
}

function metricsFormat(value: unknown): 'text' | 'json' {
  if (value === undefined || value === 'text' || value === 'prometheus') return 'text';
  if (value === 'json') return 'json';
  throw new E_METRICS_UNKNOWN_FORMAT(Array.isArray(value) ? value.join(',') : String(value));
}
