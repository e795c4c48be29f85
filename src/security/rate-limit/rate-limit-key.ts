import { createHash } from 'node:crypto';
import type { HttpContext } from '../../http/index.js';
import type { RateLimitKey } from './rate-limit-config.js';

/** Returns the signed-in user's id of a request, if any. */
export type UserIdResolver = (ctx: HttpContext) => string | number | undefined;

/** The default: `ctx.state.user.id`, else `ctx.state.authId`. */
export const defaultUserId: UserIdResolver = (ctx) => {
  const state = ctx.state;
  const user = state.user as { id?: unknown } | null | undefined;
  const id = user !== null && typeof user === 'object' ? user.id : state.authId;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
};

/**
 * Longest client key stored as given; anything longer is hashed. With the longest prefix
 * and limiter name (64 each) the stored key stays within the table's 255 bytes.
 */
const MAX_PLAIN = 100;
/** Printable ASCII without spaces, and not starting with `#` (the hashed form's mark). */
const PLAIN = /^[!"$-~][!-~]*$/;

/**
 * The stored form of a client key: itself when short printable ASCII (addresses, ids),
 * else `#` + SHA-256 (base64url). A hostile key (megabytes, CRLF, NUL, any Unicode) thus
 * costs the store at most 44 bytes and cannot collide with a plain one.
 */
export function storedKey(key: string): string {
  if (key.length <= MAX_PLAIN && PLAIN.test(key)) return key;
  return `#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

/**
 * Who a request counts as for `key`: `ip` → `ip:<address>`; `user` → `user:<id>` when
 * signed in, else the address; `route` → the same, prefixed with the route pattern (so each
 * route counts apart); a function → what it returns.
 */
export function requestKey(ctx: HttpContext, key: RateLimitKey, userId: UserIdResolver): string {
  if (typeof key === 'function') return `fn:${key(ctx)}`;
  const who = key === 'ip' ? undefined : userId(ctx);
  const client = who === undefined ? `ip:${ctx.ip}` : `user:${who}`;
  if (key !== 'route') return client;
  const route = ctx.route?.record;
  return `route:${route?.methods.join(',') ?? ctx.method}:${route?.path ?? ctx.path}|${client}`;
}
