import type { BindingKey } from './token.js';

/** How often a binding's factory runs. */
export type Lifetime = 'transient' | 'singleton' | 'scoped' | 'value';

/** A cached instance: set once the factory returned, or the promise while it is async. */
export interface Slot {
  ready: boolean;
  value: unknown;
  promise: Promise<unknown> | undefined;
}

/**
 * One registration. `owner` is the container it was registered on: a singleton resolves
 * its dependencies from its owner, never from the scope that asked first, so it cannot
 * capture one request's scoped instances for the life of the process.
 */
export interface Binding<C> {
  readonly key: BindingKey;
  readonly lifetime: Lifetime;
  readonly factory: ((container: C) => unknown) | undefined;
  /** Set when the binding constructs a class from its inject list instead of a factory. */
  readonly cls: Function | undefined;
  readonly value: unknown;
  readonly owner: C;
  slot: Slot | undefined;
}

/**
 * An async resolution in progress, kept in an async slot (`AsyncSlot`) so that concurrent
 * `makeAsync` calls each see their own chain. `done` turns true when the work settles:
 * a timer or listener started inside a factory inherits the frame, and must not be
 * taken for part of the chain forever after.
 */
export interface Frame {
  readonly key: BindingKey;
  readonly parent: Frame | undefined;
  /** Set on a deferred-provider activation frame: work inside it passes that gate. */
  readonly gate: Gate | undefined;
  done: boolean;
}

/**
 * Keys bound by a deferred provider whose boot() is still running. Resolving them from
 * outside the activation waits (makeAsync) or fails fast (make) until boot settles, so no
 * caller gets a service from a provider that has not finished booting.
 */
export interface Gate {
  promise: Promise<void>;
  failed: boolean;
  error: unknown;
}

/** A description entry of `container.describe()`. */
export interface BindingDescription {
  key: string;
  lifetime: Lifetime;
  /** For an alias: the key it points to. */
  alias?: string;
}

export function newSlot(): Slot {
  return { ready: false, value: undefined, promise: undefined };
}

export { isThenable } from '../support/thenable.js';

/** True for native `class` syntax: such a function must be constructed, not called. */
export function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** True when `instance` has something dispose() should run. */
export function isDisposable(instance: unknown): boolean {
  if (instance === null || (typeof instance !== 'object' && typeof instance !== 'function')) {
    return false;
  }
  const record = instance as Record<PropertyKey, unknown>;
  return (
    typeof record[Symbol.asyncDispose] === 'function' ||
    typeof record[Symbol.dispose] === 'function' ||
    typeof record.dispose === 'function'
  );
}

/** Run the one disposer an instance offers, preferring the async one. */
export async function disposeInstance(instance: unknown): Promise<void> {
  const record = instance as Record<PropertyKey, unknown>;
  const asyncDispose = record[Symbol.asyncDispose];
  if (typeof asyncDispose === 'function') return void (await asyncDispose.call(instance));
  const syncDispose = record[Symbol.dispose];
  if (typeof syncDispose === 'function') return void syncDispose.call(instance);
  const dispose = record.dispose;
  if (typeof dispose === 'function') await dispose.call(instance);
}

export function compareKeys(a: BindingDescription, b: BindingDescription): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
