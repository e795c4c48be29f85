import type { Awaitable, KeelError } from '../support/index.js';

/**
 * The application's events and their payloads. Empty on purpose: each module adds its
 * events by declaration merging, and every `EventBus` built without a type argument is
 * typed from the merged map.
 *
 * @example
 * ```ts
 * declare module 'keel/events' {
 *   interface EventMap {
 *     'orders.placed': { orderId: number; total: number };
 *     'app.ready': undefined;
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by applications (declaration merging)
export interface EventMap {}

/** What every listener receives beside the payload. One frozen object per emit. */
export interface EventMeta {
  /** The event's name. */
  readonly event: string;
  /** `Date.now()` when `emit()` was called; the same for every listener of that emit. */
  readonly emittedAt: number;
}

/** A listener for one event: may be async; it is awaited before the next one runs. */
export type Listener<P> = (payload: P, meta: EventMeta) => Awaitable<void>;

/** One emitted event as a wildcard listener or a fake sees it: narrows on `event`. */
export type EmittedEvent<Events extends object> = {
  [E in keyof Events & string]: { readonly event: E; readonly payload: Events[E] };
}[keyof Events & string];

/** A wildcard listener (`onAny`): called for every event, e.g. for metrics or audit. */
export type AnyListener<Events extends object> = (
  emitted: EmittedEvent<Events>,
  meta: EventMeta,
) => Awaitable<void>;

/** Options of `on()`, `once()` and `onAny()`. */
export interface ListenerOptions {
  /** Higher runs first; equal priorities keep registration order. Default 0. */
  priority?: number;
  /** Remove the listener before its first run. */
  once?: boolean;
  /** The module that owns the listener, for `removeModule()` and listings. */
  module?: string;
  /** The name used in errors and listings; defaults to the function's name. */
  name?: string;
}

/** How an event behaves, set once with `declare()`. */
export interface EventDeclaration {
  /** A failing listener stops the remaining ones and `emit()` rejects with its error. */
  halting?: boolean;
  /** One line for `keel events:list` and the compiled `events.json`. */
  description?: string;
}

/** A declared event, as listed by `declarations()`. Plain data, JSON-serialisable. */
export interface EventDeclarationInfo {
  readonly event: string;
  readonly halting: boolean;
  readonly description: string | null;
}

/** One registered listener, as listed by `listeners()`. Plain data, JSON-serialisable. */
export interface ListenerInfo {
  /** The event name, or `'*'` for a wildcard listener. */
  readonly event: string;
  readonly name: string;
  readonly module: string | null;
  readonly priority: number;
  readonly once: boolean;
}

/** A listener that threw or rejected during a non-halting emit. */
export interface ListenerFailure {
  readonly listener: string;
  readonly module: string | null;
  /** `E_LISTENER_FAILED`, with the thrown value as its `cause`. */
  readonly error: KeelError;
}

/** What `emit()` resolves to. */
export interface EmitResult {
  readonly event: string;
  /** How many listeners ran (wildcards included), failed ones included. */
  readonly listeners: number;
  readonly failures: readonly ListenerFailure[];
}

/** Receives every listener failure that does not reject `emit()`. */
export type ErrorReporter = (error: KeelError) => void;

/**
 * The arguments after the event name: the payload, optional when the event's payload
 * type is `undefined` or `void`. Tuple-wrapped so a union payload is not distributed.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: an event map may well say `'app.ready': void`
export type PayloadArgs<P> = [P] extends [undefined | void] ? [payload?: P] : [payload: P];

/** Options of `fake()`. */
export interface FakeOptions<Events extends object> {
  /** Fake only these events; others dispatch as usual. Default: every event. */
  only?: ReadonlyArray<keyof Events & string>;
  /** Record and also call the listeners. Default false: record only. */
  passthrough?: boolean;
}
