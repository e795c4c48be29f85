import { performance } from 'node:perf_hooks';
import { Container, type ProviderHost, ProviderRegistry } from '../container/index.js';
import { EventBus, type ListenersDefinition, registerListeners } from '../events/index.js';
import type { DiscoveredModule, ModuleManifest } from '../modules/index.js';
import {
  ModuleManager,
  ModuleRuntimeRegistry,
  ModuleStateStore,
  resolveLazy,
} from '../modules/index.js';
import { type Constructor, isKeelError, parseDuration } from '../support/index.js';
import { loadAppDefinition } from './app-loader.js';
import { type AppPaths, resolveAppPaths } from './app-paths.js';
import { BootProfiler } from './boot-profiler.js';
import { ConfigRepository, loadConfigDir } from './config/index.js';
import type { AppDefinition } from './define-app.js';
import { type BaseEnv, baseEnvSchema, Env, loadEnvFiles, validateEnv } from './env/index.js';
import { E_APP_FAILED, E_ILLEGAL_STATE_TRANSITION, E_SHUTDOWN_TIMEOUT } from './errors.js';
import { HealthRegistry } from './health.js';
import { type AppState, Lifecycle } from './lifecycle.js';
import { createNullLogger, type Logger } from './logger.js';
import { createApplicationLogger } from './logging/app-logger.js';
import type { LogChannels } from './logging/log-channels.js';
import { resolveLoggingConfig } from './logging/logging-config.js';
import { type ModuleSource, scanModuleSource } from './module-source.js';

/** Which entry point runs the application; providers may restrict themselves to some. */
export type AppEnvironment = 'http' | 'console' | 'worker' | 'test';

export interface ApplicationOptions {
  /** The application folder (holding keel.config.ts). */
  root: string;
  environment: AppEnvironment;
  /** Env values that win over the process env and `.env` (tests, CLI `--env`). */
  env?: Record<string, string | undefined>;
  /** The process env to read; `process.env` by default. */
  processEnv?: Record<string, string | undefined>;
  /** Record per-phase and per-provider timings (`--profile-boot`, `KEEL_PROFILE_BOOT=1`). */
  profile?: boolean;
  /** A logger to use instead of creating one. */
  logger?: Logger;
  /** Where module manifests come from: a scan (development), compiled artifacts or a bundle. */
  moduleSource?: ModuleSource;
  /** An already-loaded definition (bundled builds). */
  definition?: AppDefinition;
  /** App config files already loaded (bundled builds), namespace → values. */
  appConfig?: Record<string, Record<string, unknown>>;
  /**
   * `appConfig` is the compiled merge of module and app config (`var/cache/config.json`):
   * module config files are not imported again.
   */
  configCompiled?: boolean;
  /**
   * Framework providers (HTTP, database, ...) registered before every module's providers,
   * so modules can extend them. The CLI and the testing helpers pass Keel's defaults.
   */
  providers?: Constructor[];
}

/** A module that takes part in this run: enabled, in dependency order. */
export interface LoadedModule {
  readonly manifest: Readonly<ModuleManifest<Application>>;
  readonly dir: string;
  readonly file: string;
}

/** Framework defaults: the lowest config layer. */
function frameworkDefaults(
  definition: AppDefinition,
  env: Env,
): Record<string, Record<string, unknown>> {
  return {
    app: {
      name: env.variable('APP_NAME') ?? definition.name,
      version: definition.version ?? '0.0.0',
      env: env.appEnv,
      debug: env.debug,
      shutdownTimeout: parseDuration(definition.shutdownTimeout ?? '10s'),
    },
    logger: {
      level: env.get('LOG_LEVEL') ?? (env.isTest ? 'warn' : 'info'),
      pretty: !env.isProduction && Boolean(process.stdout.isTTY),
    },
  };
}

/**
 * One Keel application: the container, config, modules and providers behind every entry
 * point (HTTP server, CLI, queue worker, tests).
 *
 * @example
 * ```ts
 * const app = await Application.create({ root: process.cwd(), environment: 'console' });
 * await app.start();
 * const config = app.make('config');
 * await app.shutdown();
 * ```
 */
export class Application implements ProviderHost {
  readonly container = new Container();
  readonly lifecycle = new Lifecycle();
  readonly environment: AppEnvironment;
  readonly paths: AppPaths;
  readonly profiler: BootProfiler | undefined;
  readonly runtimes = new ModuleRuntimeRegistry();
  readonly events = new EventBus();
  /** Health checks subsystems register (database, Redis, ...), run by `health:check` and `/ready`. */
  readonly health = new HealthRegistry();
  readonly definition: AppDefinition;
  readonly env: Env;
  readonly logger: Logger;
  readonly modules: readonly LoadedModule[];
  /** Every module on disk, enabled or not. */
  readonly discovered: readonly DiscoveredModule<Application>[];
  readonly moduleManager: ModuleManager<Application>;
  readonly config: ConfigRepository;
  /** Lines printed by `serve` once the app is ready (e.g. the URL it listens on). */
  readonly readyMessages: string[] = [];
  readonly #providers: ProviderRegistry<Application>;
  readonly #shutdownCallbacks: Array<() => unknown> = [];
  #shutdownPromise: Promise<void> | undefined;
  #commands: unknown[] = [];
  readonly #artifacts = new Map<string, () => unknown>();

