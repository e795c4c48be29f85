import type { Lazy } from '../modules/index.js';
import type { Constructor } from '../support/index.js';

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
  providers?: Lazy<Constructor[]>;
  /** App-level CLI commands. */
  commands?: Lazy<unknown[]>;
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
