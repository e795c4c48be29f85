import { HttpContext } from '../http/index.js';
import { E_SESSION_NOT_STARTED } from './errors.js';
import type { Session } from './session.js';

declare module '../http/context.js' {
  interface HttpContext {
    /**
     * The visitor's session. Throws `E_SESSION_NOT_STARTED` when the route does not run the
     * `session` middleware.
     */
    readonly session: Session;
  }
}

const sessions = new WeakMap<HttpContext, Session>();

/** The request's session, or undefined when the `session` middleware did not run. */
export function sessionOf(ctx: HttpContext): Session | undefined {
  return sessions.get(ctx);
}

export function attachSession(ctx: HttpContext, session: Session): void {
  sessions.set(ctx, session);
}

// A getter on the prototype, not a field set per request: contexts without sessions pay
// nothing, and reading it without the middleware says what is missing.
if (!Object.hasOwn(HttpContext.prototype, 'session'))
  Object.defineProperty(HttpContext.prototype, 'session', {
    configurable: true,
    enumerable: false,
    get(this: HttpContext): Session {
      const session = sessions.get(this);
      if (!session) throw new E_SESSION_NOT_STARTED(`${this.method} ${this.path}`);
      return session;
    },
  });
