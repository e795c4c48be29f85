import type { HttpContext } from '../../http/index.js';
import { E_SESSION_GUARD_UNAVAILABLE } from '../errors.js';
import type { UserProvider } from '../user-provider.js';
import { userIdOf } from '../user-provider.js';
import type { Authenticated, Guard, SessionLike } from './guard.js';

/** `ctx.session` when the session middleware ran on this request, else undefined. */
export function sessionOf(ctx: HttpContext): SessionLike | undefined {
  let session: unknown;
  try {
    // The session subsystem's getter throws (E_SESSION_NOT_STARTED) without its middleware:
    // for the guard that is a request without a session, so a guest.
    session = (ctx as unknown as { session?: unknown }).session;
  } catch {
    return undefined;
  }
  return session !== null && typeof session === 'object' ? (session as SessionLike) : undefined;
}

/**
 * The logged-in user of `ctx.session`. `login` regenerates the session id before storing
 * the user (an id planted before login is worthless after it: session fixation), and
 * `logout` invalidates the session.
 */
export class SessionGuard<User> implements Guard<User> {
  readonly driver = 'session';
  readonly name: string;
  readonly #users: () => UserProvider<User>;

  constructor(name: string, users: () => UserProvider<User>) {
    this.name = name;
    this.#users = users;
  }

  async authenticate(ctx: HttpContext): Promise<Authenticated<User> | undefined> {
    const session = sessionOf(ctx);
    const id = session?.userId;
    if (id === undefined || id === null || id === '') return undefined;
    const users = this.#users();
    const user = await users.findById(id);
    // A user deleted since login is a guest now.
    if (user === undefined || user === null) return undefined;
    return { user, id: userIdOf(users, user) };
  }

  async login(ctx: HttpContext, user: User): Promise<Authenticated<User>> {
    const session = this.#session(ctx);
    const id = userIdOf(this.#users(), user);
    await session.regenerate();
    await session.setUser(id);
    return { user, id };
  }

  async logout(ctx: HttpContext): Promise<void> {
    await this.#session(ctx).invalidate();
  }

  #session(ctx: HttpContext): SessionLike {
    const session = sessionOf(ctx);
    if (!session) throw new E_SESSION_GUARD_UNAVAILABLE(this.name);
    return session;
  }
}
