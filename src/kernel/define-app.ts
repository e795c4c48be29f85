import type { Awaitable, Constructor } from '../support/index.js';

/** A value, or a function that loads it lazily (so boot only loads what it uses). */
export type LazyValue<T> = T | (() => Awaitable<T | { default: T }>);

/** What `keel.config.ts` default-exports. */
export interface AppDefinition {
  /** The application's name: CLI banners, logs and error pages. `APP_NAME` overrides it. */
  name: string;
  version?: string;
  /** Folder holding one folder per module. Default `modules`. */
  modules?: string;
  /** Folder holding `config/<namespace>.ts` files. Default `config`. */
  config?: string;
  /** App-level providers, registered after every module's providers. */
  providers?: LazyValue<Constructor[]>;
  /** App-level CLI commands. */
  commands?: LazyValue<unknown[]>;
  /** Extra env keys validated at boot (a Zod object shape), merged into the base schema. */
  env?: Record<string, unknown>;
  /** Graceful shutdown deadline (ms or `'10s'`). Default 10 s. */
  shutdownTimeout?: number | string;
  /** Whether modules found for the first time start enabled. Default true. */
  enableNewModules?: boolean;
  /** Free-form settings for later subsystems (http middleware, ...), keyed by subsystem. */
  [key: string]: unknown;
}

/**
 * Define the application. `keel.config.ts` default-exports the result.
 *
 * @example
 * ```ts
 * export default defineApp({ name: 'erp', modules: 'modules' });
 * ```
 */
export function defineApp<T extends AppDefinition>(definition: T): Readonly<T> {
  return Object.freeze({ ...definition });
}

/** Resolve a {@link LazyValue}. */
export async function loadLazy<T>(value: LazyValue<T> | undefined): Promise<T | undefined> {
  if (typeof value !== 'function') return value;
  // A class is a function too: only zero-argument arrow/function loaders are called.
  if (/^class[\s{]/.test(Function.prototype.toString.call(value))) return value as T;
  const loaded = await (value as () => Awaitable<T | { default: T }>)();
  if (loaded && typeof loaded === 'object' && 'default' in loaded)
    return (loaded as { default: T }).default;
  return loaded as T;
}
