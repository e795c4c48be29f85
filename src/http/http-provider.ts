import { existsSync } from 'node:fs';
import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
import { parseAppKey } from '../kernel/index.js';
import { resolveLazy } from '../modules/index.js';
import { EtaViewEngine, type ViewEngine } from '../view/index.js';
import type { BodyOptions } from './body/index.js';
import { createHttpClient, type HttpClient } from './client/index.js';
import {
  ErrorAggregator,
  ErrorReporterRegistry,
  installLastResortHandlers,
  loggerReporter,
} from './errors/index.js';
import { HttpKernel } from './http-kernel.js';
import type { CompiledRoute } from './pipeline.js';
import {
  discoverControllers,
  type Router,
  type RouteTable,
  registerControllers,
} from './router/index.js';
import { createTrustResolver, HttpServer } from './server/index.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    http: HttpKernel;
    'http.routes': RouteTable<CompiledRoute>;
    'http.reporters': ErrorReporterRegistry;
    'http.client': HttpClient;
    view: ViewEngine;
  }
}

/** A module's `routes.ts`: a function receiving the module's router and the application. */
export type RoutesDefinition = (router: Router, app: Application) => unknown;

/** HTTP settings, from `config/http.ts` (namespace `http`) with env fallbacks. */
export interface HttpSettings {
  port: number;
  host: string;
  trustProxy: boolean | number | string | string[];
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  shutdownTimeout: number;
}

function settings(app: Application): HttpSettings {
  const get = <T>(key: string, fallback: T): T =>
    (app.config.get(`http.${key}` as never) as T | undefined) ?? fallback;
  return {
    port: get('port', Number(app.env.get('PORT' as never) ?? 3000)),
    host: get('host', String(app.env.get('HOST' as never) ?? '127.0.0.1')),
    trustProxy: get('trustProxy', false),
    requestTimeout: get('requestTimeout', 30_000),
    headersTimeout: get('headersTimeout', 20_000),
    keepAliveTimeout: get('keepAliveTimeout', 5_000),
    maxHeaderSize: get('maxHeaderSize', 16_384),
    shutdownTimeout: get(
      'shutdownTimeout',
      app.config.get('app.shutdownTimeout' as never) as number,
    ),
  };
}

/**
 * Keys verifying signed cookies: `APP_KEY` signs, and the previous keys (`app.previous_keys`
 * or `APP_PREVIOUS_KEYS`, comma-separated) keep verifying during a key rotation.
 */
function cookieSecrets(app: Application, key: string): Buffer[] {
  const configured = app.config.get('app.previous_keys' as never) as unknown;
  const previous =
    typeof configured === 'string' || Array.isArray(configured)
      ? configured
      : (app.env.variable('APP_PREVIOUS_KEYS') ?? '');
  const list = typeof previous === 'string' ? previous.split(',') : previous;
  const entries = list.filter((k): k is string => typeof k === 'string' && k.trim() !== '');
  return [parseAppKey(key), ...entries.map((k) => parseAppKey(k))];
}

/**
 * Binds the HTTP kernel (`app.make('http')`), collects every enabled module's routes, and in
 * the `http` environment starts the server, closing it gracefully on shutdown.
 */
export class HttpProvider extends ServiceProvider<Application> {
  #server: HttpServer | undefined;

  #uninstallLastResort: (() => void) | undefined;

