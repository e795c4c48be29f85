import type { EventEmitter } from 'node:events';
import { type Context, type ContextManager, type Span, trace } from '@opentelemetry/api';
import { type ExecutionScope, executionContext } from '../../kernel/index.js';

/** The slot of the active OpenTelemetry context on an execution scope. */
export const OTEL_CONTEXT_SLOT: unique symbol = Symbol.for('keel.tracing.context');

/** The active OpenTelemetry context of a scope (undefined: none was set). */
export function scopeContext(scope: ExecutionScope | undefined): Context | undefined {
  return scope?.slots?.[OTEL_CONTEXT_SLOT] as Context | undefined;
}

/**
 * Make `context` the active one for the rest of `scope`'s work. The request and job
 * instruments use it from `begin`, which runs inside the scope before the handler: what the
 * handler does then sees the span. Never call it on a scope other work already shares
 * with a different intent (`with()` derives a new scope instead).
 */
export function activateInScope(scope: ExecutionScope, context: Context): void {
  scope.slots = { ...scope.slots, [OTEL_CONTEXT_SLOT]: context };
}

/**
 * Make `span` (a child of `parent`) the active span of the rest of `scope`'s work, and put
 * its ids on the scope's log fields: every line logged from now on carries `trace_id` and
 * `span_id` (log correlation). The request and job instruments call it from `begin`.
 */
export function activateSpanInScope(scope: ExecutionScope, parent: Context, span: Span): void {
  activateInScope(scope, trace.setSpan(parent, span));
  const ids = span.spanContext();
  const fields = { trace_id: ids.traceId, span_id: ids.spanId };
  scope.fields = scope.fields === undefined ? fields : { ...scope.fields, ...fields };
}

const EMITTER_METHODS = [
  'on',
  'addListener',
  'once',
  'prependListener',
  'prependOnceListener',
] as const;
const kBound = Symbol('keel.tracing.bound-listeners');

type Listener = (...args: unknown[]) => void;
type BoundEmitter = EventEmitter & { [kBound]?: WeakMap<Listener, Listener> };

/**
 * OpenTelemetry's context manager on Keel's execution context, so that one AsyncLocalStorage
 * serves request ids, log fields and trace contexts: the active OTel context lives in the
 * current scope's `slots`. `with()` runs its function in a scope derived from the current
 * one (same ids and fields, its own context), so the request's scope is never changed by a
 * nested span.
 *
 * @example
 * ```ts
 * import { context } from '@opentelemetry/api';
 * context.setGlobalContextManager(new ExecutionContextManager().enable());
 * ```
 */
export class ExecutionContextManager implements ContextManager {
  #enabled = false;
  readonly #root: Context;

  /** `root`: the empty context (`ROOT_CONTEXT` of the API the caller loaded). */
  constructor(root: Context) {
    this.#root = root;
  }

  active(): Context {
    if (!this.#enabled) return this.#root;
    return scopeContext(executionContext.current()) ?? this.#root;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    if (!this.#enabled) return fn.apply(thisArg, args);
    const current = executionContext.current();
    // A derived scope: the ids and log fields of the work in progress, its own context.
    const scope: ExecutionScope =
      current === undefined
        ? { slots: { [OTEL_CONTEXT_SLOT]: context } }
        : { ...current, slots: { ...current.slots, [OTEL_CONTEXT_SLOT]: context } };
    return executionContext.run(scope, () => fn.apply(thisArg, args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target === 'function') return this.#bindFunction(context, target as never) as T;
    if (isEmitter(target)) return this.#bindEmitter(context, target) as T;
    return target;
  }

  enable(): this {
    this.#enabled = true;
    return this;
  }

  disable(): this {
    this.#enabled = false;
    return this;
  }

  #bindFunction(context: Context, target: Listener): Listener {
    const manager = this;
    const bound = function (this: unknown, ...args: unknown[]) {
      return manager.with(context, () => target.apply(this, args));
    };
    Object.defineProperty(bound, 'length', { value: target.length });
    return bound;
  }

  /**
   * Listeners added to `emitter` from now on run in `context`; `removeListener` still finds
   * them by the function the caller passed.
   */
  #bindEmitter(context: Context, emitter: BoundEmitter): EventEmitter {
    if (emitter[kBound] !== undefined) return emitter;
    const manager = this;
    const map = new WeakMap<Listener, Listener>();
    emitter[kBound] = map;
    for (const method of EMITTER_METHODS) {
      const original = emitter[method] as (event: string | symbol, listener: Listener) => unknown;
      emitter[method] = function (this: EventEmitter, event: string | symbol, listener: Listener) {
        let bound = map.get(listener);
        if (bound === undefined) {
          bound = manager.#bindFunction(context, listener);
          map.set(listener, bound);
        }
        return original.call(this, event, bound);
      } as never;
    }
    const remove = emitter.removeListener as (event: string | symbol, l: Listener) => unknown;
    emitter.removeListener = emitter.off = function (
      this: EventEmitter,
      event: string | symbol,
      listener: Listener,
    ) {
      return remove.call(this, event, map.get(listener) ?? listener);
    } as never;
    return emitter;
  }
}

function isEmitter(value: unknown): value is BoundEmitter {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EventEmitter).on === 'function' &&
    typeof (value as EventEmitter).removeListener === 'function' &&
    typeof (value as EventEmitter).emit === 'function'
  );
}
