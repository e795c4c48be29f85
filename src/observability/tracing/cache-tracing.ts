import { context, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import type { CacheCall, CacheObserver } from '../../cache/index.js';
import { recordFailure, traces } from './spans.js';

/** Cache span attributes (no semantic convention covers caches yet: Keel's own names). */
export const ATTR_CACHE_POOL = 'cache.pool';
export const ATTR_CACHE_OPERATION = 'cache.operation';
export const ATTR_CACHE_DRIVER = 'cache.driver';
export const ATTR_CACHE_HIT = 'cache.hit';
export const ATTR_CACHE_KEY = 'cache.key';

export interface CacheTracingOptions {
  tracer: Tracer;
  /** Only trace calls made inside a span (a request, a job). */
  requireParent: boolean;
  /** Record the key (`cache.key`); keys may hold personal data, so off by default. */
  keys: boolean;
}

/**
 * A cache observer making one span per cache call (`cache get`, `cache remember`, ...),
 * active while the call runs: a `remember` factory's queries, and a database store's
 * own statements, nest under it. Reads carry `cache.hit`.
 */
export function cacheTracingObserver(options: CacheTracingOptions): CacheObserver {
  const { tracer } = options;
  return {
    observe<T>(call: CacheCall, run: () => Promise<T>): Promise<T> {
      const parent = context.active();
      if (!traces(parent, options.requireParent)) return run();
      const span = tracer.startSpan(
        `cache ${call.operation}`,
        {
          // A store outside the process is a remote call; the memory store is not.
          kind: call.driver === 'memory' ? SpanKind.INTERNAL : SpanKind.CLIENT,
          attributes: {
            [ATTR_CACHE_POOL]: call.pool,
            [ATTR_CACHE_OPERATION]: call.operation,
            [ATTR_CACHE_DRIVER]: call.driver,
            ...(options.keys && call.key !== undefined ? { [ATTR_CACHE_KEY]: call.key } : {}),
          },
        },
        parent,
      );
      let running: Promise<T>;
      try {
        running = context.with(trace.setSpan(parent, span), run);
      } catch (error) {
        failed(span, error);
        throw error;
      }
      return running.then(
        (value) => {
          if (call.hit !== undefined) span.setAttribute(ATTR_CACHE_HIT, call.hit);
          span.end();
          return value;
        },
        (error: unknown) => {
          failed(span, error);
          throw error;
        },
      );
    },
  };
}

function failed(span: Span, error: unknown): void {
  recordFailure(span, error);
  span.end();
}
