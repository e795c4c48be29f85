import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A promise whose work starts only when someone waits on it (`then`, `await`).
 *
 * Why: Zod learns that a schema is asynchronous only by meeting a promise during a synchronous
 * parse; it then throws and Keel parses again asynchronously. An async rule that started its
 * database query eagerly would run it twice (once for nothing). Returned lazily, the first
 * attempt costs nothing: Zod sees `instanceof Promise`, throws, and never calls `then`.
 */
export class LazyPromise<T> extends Promise<T> {
  // Derived promises (`.then()` results) are ordinary ones: their executor is the native one.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #start: (() => void) | undefined;

  constructor(work: () => PromiseLike<T> | T) {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason: unknown) => void;
    super((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The work runs later, from whoever awaits; bind it to the async context it was created
    // in, so a validation context (AsyncLocalStorage) set around the parse still applies.
    const bound = AsyncLocalStorage.bind(work);
    this.#start = () => {
      try {
        resolve(bound());
      } catch (error) {
        reject(error);
      }
    };
  }

  /** True once something waited on the promise and its work began. */
  get started(): boolean {
    return this.#start === undefined;
  }

  // biome-ignore lint/suspicious/noThenProperty: the point of this class is a deferred then()
  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const start = this.#start;
    if (start) {
      this.#start = undefined;
      start();
    }
    return super.then(onFulfilled, onRejected);
  }
}
