import type {
  HttpContext,
  MiddlewareFn,
  RequestInstrument,
  RequestOutcome,
} from '../../http/index.js';
import type { CounterChild, HistogramChild } from './metric-series.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** The `route` label of requests no route matched (404, 405, automatic OPTIONS). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The `method` label of a method outside the standard set (any string can arrive). */
export const OTHER_METHOD = 'OTHER';

const STANDARD_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

/** The map key of unmatched requests (a route's key is its compiled route object). */
const UNMATCHED = Symbol('unmatched');

class MethodSeries {
  readonly duration: HistogramChild;
  readonly #byStatus = new Map<number, CounterChild>();
  readonly #metrics: HttpMetrics;
  readonly #method: string;
  readonly #route: string;
  constructor(metrics: HttpMetrics, method: string, route: string) {
    this.#metrics = metrics;
    this.#method = method;
    this.#route = route;
    this.duration = metrics.duration.labels(method, route);
  }
  requests(status: number): CounterChild {
    let child = this.#byStatus.get(status);
    if (child === undefined) {
      child = this.#metrics.requests.labels(this.#method, this.#route, String(status));
      this.#byStatus.set(status, child);
    }
    return child;
  }
}

class RouteSeries {
  readonly #byMethod = new Map<string, MethodSeries>();
  readonly #metrics: HttpMetrics;
  readonly #route: string;
  constructor(metrics: HttpMetrics, route: string) {
    this.#metrics = metrics;
    this.#route = route;
  }
  method(method: string): MethodSeries {
    let series = this.#byMethod.get(method);
    if (series === undefined) {
      // Only standard methods get a slot of their own: the map stays bounded whatever arrives.
      const label = STANDARD_METHODS.has(method) ? method : OTHER_METHOD;
      series = this.#byMethod.get(label);
      if (series === undefined) {
        series = new MethodSeries(this.#metrics, label, this.#route);
        this.#byMethod.set(label, series);
      }
    }
    return series;
  }
}

/**
 * The HTTP metrics: requests by method, route pattern and status, their duration, and the
 * requests in flight. Children are cached per compiled route object, then per method and
 * status, so a request costs three Map lookups and two additions: no label strings are
 * built, no labels hashed. The route label is the pattern (`/users/:id`), never the path:
 * unmatched requests share `unmatched`.
 *
 * @example
 * ```ts
 * const http = new HttpMetrics(registry);
 * app.make('http').instrument(http.instrument());
 * ```
 */
export class HttpMetrics {
  readonly requests;
  readonly duration;
  /** Requests begun and not ended; read into the gauge at scrape time. */
  inFlight = 0;
  readonly #routes = new Map<object | symbol, RouteSeries>();

  constructor(registry: MetricsRegistry) {
    this.requests = registry.counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
    });
    this.duration = registry.histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration from arrival to the end of the response, by method and route pattern',
      labelNames: ['method', 'route'],
    });
    const inFlight = registry.gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served',
    });
    registry.onCollect('http', () => inFlight.labels().set(this.inFlight));
  }

  /** Count one finished request. */
  record(ctx: HttpContext, status: number, durationMs: number): void {
    const route = ctx.route;
    const key = route ?? UNMATCHED;
    let series = this.#routes.get(key);
    if (series === undefined) {
      series = new RouteSeries(this, route ? route.record.path : UNMATCHED_ROUTE);
      this.#routes.set(key, series);
    }
    const method = series.method(ctx.method);
    method.requests(status).inc();
    method.duration.observe(durationMs / 1000);
  }

  /** The request instrument measuring every request (`metrics.http: 'global'`). */
  instrument(): RequestInstrument<undefined> {
    return {
      name: 'metrics',
      // Counting needs no execution scope: an app with metrics alone pays for none.
      scope: false,
      begin: () => {
        this.inFlight++;
        return undefined;
      },
      end: (ctx: HttpContext, _state: undefined, outcome: RequestOutcome) => {
        this.inFlight--;
        this.record(ctx, outcome.status, outcome.durationMs);
      },
    };
  }

  /**
   * The `metrics` middleware (`metrics.http: 'middleware'`): measures the routes that name
   * it, from the middleware on. A thrown error counts with its status (500 without one).
   */
  middleware(): MiddlewareFn {
    return async (ctx, next) => {
      const started = performance.now();
      this.inFlight++;
      let status = 0;
      try {
        await next();
        status = ctx.statusCode;
      } catch (error) {
        const own = (error as { status?: unknown } | null)?.status;
        status = typeof own === 'number' && own >= 400 && own <= 599 ? own : 500;
        throw error;
      } finally {
        this.inFlight--;
        this.record(ctx, status, performance.now() - started);
      }
    };
  }
}
