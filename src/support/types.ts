/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** Any class constructor. */
// biome-ignore lint/suspicious/noExplicitAny: constructor arguments are unknown by design
export type Constructor<T = unknown> = abstract new (...args: any[]) => T;

/**
 * Dot paths into an object type, for typed config reads (`'db.pool.max'`).
 * Depth-limited to keep the compiler fast.
 */
export type DotPath<T, Depth extends unknown[] = []> = Depth['length'] extends 6
  ? never
  : T extends Record<string, unknown>
    ? {
        [K in keyof T & string]: T[K] extends Record<string, unknown>
          ? K | `${K}.${DotPath<T[K], [...Depth, unknown]>}`
          : K;
      }[keyof T & string]
    : never;

/** The type at a dot path of `T`. */
export type PathValue<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? PathValue<T[Head], Rest>
    : unknown
  : P extends keyof T
    ? T[P]
    : unknown;
