import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The slots set in an async context, as `[slot, value, slot, value, …]`, one pair per slot.
 * A run copies its parent's pairs instead of linking to them: a context keeps the values
 * it can see and nothing older, however many runs led to it (a loop that starts each round
 * from inside the last must not grow a chain).
 */
type Frame = readonly unknown[];

// One AsyncLocalStorage for every slot of the process (and every copy of this module: an
// app's sources run through the TypeScript loader can import Keel twice). On Node 20 each
// enabled AsyncLocalStorage copies its store onto every async resource and promise the
// process creates, whoever created it: five of them (execution scope, transactions, query
// scopes, validation, container) made every `await` about 2.5x dearer than one does.
const SHARED = Symbol.for('keel.async-slots');
const registry = globalThis as { [SHARED]?: AsyncLocalStorage<Frame> };
registry[SHARED] ??= new AsyncLocalStorage<Frame>();
const storage = registry[SHARED];

/**
 * A value carried through async work, like an `AsyncLocalStorage` of its own, while all
 * slots share one storage underneath. `run(value, fn)` makes `value` the slot's value for
 * `fn` and everything it starts (awaits, timers, events); other slots keep theirs.
 *
 * @example
 * ```ts
 * const tenant = new AsyncSlot<string>();
 * await tenant.run('acme', async () => {
 *   await something();
 *   tenant.get(); // 'acme'
 * });
 * tenant.get(); // undefined
 * ```
 */
export class AsyncSlot<T> {
  /** Run `fn` with `value` as this slot's value (`undefined` hides an outer one). */
  run<R>(value: T, fn: () => R): R {
    const parent = storage.getStore();
    if (parent === undefined) return storage.run([this, value], fn);
    const frame = parent.slice();
    let at = 0;
    while (at < frame.length && frame[at] !== this) at += 2;
    frame[at] = this;
    frame[at + 1] = value;
    return storage.run(frame, fn);
  }

  /** The slot's value in the current async context, if one was set. */
  get(): T | undefined {
    const frame = storage.getStore();
    if (frame === undefined) return undefined;
    // A handful of slots at most: a scan beats a Map, and copies cheaper.
    for (let i = 0; i < frame.length; i += 2) if (frame[i] === this) return frame[i + 1] as T;
    return undefined;
  }
}
