import { ServiceProvider } from '../../container/index.js';
import type { RequestInstrument } from '../../http/index.js';
import { type Application, type LoggingConfig, resolveLoggingConfig } from '../../kernel/index.js';
import type { JobInstrument } from '../../queue/index.js';
import { jobLogInstrument } from './job-log-instrument.js';
import { requestLogInstrument } from './request-log-instrument.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** The resolved `logging` config namespace. */
    'logging.config': LoggingConfig;
  }
}

/**
 * Request and job logs: one line per HTTP request (`logging.requests`) and per job attempt
 * (`logging.jobs`), and a request scope for every request even when the access log is off,
 * so each line logged while serving it carries its `request_id`. The logger itself, its
 * channels and redaction are the kernel's (built from `config/logging.ts` before any
 * provider runs).
 *
 * @example
 * ```ts
 * // src/cli/framework-providers.ts lists it; a test app adds it by hand:
 * const app = await Application.create({ root, environment: 'http', providers: [HttpProvider, LoggingProvider] });
 * ```
 */
export class LoggingProvider extends ServiceProvider<Application> {
  #config: LoggingConfig | undefined;

  override register(): void {
    const app = this.app;
    // Validated again here: a test app or `options.logger` skips the kernel's logger build.
    this.#config = resolveLoggingConfig(app.config.get('logging' as never), {
      env: (name) => app.env.variable(name),
      production: app.env.isProduction,
    });
    app.container.value('logging.config', this.#config);
  }

  // At boot, after the HTTP and queue providers booted: workers copy the queue's
  // instruments when they are built, at start.
  override boot(): void {
    const app = this.app;
    const config = this.#config!;
    // `instrument()` takes `Instrument<never>` (its state is private to the instrument), to
    // which no concrete state type is assignable: hence the casts.
    if (app.container.bound('http')) {
      const instrument: RequestInstrument<unknown> = config.requests.enabled
        ? (requestLogInstrument(app.logger, {
            skip: config.requests.skip,
          }) as RequestInstrument<unknown>)
        : // No access log, but the kernel still opens a scope per request for request_id.
          { name: 'logging.context', end() {} };
      app.make('http').instrument(instrument as RequestInstrument<never>);
    }
    if (config.jobs.enabled && app.container.bound('queue')) {
      app.make('queue').instrument(jobLogInstrument(app.logger) as JobInstrument<unknown> as never);
    }
  }
}
