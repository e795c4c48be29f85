import type { ErrorEvent, ErrorReporter } from '../../http/index.js';
import { isKeelError } from '../../support/index.js';
import type { CounterChild } from './metric-series.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** The code of errors that carry none of Keel's codes. */
export const INTERNAL_ERROR_CODE = 'E_INTERNAL';

const CODE = /^E_[A-Z0-9_]{1,80}$/;
const MAX_CACHED_CODES = 1_000;

/** The `code` label of an error: its Keel code, an `E_*` code it carries, else `E_INTERNAL`. */
export function errorCode(error: unknown): string {
  if (isKeelError(error)) return error.code;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && CODE.test(code) ? code : INTERNAL_ERROR_CODE;
}

/**
 * `keel_errors_total{code}`: a reporter for `app.make('http.reporters')`, counting the
 * errors reported (by default those answered with 5xx, and uncaught ones), by code. The
 * cardinality cap of the registry bounds the codes.
 *
 * @example
 * ```ts
 * app.make('http.reporters').add(errorMetricsReporter(registry));
 * ```
 */
export function errorMetricsReporter(registry: MetricsRegistry): ErrorReporter {
  const errors = registry.counter({
    name: 'errors_total',
    help: 'Errors reported (5xx responses and uncaught errors), by error code',
    labelNames: ['code'],
  });
  const children = new Map<string, CounterChild>();
  return (event: ErrorEvent) => {
    const code = errorCode(event.error);
    let child = children.get(code);
    if (child === undefined) {
      child = errors.labels(code);
      // Past the cap every new code shares the overflow child: stop remembering codes then.
      if (children.size < MAX_CACHED_CODES) children.set(code, child);
    }
    child.inc();
  };
}
