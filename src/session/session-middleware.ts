import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type SerializeOptions, serialize } from 'cookie';
import type { HttpContext, MiddlewareFn } from '../http/index.js';
import type { SessionConfig } from './config.js';
import type { Session } from './session.js';
import { attachSession, sessionOf } from './session-context.js';
import type { SessionCommit, SessionManager } from './session-manager.js';

export interface SessionMiddlewareOptions {
  manager: SessionManager;
  cookie: SessionConfig['cookie'];
  /** Told when a session could not be saved after its response head went out. */
  onError?: (error: unknown) => void;
}

/**
 * The `session` middleware: loads the session named by the cookie (or starts a fresh one),
 * exposes it as `ctx.session`, and saves it as the response is written.
 *
 * Keel writes the response from inside the handler, so the middleware cannot save after
 * `next()` and still set a cookie. It hooks this response instead: when the head is
 * written it decides synchronously what to save and adds the `Set-Cookie`; the end of the
 * response then waits for the store write, so the client cannot send its next request
 * before the session it depends on is stored (a redirect after login, a flash message).
 *
 * @example
 * ```ts
 * router.get('/dashboard', (ctx) => ({ user: ctx.session.userId })).middleware(['session']);
 * ```
 */
export function sessionMiddleware(options: SessionMiddlewareOptions): MiddlewareFn {
  const { manager, cookie } = options;
  const onError = options.onError ?? (() => {});
  const base: SerializeOptions = {
    httpOnly: true,
    sameSite: cookie.sameSite,
    secure: cookie.secure,
    path: '/',
  };
  const maxAge = Math.floor(manager.lifetime.idleMs / 1000);
  const header = (plan: SessionCommit): string | undefined => {
    if (plan.cookie === 'set') return serialize(cookie.name, plan.value ?? '', { ...base, maxAge });
    if (plan.cookie === 'clear')
      return serialize(cookie.name, '', { ...base, maxAge: 0, expires: new Date(0) });
    return undefined;
  };
  return async (ctx: HttpContext, next) => {
    // Listed twice (a group and a route): the first one owns the session.
    if (sessionOf(ctx)) return next();
    const session = await manager.start(ctx.cookies[cookie.name]);
    attachSession(ctx, session);
    hookResponse(ctx, session, manager, header, onError);
    return next();
  };
}

function hookResponse(
  ctx: HttpContext,
  session: Session,
  manager: SessionManager,
  header: (plan: SessionCommit) => string | undefined,
  onError: (error: unknown) => void,
): void {
  const res = ctx.res;
  const writeHead = res.writeHead;
  const end = res.end;
  let decided = false;
  let persisting: Promise<void> | undefined;

  // Runs once, as the head is written (explicitly, or implicitly by the first write or
  // end). Marked decided first: if it throws (a session too large for its cookie), the
  // error response written next must not throw again.
  const decide = (headers: OutgoingHttpHeaders | undefined): void => {
    if (decided) return;
    decided = true;
    const plan = manager.prepare(session, {
      ip: ctx.ip || null,
      userAgent: ctx.header('user-agent') ?? null,
    });
    const cookie = header(plan);
    if (cookie !== undefined) addSetCookie(res, cookie, headers);
    if (plan.persist) persisting = plan.persist().catch(onError);
  };

  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const last = args.at(-1);
    const headers =
      typeof last === 'object' && last !== null && !Array.isArray(last)
        ? (last as OutgoingHttpHeaders)
        : undefined;
    decide(headers);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];

  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (!this.headersSent) {
      try {
        headForEnd(this, args[0], args[1]);
      } catch (error) {
        onError(error);
      }
    }
    const pending = persisting;
    persisting = undefined;
    if (pending === undefined)
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    void pending.then(() => (end as (...a: unknown[]) => ServerResponse).apply(this, args));
    return this;
  } as ServerResponse['end'];
}

/**
 * Write the head now, with the length `end(chunk)` would have computed, so the response
 * counts as sent (`ctx.sent`) while its end waits for the store.
 */
function headForEnd(res: ServerResponse, chunk: unknown, encoding: unknown): void {
  const status = res.statusCode;
  const bodyless = status === 204 || status === 304 || status < 200;
  if (!bodyless && !res.hasHeader('content-length') && !res.hasHeader('transfer-encoding')) {
    if (typeof chunk === 'string')
      res.setHeader(
        'content-length',
        `${Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')}`,
      );
    else if (chunk instanceof Uint8Array) res.setHeader('content-length', `${chunk.byteLength}`);
    else if (chunk === undefined || chunk === null || typeof chunk === 'function')
      res.setHeader('content-length', '0');
  }
  res.writeHead(status);
}

/** Add a Set-Cookie to the head about to be written, next to any already there. */
function addSetCookie(
  res: ServerResponse,
  cookie: string,
  headers: OutgoingHttpHeaders | undefined,
): void {
  // writeHead(status, headers) replaces a Set-Cookie set earlier by one in `headers`: add
  // ours to that one then.
  const key = headers && Object.keys(headers).find((k) => k.toLowerCase() === 'set-cookie');
  if (headers && key !== undefined) {
    const current = headers[key] as OutgoingHttpHeader;
    headers[key] = [...(Array.isArray(current) ? current : [String(current)]), cookie];
    return;
  }
  res.appendHeader('set-cookie', cookie);
}
