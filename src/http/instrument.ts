import type { ExecutionScope } from '../kernel/index.js';
import type { HttpContext } from './context.js';

/** How a request ended, as instruments see it once the response is done. */
export interface RequestOutcome {
  /** The status sent (or set, when the client went away first). */
  status: number;
  /** From arrival to the end of the response, in milliseconds. */
  durationMs: number;
  /** Body bytes sent, when known (builder responses and `content-length`). */
  bytes: number | undefined;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** The error the request failed with, when it became a problem response. */
  error: unknown;
}

/**
 * Observes every request, matched or not (a 404 and a 405 too): request logs, metrics and
 * tracing plug in here. `begin` runs inside the request's execution scope before routing,
 * and what it returns comes back to `end`, once, when the response finished or the client
 * went away. Neither may throw: a failing instrument is logged and the request goes on.
 *
 * @example
 * ```ts
 * kernel.instrument({
 *   begin: (ctx) => performance.now(),
 *   end: (ctx, started, outcome) => histogram.observe(outcome.durationMs),
 * });
 * ```
 */
export interface RequestInstrument<State = unknown> {
  /** The instrument's name, for the error logged when it throws. */
  readonly name: string;
  /**
   * Whether the request must run in an execution scope (default true): log lines inside it
   * carry its `request_id`, tracing keeps its span there. An instrument that only reads the
   * context and the outcome (metrics) says false; when all say false, no scope is opened:
   * on Node 20 a scope costs about a microsecond per promise the request creates.
   */
  readonly scope?: boolean;
  /**
   * Called before routing, inside the request's execution scope. `scope` is that scope (the
   * object `executionContext.current()` returns there), handed over so that `begin` need not
   * look it up; undefined when no instrument asked for one.
   */
  begin?(ctx: HttpContext, scope: ExecutionScope | undefined): State;
  end(ctx: HttpContext, state: State, outcome: RequestOutcome): void;
}
