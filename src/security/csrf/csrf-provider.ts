import { ServiceProvider } from '../../container/index.js';
import type { Application } from '../../kernel/index.js';
import { type CsrfConfig, resolveCsrfConfig } from './csrf-config.js';
import { CsrfGuard } from './csrf-guard.js';
import { csrfMiddleware } from './csrf-middleware.js';

declare module '../../container/container.js' {
  interface ContainerBindings {
    /** The CSRF guard built from `security.csrf` (tokens, verification). */
    'security.csrf': CsrfGuard;
  }
}

/** Inside `session` (priority 0), outside the route's sanitizers and validation. */
export const CSRF_MIDDLEWARE_PRIORITY = -50;

/**
 * CSRF protection for web routes: binds `security.csrf` from `config/security.ts` (`csrf`
 * key, validated at register) and registers the `csrf` middleware alias, which needs the
 * `session` middleware on the same route (the `web` group has both).
 *
 * @example
 * ```ts
 * // config/security.ts
 * export default { csrf: { exempt: ['/webhooks/*'], lifetime: '2h' } };
 * ```
 */
export class CsrfProvider extends ServiceProvider<Application> {
  #config: CsrfConfig | undefined;

  override register(): void {
    const config = resolveCsrfConfig(this.app.config.get('security.csrf' as never));
    this.#config = config;
    this.app.container.singleton('security.csrf', () => new CsrfGuard(config));
  }

  override boot(): void {
    if (!this.#config || !this.app.container.bound('http')) return;
    const middleware = csrfMiddleware(this.app.make('security.csrf'));
    this.app
      .make('http')
      .middleware.register('csrf', () => middleware, { priority: CSRF_MIDDLEWARE_PRIORITY });
  }
}
