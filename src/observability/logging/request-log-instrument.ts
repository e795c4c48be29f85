import type { HttpContext, RequestInstrument, RequestOutcome } from '../../http/index.js';
import { type ExecutionScope, executionContext, type Logger } from '../../kernel/index.js';

export interface RequestLogOptions {
  /** Paths not logged: exact (`/healthz`) or a prefix ending in `*` (`/assets/*`). */
  skip?: readonly string[];
}

type RouteRecord = NonNullable<HttpContext['route']>['record'];

/** `begin`'s answer for a skipped path; otherwise the request's scope (for its user). */
const SKIP = null;
type State = ExecutionScope | typeof SKIP | undefined;

/**
 * The access log: one line per request once its response is done (or the client went away),
 * with `method`, `route` (the pattern, absent for a 404/405), `path`, `status`,
 * `duration_ms`, `bytes`, `ip` and `request_id` (and `user_id` once known). 5xx lines are
 * errors, 4xx warnings, the rest info. Each route's fixed fields (pattern, module) are
 * serialized once, in a child logger cached per route.
 *
 * @example
 * ```ts
 * app.make('http').instrument(requestLogInstrument(app.logger, { skip: ['/healthz'] }));
 * ```
 */
export function requestLogInstrument(
  logger: Logger,
  options: RequestLogOptions = {},
): RequestInstrument<State> {
  const skip = options.skip ?? [];
  const exact = new Set(skip.filter((path) => !path.endsWith('*')));
  const prefixes = skip.filter((path) => path.endsWith('*')).map((path) => path.slice(0, -1));
  const skipped = (path: string): boolean => {
    if (exact.has(path)) return true;
    for (const prefix of prefixes) if (path.startsWith(prefix)) return true;
    return false;
  };
  const routeLoggers = new WeakMap<RouteRecord, Logger>();
  const loggerFor = (record: RouteRecord | undefined): Logger => {
    if (record === undefined) return logger;
    let child = routeLoggers.get(record);
    if (child === undefined) {
      child = logger.child(
        record.module === undefined
          ? { route: record.path }
          : { route: record.path, module: record.module },
      );
      routeLoggers.set(record, child);
    }
    return child;
  };

  return {
    name: 'logging.requests',
    begin(ctx) {
      if (skipped(ctx.path)) return SKIP;
      // The scope object itself: a user set later (after authentication) is on it at `end`.
      return executionContext.current();
    },
    end(ctx, state, outcome: RequestOutcome) {
      if (state === SKIP) return;
      const fields: Record<string, unknown> = {
        request_id: ctx.requestId,
        method: ctx.method,
        path: ctx.path,
        status: outcome.status,
        duration_ms: Math.round(outcome.durationMs * 1000) / 1000,
        bytes: outcome.bytes,
        ip: ctx.ip,
      };
      // `end` runs from the response's 'close' event, whose async context need not be the
      // request's: what the scope learnt (the user, trace ids) is copied from it here.
      if (state?.user_id !== undefined) fields.user_id = state.user_id;
      if (state?.fields !== undefined) {
        for (const key in state.fields) if (!(key in fields)) fields[key] = state.fields[key];
      }
      if (outcome.aborted) fields.aborted = true;
      const target = loggerFor(ctx.route?.record);
      const status = outcome.status;
      if (status >= 500) target.error(fields, 'request completed');
      else if (status >= 400) target.warn(fields, 'request completed');
      else target.info(fields, 'request completed');
    },
  };
}
