import type { MiddlewareFn } from '../../http/index.js';
import { E_FORBIDDEN } from '../../http/index.js';
import type { AuthManager } from '../auth-manager.js';
import { unauthenticated } from '../authenticator.js';

/**
 * The `can` middleware: `can:orders.create` lets the request through when the user may do
 * the ability (gates, then permissions); a guest gets 401, a user without it 403
 * (`E_FORBIDDEN`, and `auth.authorization.denied`). A request authenticated by an API
 * token must also hold the ability on the token (or `*`). Put it after `auth:<guard>`;
 * alone it tries the default guard.
 *
 * @example
 * ```ts
 * router.post('/orders', createOrder).middleware(['auth:api', 'can:orders.create']);
 * ```
 */
export function canMiddleware(
  manager: () => AuthManager<unknown>,
): (args: string[]) => MiddlewareFn {
  return (args) => {
    const [ability] = args;
    if (ability === undefined || ability === '' || args.length !== 1)
      throw new TypeError(
        `the can middleware takes one ability (can:orders.create), got "can:${args.join(',')}"`,
      );
    return async function can(ctx, next) {
      if (ctx.auth.user === undefined && (await ctx.auth.attempt()) === undefined)
        throw unauthenticated(manager(), []);
      if (!ctx.auth.tokenCan(ability)) {
        await manager().emit('auth.authorization.denied', {
          ability,
          userId: ctx.auth.userId,
          by: 'token',
          requestId: ctx.requestId,
        });
        throw new E_FORBIDDEN(`This action is unauthorized: ${ability}`);
      }
      await ctx.auth.authorize(ability);
      return next();
    };
  };
}
