import { HttpContext, type MiddlewareFn } from '../../http/index.js';
import type { CsrfGuard } from './csrf-guard.js';
import { E_CSRF_NOT_STARTED } from './errors.js';

declare module '../../http/context.js' {
  interface HttpContext {
    /**
     * The session's CSRF token for a form's `csrf_token` field or a page's
     * `<meta name="csrf-token">`. Throws `E_CSRF_NOT_STARTED` on a route without the `csrf`
     * middleware.
     */
    csrfToken(): string;
  }
}

const guards = new WeakMap<HttpContext, CsrfGuard>();

if (!Object.hasOwn(HttpContext.prototype, 'csrfToken'))
  Object.defineProperty(HttpContext.prototype, 'csrfToken', {
    configurable: true,
    enumerable: false,
    writable: true,
    value(this: HttpContext): string {
      const guard = guards.get(this);
      if (guard === undefined) throw new E_CSRF_NOT_STARTED(`${this.method} ${this.path}`);
      return guard.token(this.session);
    },
  });

/**
 * The `csrf` middleware: after `session`, refuses unsafe requests without the session's
 * token (403 problem+json), makes `ctx.csrfToken()` available, and keeps the `XSRF-TOKEN`
 * cookie (readable by scripts, `SameSite=Lax`, `Secure` over HTTPS) equal to the token, so
 * SPA clients can echo it in `X-XSRF-TOKEN`. The cookie is only written when it differs
 * from the token, and a token only issued when a page needs one or the cookie is on.
 *
 * @example
 * ```ts
 * kernel.middleware.register('csrf', () => csrfMiddleware(new CsrfGuard(config)), { priority: -50 });
 * router.post('/orders', placeOrder).middleware(['session', 'csrf']);
 * ```
 */
export function csrfMiddleware(guard: CsrfGuard): MiddlewareFn {
  const cookie = guard.config.cookie;
  return async function csrf(ctx, next) {
    const session = ctx.session;
    if (guard.applies(ctx)) await guard.verify(ctx, session);
    guards.set(ctx, guard);
    ctx.shareWithViews({ csrfToken: () => guard.token(session) });
    if (cookie !== false) {
      const token = guard.token(session);
      if (ctx.cookies[cookie] !== token)
        ctx.cookie(cookie, token, {
          path: '/',
          sameSite: 'lax',
          secure: ctx.secure,
          httpOnly: false,
        });
    }
    await next();
  };
}
