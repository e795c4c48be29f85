import type { Awaitable } from '../support/index.js';
import type { Container } from './container.js';
import type { BindingKey } from './token.js';

/** What a provider needs from the application: at least its container. */
export interface ProviderHost {
  readonly container: Container;
}

/** The lifecycle phases a provider can take part in, in the order they run. */
export type ProviderPhase = 'register' | 'boot' | 'start' | 'ready' | 'shutdown';

/**
 * A unit that binds services into the container and takes part in the application
 * lifecycle. Every hook is optional; `register()` only binds (it is synchronous and must not
 * resolve anything), `boot()` may resolve and wire, `start()` opens listeners and workers,
 * `ready()` runs once everything is started, `shutdown()` releases (in reverse order).
 *
 * A provider with a non-empty `static provides` is deferred: it is registered and booted
 * only when one of those keys is first resolved.
 *
 * @example
 * ```ts
 * export class MailProvider extends ServiceProvider {
 *   static override provides = ['mailer'];
 *   override register() {
 *     this.app.container.singleton('mailer', () => new SmtpMailer());
 *   }
 *   override async shutdown() {
 *     await this.app.container.make('mailer').close();
 *   }
 * }
 * ```
 */
export abstract class ServiceProvider<App extends ProviderHost = ProviderHost>
  implements ProviderHooks
{
  /** Keys this provider binds; non-empty makes it deferred. */
  static provides?: readonly BindingKey[];

  constructor(protected readonly app: App) {}

  register?(): void;
  boot?(): Awaitable<void>;
  start?(): Awaitable<void>;
  ready?(): Awaitable<void>;
  shutdown?(): Awaitable<void>;
}

/** The hooks the registry calls on a provider instance. */
export interface ProviderHooks {
  register?(): void;
  boot?(): Awaitable<void>;
  start?(): Awaitable<void>;
  ready?(): Awaitable<void>;
  shutdown?(): Awaitable<void>;
}

/**
 * A concrete provider class for an application type. The instance side is structural, so a
 * provider written against the base `ProviderHost` fits a registry of a richer `App`.
 */
export type ProviderClass<App extends ProviderHost = ProviderHost> = (new (
  app: App,
) => ProviderHooks) & {
  readonly provides?: readonly BindingKey[];
};
