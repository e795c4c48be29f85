import { ServiceProvider } from '../container/index.js';
import type { Application } from '../kernel/index.js';
import { type CorsPolicy, compileCorsPolicy, corsHook, corsMiddleware } from './cors/index.js';
import { E_SECURITY_CONFIG_INVALID } from './errors.js';
import {
  type ResolvedHeadersProfile,
  resolveHeadersConfig,
  securityHeadersFactory,
} from './headers/index.js';
import { type HttpsPolicy, httpsHook, resolveHttpsPolicy } from './https/index.js';
import { compileIpLists, type IpMatcher, ipAllowlist } from './ip/index.js';
import { compileSanitizeProfiles, sanitizeFactory } from './sanitize/index.js';

declare module '../container/container.js' {
  interface ContainerBindings {
    /** The named IP allowlists of `security.ip.lists`, compiled. */
    'security.ip.lists': ReadonlyMap<string, IpMatcher>;
  }
}

/**
 * Middleware priorities: the IP allowlist refuses before anything else works for the
 * request, CORS and headers wrap whatever answers (errors included), and sanitizing runs
 * innermost, right before the route's validation.
 */
export const SECURITY_MIDDLEWARE_PRIORITY = {
  allowIp: 300,
  cors: 250,
  security: 200,
  sanitize: -100,
} as const;

/**
 * The HTTP security middleware: `security[:profile]` (headers), `cors`, `allow_ip:<lists>`
 * and `sanitize[:profile]` aliases, plus two kernel hooks that run before routing when
 * configured: HTTPS enforcement (`security.https` / `FORCE_HTTPS`) and CORS
 * (`security.cors`). Every setting is validated at register, so a typo fails the boot.
 *
 * @example
 * ```ts
 * // config/security.ts
 * export default {
 *   headers: { contentSecurityPolicy: { nonce: true } },
 *   cors: { origins: ['https://app.example.com'], credentials: true },
 *   ip: { lists: { office: ['10.0.0.0/8'] } },
 * };
 * // routes.ts
 * router.group({ prefix: '/api', middleware: ['security:api', 'allow_ip:office'] }, (r) => { ... });
 * ```
 */
export class SecurityMiddlewareProvider extends ServiceProvider<Application> {
  #headers: Map<string, ResolvedHeadersProfile> | undefined;
  #cors: CorsPolicy | undefined;
  #https: HttpsPolicy | undefined;
  #sanitize: ReturnType<typeof compileSanitizeProfiles> | undefined;

  override register(): void {
    const app = this.app;
    const config = (key: string): unknown => app.config.get(`security.${key}` as never);
    this.#headers = resolveHeadersConfig(config('headers'));
    this.#cors = compileCorsPolicy(config('cors'));
    this.#https = resolveHttpsPolicy(config('https'), app.env.variable('FORCE_HTTPS'));
    this.#sanitize = compileSanitizeProfiles(config('sanitize'));
    const lists = compileIpLists(config('ip'));
    app.container.singleton('security.ip.lists', () => lists);
  }

  override boot(): void {
    if (!this.app.container.bound('http')) return;
    const kernel = this.app.make('http');
    const lists = this.app.make('security.ip.lists');
    const cors = this.#cors;
    const registry = kernel.middleware;
    const priority = SECURITY_MIDDLEWARE_PRIORITY;
    registry.register(
      'security',
      securityHeadersFactory(this.#headers ?? resolveHeadersConfig(undefined), {
        production: this.app.env.isProduction,
      }),
      { priority: priority.security },
    );
    registry.register('allow_ip', (args) => ipAllowlist(args, lists), {
      priority: priority.allowIp,
    });
    registry.register(
      'cors',
      () => {
        if (cors === undefined)
          throw new E_SECURITY_CONFIG_INVALID(
            'security.cors',
            'the cors middleware needs security.cors (with origins) and enabled !== false',
          );
        return corsMiddleware(cors);
      },
      { priority: priority.cors },
    );
    registry.register(
      'sanitize',
      sanitizeFactory(this.#sanitize ?? compileSanitizeProfiles(undefined)),
      {
        priority: priority.sanitize,
      },
    );
    // Hooks only when configured: a kernel without them pays nothing per request. HTTPS
    // first, so a plain-HTTP preflight is redirected rather than answered.
    if (this.#https !== undefined) kernel.beforeRouting(httpsHook(this.#https));
    if (cors !== undefined) kernel.beforeRouting(corsHook(cors, kernel));
  }
}
