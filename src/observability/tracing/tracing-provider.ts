import { ServiceProvider } from '../../container/index.js';
import type { MiddlewareFn, TerminatingMiddleware } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import { resolveTracingConfig, type TracingConfig } from './config.js';
import { Tracing } from './tracing.js';
// Types only: the OpenTelemetry SDK and the instruments load at boot, when tracing is on.
import type { TracingRuntime } from './tracing-runtime.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    tracing: Tracing;
  }
}

/** `tracing` on routes when every request is traced anyway, or tracing is off. */
const passThrough: MiddlewareFn = (_ctx, next) => next();

/**
 * Binds `app.make('tracing')` from the `tracing` config (and TRACING_* / OTEL_* variables)
 * and, when tracing is on, wires OpenTelemetry into the framework: a server span per
 * request (or per route using the `tracing` middleware), a client span per SQL statement
 * and per cache call, a consumer span per job continuing its dispatcher's trace. Off (the
 * default), it loads no OpenTelemetry package and registers no instrument or listener.
 * At shutdown, after every other provider, it exports the spans still buffered.
 */
export class TracingProvider extends ServiceProvider<Application> {
  #config: TracingConfig | undefined;
  #tracing: Tracing | undefined;

  override register(): void {
    const app = this.app;
    // Validated here: a broken config fails the boot, not the first export.
    this.#config = resolveTracingConfig(app.config.get('tracing' as never), (name) =>
      app.env.variable(name),
    );
    app.container.singleton('tracing', () => {
      if (!this.#tracing) throw new Error('TracingProvider: tracing is set up at boot');
      return this.#tracing;
    });
  }

  override async boot(): Promise<void> {
    const config = this.#config;
    if (!config) return;
    const app = this.app;
    if (!config.enabled) {
      this.#tracing = new Tracing(config);
      this.#middleware(passThrough);
      return;
    }
    const { startTracing } = await import('./tracing-runtime.js');
    const runtime = await startTracing({
      config,
      serviceName: config.serviceName ?? app.name,
      serviceVersion:
        config.serviceVersion ?? String(app.config.get('app.version' as never) ?? '0.0.0'),
      resource: { 'deployment.environment.name': app.env.appEnv, 'process.pid': process.pid },
      logger: app.logger,
    });
    this.#tracing = new Tracing(config, runtime);
    const undo = await this.#wire(config, runtime);
    // After the providers' shutdown: workers have finished their jobs, requests are done,
    // so the last spans are ended before the exporter flushes them.
    app.onShutdown(async () => {
      for (const off of undo) off();
      await runtime.stop();
    });
  }

  /** Plug the instruments in; returns what removes them. */
  async #wire(config: TracingConfig, runtime: TracingRuntime): Promise<Array<() => void>> {
    const app = this.app;
    const { tracer, propagator } = runtime;
    const undo: Array<() => void> = [];
    const { executionContext } = await import('../../kernel/index.js');
    const jobs = await import('./job-tracing.js');
    // Dispatch copies the scope into the job's meta: with this, `traceparent` rides along.
    undo.push(executionContext.addPropagator(jobs.traceContextPropagator(propagator)));

    if (app.container.bound('http')) {
      const http = await import('./request-tracing.js');
      const options = { tracer, propagator };
      // `as never`: instrument() takes RequestInstrument<never>, which no typed state fits.
      if (config.http === 'global')
        app.make('http').instrument(http.requestTracingInstrument(options) as never);
      this.#middleware(
        config.http === 'middleware' ? http.requestTracingMiddleware(options) : passThrough,
      );
    }
    if (config.queries && app.container.bound('db')) {
      const { queryTracingListener } = await import('./query-tracing.js');
      const db = app.make('db');
      undo.push(
        db.onQuery(
          queryTracingListener({
            tracer,
            connection: (name) => db.config.connections[name],
            requireParent: config.requireParent,
          }),
        ),
      );
    }
    if (config.cache && app.container.bound('cache')) {
      const { cacheTracingObserver } = await import('./cache-tracing.js');
      const { observeCache } = await import('../../cache/index.js');
      observeCache(
        cacheTracingObserver({
          tracer,
          requireParent: config.requireParent,
          keys: config.cacheKeys,
        }),
      );
      undo.push(() => observeCache(undefined));
    }
    if (config.jobs && app.container.bound('queue'))
      app.make('queue').instrument(jobs.jobTracingInstrument(tracer) as never);
    return undo;
  }

  /** The `tracing` middleware alias, so routes naming it compile whatever the mode. */
  #middleware(middleware: MiddlewareFn | TerminatingMiddleware): void {
    if (!this.app.container.bound('http')) return;
    this.app.make('http').middleware.register('tracing', () => middleware);
  }
}
