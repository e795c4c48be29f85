/**
 * Resolve after `ms`, when `signal` aborts, or when the `wake` function handed to `subscribe`
 * is called, whichever is first; the timer and listeners are removed then. `subscribe`
 * returns its own cleanup (say, removing `wake` from a set of waiters). Never rejects.
 *
 * @example
 * ```ts
 * await abortableWait(1000, signal, (wake) => {
 *   waiters.add(wake);
 *   return () => waiters.delete(wake);
 * });
 * ```
 */
export function abortableWait(
  ms: number,
  signal: AbortSignal,
  subscribe?: (wake: () => void) => () => void,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    let unsubscribe: (() => void) | undefined;
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      unsubscribe?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    unsubscribe = subscribe?.(done);
  });
}
