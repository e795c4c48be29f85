import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';

/**
 * The default middleware groups, from the security aliases the application registered:
 *
 * - `web` — `security` (headers), `session`, `csrf`: pages and forms;
 * - `api` — `throttle` (the default limiter), `security:api` (headers for JSON APIs).
 *
 * An app extends a group with `kernel.middleware.group('web', [...])` from its own
 * provider, or routes pick the aliases one by one. An alias whose subsystem is not
 * registered is left out, so the groups exist in every app.
 *
 * @example
 * ```ts
 * router.group({ groups: ['web'] }, (router) => {
 *   router.post('/orders', placeOrder); // headers, session and CSRF
 * });
 * ```
 */
export class SecurityGroupsProvider extends ServiceProvider<Application> {
  override boot(): void {
    if (!this.app.container.bound('http')) return;
    const registry = this.app.make('http').middleware;
    const present = (refs: string[]) => refs.filter((ref) => registry.has(ref.split(':')[0]!));
    registry.group('web', present(['security', 'session', 'csrf']));
    registry.group('api', present(['throttle', 'security:api']));
  }
}