  private constructor(init: {
    environment: AppEnvironment;
    paths: AppPaths;
    profiler: BootProfiler | undefined;
    definition: AppDefinition;
    env: Env;
    logger: Logger;
    modules: LoadedModule[];
    discovered: DiscoveredModule<Application>[];
    moduleManager: ModuleManager<Application>;
    config: ConfigRepository;
  }) {
    this.environment = init.environment;
    this.paths = init.paths;
    this.profiler = init.profiler;
    this.definition = init.definition;
    this.env = init.env;
    this.logger = init.logger;
    this.modules = init.modules;
    this.discovered = init.discovered;
    this.moduleManager = init.moduleManager;
    this.config = init.config;
    this.#providers = new ProviderRegistry<Application>(this, {
      onTiming: (t) =>
        this.profiler?.record({
          kind: 'provider',
          name: t.provider,
          phase: t.phase,
          module: t.module,
          ms: t.ms,
        }),
    });
    this.events.setErrorReporter((error) => {
      const module = (error.details?.module as string | undefined) ?? undefined;
      if (module) this.reportModuleError(module, error);
      this.logger.error({ err: error }, error.message);
    });
  }

  /** Load env, the app definition, modules and config; the result is in state `created`. */
  static async create(options: ApplicationOptions): Promise<Application> {
    const profile = options.profile ?? process.env.KEEL_PROFILE_BOOT === '1';
    const profiler = profile ? new BootProfiler(0) : undefined;
    const step = <T>(name: string, fn: () => Promise<T>): Promise<T> =>
      profiler ? profiler.measure('step', name, fn) : fn();

    const processEnv = options.processEnv ?? process.env;
    const { definition } = options.definition
      ? { definition: options.definition }
      : await step('load keel.config', () => loadAppDefinition(options.root));
    const paths = resolveAppPaths(options.root, {
      ...(definition.modules ? { modules: definition.modules } : {}),
      ...(definition.config ? { config: definition.config } : {}),
    });

    const env = await step('load env', async () => {
      const raw = {
        ...loadEnvFiles({ cwd: paths.root, processEnv }),
        ...dropUndefined(options.env),
      };
      const schema = definition.env ? baseEnvSchema.extend(definition.env as never) : baseEnvSchema;
      return new Env(validateEnv(raw, schema) as BaseEnv, raw);
    });

    const source = options.moduleSource ?? scanModuleSource(paths);
    const discovered = (await step('discover modules', () =>
      source.load(),
    )) as DiscoveredModule<Application>[];

    const stateStore = new ModuleStateStore(`${paths.state}/modules.json`);
    const moduleManager = new ModuleManager<Application>({
      modules: discovered,
      store: stateStore,
      enableNew: definition.enableNewModules ?? true,
    });
    const enabled = await step('resolve module graph', () => moduleManager.enabledModules());

    const config = await step('load config', async () => {
      const appConfig = options.appConfig ?? (await loadConfigDir(paths.config));
      const layers: Array<{ name: string; values: Record<string, unknown> }> = [
        { name: 'framework', values: frameworkDefaults(definition, env) },
      ];
      const schemas: Record<string, unknown> = {};
      for (const module of enabled) {
        if (module.manifest.configSchema) {
          schemas[module.manifest.name] = module.manifest.configSchema;
        }
        // Compiled config already merged every module's config: no need to import them.
        if (options.configCompiled) continue;
        const values = await resolveLazy(module.manifest.config);
        if (values) {
          layers.push({
            name: `module:${module.manifest.name}`,
            values: { [module.manifest.name]: values },
          });
        }
      }
      layers.push({ name: options.configCompiled ? 'compiled' : 'app', values: appConfig });
      return ConfigRepository.build({ layers, schemas: schemas as never, env });
    });

    // After the config: the `logging` namespace chooses the channels. Tests get a silent
    // logger unless they bring one.
    let logChannels: LogChannels | undefined;
    let logger = options.logger;
    if (logger === undefined && options.environment === 'test') logger = createNullLogger();
    if (logger === undefined) {
      const created = createApplicationLogger({
        name: config.get('app.name' as never) as string,
        env: env.appEnv,
        version: config.get('app.version' as never) as string,
        root: paths.root,
        pretty: !env.isProduction && Boolean(process.stdout.isTTY),
        config: resolveLoggingConfig(config.get('logging' as never), {
          env: (name) => env.variable(name),
          production: env.isProduction,
        }),
      });
      logger = created.logger;
      logChannels = created.channels;
    }

    const app = new Application({
      environment: options.environment,
      paths,
      profiler,
      definition,
      env,
      logger,
      modules: enabled as LoadedModule[],
      discovered,
      moduleManager,
      config,
    });
    // Registered first, so it runs last: every line of the shutdown reaches the files.
    if (logChannels) app.onShutdown(() => logChannels.close());
    for (const module of enabled) app.runtimes.register(module.manifest.name);
    await step('load providers', () => app.#collectProviders(options.providers ?? []));
    return app;
  }

  get state(): AppState {
    return this.lifecycle.state;
  }

  get name(): string {
    return this.config.get('app.name' as never) as string;
  }

  /** Resolve a binding from the container. */
  make: Container['make'] = (key: never) => this.container.make(key);

  /** Resolve a binding, awaiting async factories and deferred providers. */
  makeAsync: Container['makeAsync'] = (key: never) => this.container.makeAsync(key);

  /** A child logger for one module. */
  moduleLogger(module: string): Logger {
    return this.logger.child({ module });
  }

  /** Count an error against a module (shown by `module:list` and `module:info`). */
  reportModuleError(module: string, error: unknown): void {
    this.runtimes.get(module)?.recordError(error);
  }

  /** CLI commands contributed by modules and the app definition. */
  get commands(): readonly unknown[] {
    return this.#commands;
  }

  /**
   * Contribute a compiled artifact: `keel compile` writes `var/cache/<name>.json` from what
   * `produce` returns (JSON, no secrets). Subsystems use it for routes and the like.
   */
  addArtifact(name: string, produce: () => unknown): void {
    this.#artifacts.set(name, produce);
  }

  /** Artifacts contributed by providers, by name. */
  get artifacts(): ReadonlyMap<string, () => unknown> {
    return this.#artifacts;
  }

  /** Run `fn` during shutdown, after providers have shut down, in reverse order of registration. */
  onShutdown(fn: () => unknown): void {
    this.#shutdownCallbacks.push(fn);
  }

  async #collectProviders(framework: Constructor[]): Promise<void> {
    this.container.value('app', this);
    this.container.value('config', this.config);
    this.container.value('env', this.env);
    this.container.value('logger', this.logger);
    this.container.value('events', this.events);
    this.container.value('health', this.health);
    this.container.alias(Application as never, 'app');
    for (const provider of framework) {
      if (this.#acceptsEnvironment(provider))
        this.#providers.add(provider as never, { module: 'keel' });
    }
    // Load every module's lazy parts at once (the imports overlap their file reads), then
    // register them in dependency order.
    const loaded = await Promise.all(
      this.modules.map(async (module) => ({
        module,
        providers: (await resolveLazy(module.manifest.providers)) ?? [],
        commands: await resolveLazy(module.manifest.commands),
      })),
    );
    for (const { module, providers, commands } of loaded) {
      for (const provider of providers) {
        if (this.#acceptsEnvironment(provider)) {
          this.#providers.add(provider as never, { module: module.manifest.name });
        }
      }
      if (commands) {
        this.#commands.push(...commands.map((c) => withModule(c, module.manifest.name)));
      }
    }
    const appProviders = (await resolveLazy(this.definition.providers)) ?? [];
    for (const provider of appProviders) {
      if (this.#acceptsEnvironment(provider))
        this.#providers.add(provider as never, { module: 'app' });
    }
    const appCommands = (await resolveLazy(this.definition.commands)) ?? [];
    this.#commands.push(...appCommands);
  }

  #acceptsEnvironment(provider: Constructor): boolean {
    const environments = (provider as { environments?: readonly AppEnvironment[] }).environments;
    return !environments || environments.includes(this.environment);
  }

  /** Register providers' bindings (synchronous). */
  register(): this {
    this.#phaseSync('registered', () => this.#providers.register());
    return this;
  }

  /** Boot providers and attach module event listeners. */
  async boot(): Promise<this> {
    if (this.lifecycle.is('created')) this.register();
    for (const module of this.modules)
      this.runtimes.get(module.manifest.name)?.transition('initializing');
    await this.#phase('booted', async () => {
      // Listeners first: a provider's boot may emit events other modules listen to.
      const allListeners = await Promise.all(
        this.modules.map((m) => resolveLazy(m.manifest.events)),
      );
      for (const [index, module] of this.modules.entries()) {
        let listeners = allListeners[index];
        // events.ts may export `(app) => defineListeners({...})` to reach the container.
        if (typeof listeners === 'function')
          listeners = await (listeners as (app: Application) => unknown)(this);
        if (listeners)
          registerListeners(this.events, listeners as ListenersDefinition, module.manifest.name);
      }
      await this.#providers.boot();
    });
    for (const module of this.modules)
      this.runtimes.get(module.manifest.name)?.transition('initialized');
    return this;
  }

  /** Run every lifecycle phase up to `ready`. */
  async start(): Promise<this> {
    if (this.lifecycle.is('created', 'registered')) await this.boot();
    for (const module of this.modules)
      this.runtimes.get(module.manifest.name)?.transition('starting');
    await this.#phase('started', () => this.#providers.start());
    await this.#phase('ready', () => this.#providers.ready());
    for (const module of this.modules)
      this.runtimes.get(module.manifest.name)?.transition('running');
    this.#writeRuntimeSnapshot();
    return this;
  }

  /** Providers known to this application, for `module:info` and the compiler. */
  providers(): ReturnType<ProviderRegistry<Application>['list']> {
    return this.#providers.list();
  }

  /**
   * Shut down: providers in reverse order, then shutdown callbacks, within the deadline
   * (`app.shutdownTimeout`). Safe to call more than once; later calls wait for the first.
   */
  shutdown(reason = 'shutdown requested'): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown(reason);
    return this.#shutdownPromise;
  }

  async #shutdown(reason: string): Promise<void> {
    if (this.lifecycle.is('stopped')) return;
    this.logger.debug({ reason }, 'shutting down');
    this.lifecycle.transition('stopping');
    for (const runtime of this.runtimes.all()) {
      if (runtime.state === 'running' || runtime.state === 'initialized')
        runtime.transition('stopping');
    }
    const timeout = this.config.get('app.shutdownTimeout' as never) as number;
    let pending = 'providers';
    const work = (async () => {
      const errors = await this.#providers.shutdown();
      pending = 'shutdown callbacks';
      for (const callback of [...this.#shutdownCallbacks].reverse()) {
        try {
          await callback();
        } catch (error) {
          errors.push(error as Error);
        }
      }
      pending = 'container disposal';
      await this.container.dispose().catch((error: unknown) => errors.push(error as Error));
      for (const error of errors) this.logger.error({ err: error }, 'error during shutdown');
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new E_SHUTDOWN_TIMEOUT(timeout, pending)), timeout);
      timer.unref();
    });
    try {
      await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
      for (const runtime of this.runtimes.all()) {
        if (runtime.state === 'stopping') runtime.transition('stopped');
      }
      this.lifecycle.transition('stopped');
      this.#writeRuntimeSnapshot();
    }
  }

  #phaseSync(target: AppState, fn: () => void): void {
    if (!this.lifecycle.can(target))
      throw new E_ILLEGAL_STATE_TRANSITION(this.lifecycle.state, target);
    const start = performance.now();
    try {
      fn();
    } catch (error) {
      this.#fail(target, error);
    }
    this.profiler?.record({
      kind: 'phase',
      name: phaseName(target),
      ms: performance.now() - start,
    });
    this.lifecycle.transition(target);
  }

  async #phase(target: AppState, fn: () => Promise<void>): Promise<void> {
    if (!this.lifecycle.can(target))
      throw new E_ILLEGAL_STATE_TRANSITION(this.lifecycle.state, target);
    const start = performance.now();
    try {
      await fn();
    } catch (error) {
      this.#fail(target, error);
    }
    this.profiler?.record({
      kind: 'phase',
      name: phaseName(target),
      ms: performance.now() - start,
    });
    this.lifecycle.transition(target);
  }

  #fail(target: AppState, error: unknown): never {
    const module = isKeelError(error) ? (error.details?.module as string | undefined) : undefined;
    if (module) this.runtimes.get(module)?.fail(error);
    this.lifecycle.transition('failed');
    this.#writeRuntimeSnapshot();
    const message = error instanceof Error ? error.message : String(error);
    throw new E_APP_FAILED(phaseName(target), message).withCause(error);
  }

  #writeRuntimeSnapshot(): void {
    if (this.environment === 'console' || this.environment === 'test') return;
    this.runtimes
      .writeSnapshot(`${this.paths.state}/module-runtime.json`)
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'could not write module runtime snapshot');
      });
  }
}

function phaseName(target: AppState): string {
  return (
    { registered: 'register', booted: 'boot', started: 'start', ready: 'ready' }[
      target as string
    ] ?? target
  );
}

function dropUndefined(
  values: Record<string, string | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values ?? {}))
    if (value !== undefined) out[key] = value;
  return out;
}

function withModule(command: unknown, module: string): unknown {
  return command && typeof command === 'object' ? { ...command, module } : command;
}
