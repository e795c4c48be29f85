import type { Awaitable } from '../support/index.js';

/**
 * A value given directly, or a zero-argument loader returning it (or a module namespace
 * whose default export is it). Heavy parts of a manifest are lazy so that discovering
 * modules imports only the small `module.ts` files.
 *
 * @example
 * ```ts
 * const routes: Lazy<RouteTable> = () => import('./routes.js');
 * ```
 */
export type Lazy<T> = T | (() => Awaitable<T | { default: T }>);

/** What a lifecycle hook receives: the application, the module's manifest and its folder. */
export interface ModuleHookContext<App = unknown> {
  readonly app: App;
  readonly module: Readonly<ModuleManifest<App>>;
  /** Absolute path of the module's folder. */
  readonly dir: string;
}

/**
 * Lifecycle hooks of a module. `onInstall`/`onUpgrade`/`beforeSetup`/`afterSetup` run during
 * `keel setup:update`; `onEnable`/`onDisable` when the module is switched on or off.
 *
 * @example
 * ```ts
 * export default {
 *   async onInstall({ app }) { await app.make('db').seed('billing') },
 *   async onUpgrade(ctx, from) { if (semver.lt(from, '2.0.0')) await migrateInvoices(ctx) },
 * } satisfies ModuleHooks<App>;
 * ```
 */
export interface ModuleHooks<App = unknown> {
  /** Runs once, the first time setup sees the module; its version is recorded afterwards. */
  onInstall?(ctx: ModuleHookContext<App>): Awaitable<void>;
  /** Runs when the manifest's version differs from the recorded one (up or down). */
  onUpgrade?(ctx: ModuleHookContext<App>, fromVersion: string): Awaitable<void>;
  onEnable?(ctx: ModuleHookContext<App>): Awaitable<void>;
  onDisable?(ctx: ModuleHookContext<App>): Awaitable<void>;
  /** Runs for every enabled module before any install or upgrade of this setup. */
  beforeSetup?(ctx: ModuleHookContext<App>): Awaitable<void>;
  /** Runs for every enabled module after all installs and upgrades of this setup. */
  afterSetup?(ctx: ModuleHookContext<App>): Awaitable<void>;
}

/** The names of the hooks a module may define. */
export type ModuleHookName = keyof ModuleHooks;

/**
 * What a module's `module.ts` default-exports through {@link defineModule}.
 *
 * @example
 * ```ts
 * export default defineModule({
 *   name: 'billing',
 *   version: '1.2.0',
 *   dependsOn: { customers: '^1.0.0' },
 *   providers: () => import('./providers.js'),
 *   migrations: 'migrations',
 * });
 * ```
 */
export interface ModuleManifest<App = unknown> {
  /** Kebab-case, unique in the application. */
  name: string;
  /** A valid semantic version (`1.2.0`, `2.0.0-beta.1`). */
  version: string;
  description?: string;
  /** Module name → semver range it must satisfy. */
  dependsOn?: Record<string, string>;
  providers?: Lazy<Array<new (app: App) => unknown>>;
  routes?: Lazy<unknown>;
  events?: Lazy<unknown>;
  commands?: Lazy<unknown[]>;
  config?: Lazy<Record<string, unknown>>;
  /** A Standard Schema (Zod 4, Valibot, ArkType...) validating this module's config. */
  configSchema?: unknown;
  /** Folder of migrations, relative to the module folder. */
  migrations?: string;
  /** Folder of seeders, relative to the module folder. */
  seeders?: string;
  /** The module's job classes (`keel/queue` Job subclasses), registered with the queue at boot. */
  jobs?: Lazy<unknown[]>;
  hooks?: Lazy<ModuleHooks<App>>;
  /** Folder of views, relative to the module folder. */
  views?: string;
}

/**
 * What the dependency graph and the state store read of a module: any {@link DiscoveredModule},
 * whatever its application type.
 */
export interface ModuleNode {
  readonly manifest: Readonly<Pick<ModuleManifest, 'name' | 'version' | 'dependsOn'>>;
  readonly dir: string;
}

/** A module found on disk: its manifest, its folder and the file it was loaded from. */
export interface DiscoveredModule<App = unknown> {
  readonly manifest: Readonly<ModuleManifest<App>>;
  /** Absolute path of the module's folder. */
  readonly dir: string;
  /** Absolute path of its `module.ts` / `module.js`. */
  readonly file: string;
}