  override register(): void {
    const app = this.app;
    app.container.singleton('http.reporters', () => {
      const reporters = new ErrorReporterRegistry({ logger: app.logger });
      reporters.add(loggerReporter(app.logger));
      // Errors aggregated by fingerprint for `keel errors:top`.
      const aggregator = new ErrorAggregator({
        file: `${app.paths.state}/errors.json`,
        root: app.paths.root,
      });
      reporters.add(aggregator.reporter);
      app.onShutdown(() => aggregator.close());
      return reporters;
    });
    app.container.singleton('http.routes', () => app.make('http').routes);
    app.container.singleton('http.client', () =>
      createHttpClient(app.config.get('http.client' as never) ?? {}),
    );
    app.container.singleton('view', () => {
      const engine = new EtaViewEngine({
        root: `${app.paths.root}/views`,
        cache: app.env.isProduction,
        helpers: { appName: app.name },
      });
      // Each module's views answer to `<module>::name`.
      for (const module of app.modules) {
        const folder = module.manifest.views ?? 'views';
        const dir = `${module.dir}/${folder}`;
        if (existsSync(dir)) engine.addNamespace(module.manifest.name, dir);
      }
      return engine;
    });
    app.container.singleton('http', () => {
      const config = settings(app);
      const trust = createTrustResolver(config.trustProxy);
      const key = app.env.get('APP_KEY' as never) as string | undefined;
      const reporters = app.make('http.reporters');
      return new HttpKernel({
        container: app.container,
        logger: app.logger,
        debug: app.env.debug,
        clientIp: (req) => trust.clientIp(req),
        protocol: (req) => trust.protocol(req),
        host: (req) => trust.host(req),
        reporters,
        ...(key ? { cookieSecrets: cookieSecrets(app, key) } : {}),
        controllerFactory: (controller) => app.container.make(controller as never),
        views: () => app.make('view'),
        ...(app.config.get('http.body' as never)
          ? { body: app.config.get('http.body' as never) as BodyOptions }
          : {}),
        httpClient: () => app.make('http.client'),
      });
    });
  }

  override async boot(): Promise<void> {
    const kernel = this.app.make('http');
    // Import every module's routes at once (overlapping file reads), register in order.
    const allRoutes = await Promise.all(
      this.app.modules.map((m) => resolveLazy(m.manifest.routes as never)),
    );
    for (const [index, module] of this.app.modules.entries()) {
      const routes = allRoutes[index];
      if (typeof routes !== 'function') continue;
      const router = kernel.createRouter(module.manifest.name);
      await (routes as RoutesDefinition)(router, this.app);
      kernel.addRoutes(router);
    }
    // Decorated controllers (`@Controller`, `@Get`, ...) in each module's controllers/ folder.
    for (const module of this.app.modules) {
      const dir = `${module.dir}/controllers`;
      if (!existsSync(dir)) continue;
      const controllers = await discoverControllers(dir);
      if (controllers.length === 0) continue;
      const router = kernel.createRouter(module.manifest.name);
      registerControllers(router, controllers, (controller) =>
        this.app.container.make(controller as never),
      );
      kernel.addRoutes(router);
    }
    this.app.addArtifact('routes', () => kernel.routes.list().map((route) => ({ ...route })));
  }

  override async start(): Promise<void> {
    const kernel = this.app.make('http');
    // Compose every route now that all providers have registered their middleware.
    const serving = this.app.environment === 'http';
    const table = kernel.build({ deferCompile: serving });
    if (!serving) return;
    const config = settings(this.app);
    this.#server = new HttpServer(kernel.handle, {
      port: config.port,
      host: config.host,
      requestTimeout: config.requestTimeout,
      headersTimeout: config.headersTimeout,
      keepAliveTimeout: config.keepAliveTimeout,
      maxHeaderSize: config.maxHeaderSize,
      logger: this.app.logger,
    });
    this.#uninstallLastResort = installLastResortHandlers({
      logger: this.app.logger,
      reporters: this.app.make('http.reporters'),
      shutdown: () => this.app.shutdown('fatal error'),
    });
    const { url } = await this.#server.listen();
    // The tree matcher serves the first requests; generate the fast matcher once idle.
    setTimeout(() => table.optimize(), 50).unref();
    this.app.readyMessages.push(`HTTP listening on ${url}`);
  }

  override async shutdown(): Promise<void> {
    this.#uninstallLastResort?.();
    await this.#server?.close({ timeout: settings(this.app).shutdownTimeout });
  }
}
