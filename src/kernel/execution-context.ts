import { AsyncSlot } from '../support/async-slot.js';

/**
 * What is known about the unit of work running now (a request, a job, a command): the ids
 * every log line carries and whatever the observability layers attach (the trace context).
 * One scope per unit of work, mutable so that what is learnt mid-way (the user, once
 * authenticated) reaches every line logged after it.
 */
export interface ExecutionScope {
  /** The request this work serves (or, in a job, the request that dispatched it). */
  request_id?: string;
  job_id?: string;
  user_id?: string | number;
  /** Extra fields every log line inside this scope carries. */
  fields?: Record<string, unknown>;
  /** Slots for the observability layers (the active trace context, ...), by owner. */
  slots?: Record<symbol, unknown>;
}

/**
 * Carries scope across a process boundary (a queued job, an outgoing HTTP request): `inject`
 * writes string fields into the carrier, `extract` reads them back into the new scope.
 */
export interface ContextPropagator {
  inject(scope: ExecutionScope, carrier: Record<string, string>): void;
  extract(carrier: Readonly<Record<string, string>>, scope: ExecutionScope): void;
}

// The request id rides across boundaries as `requestId` (the job meta's historical key).
const requestIdPropagator: ContextPropagator = {
  inject(scope, carrier) {
    if (scope.request_id !== undefined) carrier.requestId = scope.request_id;
  },
  extract(carrier, scope) {
    if (typeof carrier.requestId === 'string') scope.request_id = carrier.requestId;
  },
};

// One per process, not per copy of this module: an app's code run through the TypeScript
// loader can import Keel's sources while the CLI runs its build, and both must see the same
// scopes (a request's `annotate()` from app code reaching the framework's log lines).
const SHARED = Symbol.for('keel.execution-context');
interface SharedContext {
  slot: AsyncSlot<ExecutionScope>;
  propagators: ContextPropagator[];
}
const registry = globalThis as { [SHARED]?: SharedContext };
registry[SHARED] ??= {
  slot: new AsyncSlot<ExecutionScope>(),
  propagators: [requestIdPropagator],
};
const shared = registry[SHARED];
const slot = shared.slot;
const propagators = shared.propagators;

/**
 * The process-wide execution context (an {@link AsyncSlot}): the HTTP kernel opens a scope
 * per request, the queue worker one per job; the logger, metrics and tracing read it.
 *
 * @example
 * ```ts
 * executionContext.run({ request_id: 'r1' }, async () => {
 *   executionContext.current()?.request_id; // 'r1', through every await
 *   executionContext.setUser(42);           // later log lines carry user_id: 42
 * });
 * ```
 */
export const executionContext = {
  /** Run `fn` in a new scope; everything it starts (awaits, timers, events) sees it. */
  run<T>(scope: ExecutionScope, fn: () => T): T {
    return slot.run(scope, fn);
  },

  /** The scope of the work running now, if any. */
  current(): ExecutionScope | undefined {
    return slot.get();
  },

  /** Record the authenticated user on the current scope (no-op outside one). */
  setUser(id: string | number | undefined): void {
    const scope = slot.get();
    if (scope) scope.user_id = id;
  },

  /** Add fields every later log line of the current scope carries. */
  annotate(fields: Record<string, unknown>): void {
    const scope = slot.get();
    if (scope) scope.fields = { ...scope.fields, ...fields };
  },

  /** An observability layer's slot on the current scope. */
  slot<T>(owner: symbol): T | undefined {
    return slot.get()?.slots?.[owner] as T | undefined;
  },

  /** Register a propagator (tracing adds W3C `traceparent`). Returns its removal. */
  addPropagator(propagator: ContextPropagator): () => void {
    propagators.push(propagator);
    return () => {
      const index = propagators.indexOf(propagator);
      if (index !== -1) propagators.splice(index, 1);
    };
  },

  /** The current scope as string fields to carry into a job or an outgoing request. */
  capture(scope: ExecutionScope | undefined = slot.get()): Record<string, string> {
    const carrier: Record<string, string> = {};
    if (scope === undefined) return carrier;
    for (const propagator of propagators) propagator.inject(scope, carrier);
    return carrier;
  },

  /** A new scope continuing what `capture()` carried, with `base` fields (the job id). */
  restore(carrier: Readonly<Record<string, string>>, base: ExecutionScope = {}): ExecutionScope {
    const scope: ExecutionScope = { ...base };
    for (const propagator of propagators) propagator.extract(carrier, scope);
    return scope;
  },
};
