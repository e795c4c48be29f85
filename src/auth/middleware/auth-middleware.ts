import type { HttpContext, MiddlewareFn } from '../../http/index.js';
import type { AuthManager } from '../auth-manager.js';
import { unauthenticated } from '../authenticator.js';

/**
 * The `auth` middleware: `auth` (the default guard), `auth:api`, `auth:web,api` (the first
 * that recognises the request). Without a user, an API request (a token guard among those
 * asked, or `Accept`/`Content-Type` JSON, or `X-Requested-With: XMLHttpRequest`) gets a 401
 * problem+json (`E_UNAUTHENTICATED`, with `WWW-Authenticate: Bearer` for token guards); a
 * browser is redirected to `auth.loginRoute`.
 *
 * @example
 * ```ts
 * router.get('/orders', listOrders).middleware(['auth:api']);
 * ```
 */
export function authMiddleware(
  manager: () => AuthManager<unknown>,
  loginUrl: () => string,
): (args: string[]) => MiddlewareFn {
  return (args) => {
    const guards = args.filter((a) => a !== '');
    // A misspelt guard fails the boot (routes compile at start), not the first request.
    for (const name of guards.length === 0 ? [manager().config.default] : guards)
      manager().guard(name);
    return async function auth(ctx, next) {
      const user = await ctx.auth.attempt(guards);
      if (user !== undefined) return next();
      const m = manager();
      const names = guards.length === 0 ? [m.config.default] : guards;
      const api = names.some((name) => m.config.guards[name]?.driver === 'token');
      if (api || wantsJson(ctx)) throw unauthenticated(m, guards);
      ctx.redirect(loginUrl(), 302);
    };
  };
}

/** True for a request that expects data, not a page. */
export function wantsJson(ctx: HttpContext): boolean {
  const accept = ctx.header('accept') ?? '';
  if (/\bjson\b/i.test(accept)) return true;
  if ((ctx.header('x-requested-with') ?? '').toLowerCase() === 'xmlhttprequest') return true;
  // A browser navigation sends Accept: text/html; an API client usually sends no Accept.
  if (accept === '' && /\bjson\b/i.test(ctx.header('content-type') ?? '')) return true;
  return false;
}
