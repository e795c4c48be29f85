import type { HttpContext } from '../../http/index.js';
import type { ApiToken } from '../tokens/api-tokens.js';
import type { UserId } from '../user-provider.js';

/** Who a guard found on a request: the user, and the token when a token carried it. */
export interface Authenticated<User> {
  user: User;
  id: UserId;
  token?: ApiToken;
}

/** A way to recognise the user of a request (a session cookie, a bearer token). */
export interface Guard<User = unknown> {
  readonly name: string;
  readonly driver: 'session' | 'token';
  /** The request's user, or undefined (no credentials, or invalid ones). Never throws for bad input. */
  authenticate(ctx: HttpContext): Promise<Authenticated<User> | undefined>;
}

/**
 * What the session guard needs of `ctx.session` (src/session's `Session` has these
 * members): the id, the stored user id, and the calls a login and a logout make.
 */
export interface SessionLike {
  readonly id: string;
  /** The logged-in user's id, or undefined/null for a guest session. */
  readonly userId: UserId | null | undefined;
  get(key: string): unknown;
  put(key: string, value: unknown): unknown;
  forget(key: string): unknown;
  /** A new id for the same data: called at login against session fixation. */
  regenerate(): unknown;
  /** Drop the data and the id: called at logout. */
  invalidate(): unknown;
  setUser(id: UserId): unknown;
}
