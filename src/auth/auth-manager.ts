import type { EventBus, EventMap } from '../events/index.js';
import type { HttpContext } from '../http/index.js';
import type { Logger } from '../kernel/index.js';
import type { AUTH_EVENTS, AuthLoginFailed } from './auth-events.js';
import type { Gate } from './authorization/gate.js';
import type { Roles } from './authorization/roles.js';
import type { AuthConfig } from './config.js';
import {
  E_AUTH_GUARD_NOT_FOUND,
  E_AUTH_USERS_NOT_CONFIGURED,
  E_PASSWORD_UPDATE_UNSUPPORTED,
} from './errors.js';
import type { Guard } from './guards/guard.js';
import { SessionGuard, sessionOf } from './guards/session-guard.js';
import { TokenGuard } from './guards/token-guard.js';
import type { ScryptHasher } from './hash/scrypt-hasher.js';
import type { ApiTokens } from './tokens/api-tokens.js';
import { type Credentials, passwordHashOf, type UserProvider, userIdOf } from './user-provider.js';

export interface AuthManagerOptions<User> {
  config: AuthConfig;
  users: UserProvider<User> | undefined;
  hash: ScryptHasher;
  gate: Gate<User>;
  tokens: () => ApiTokens;
  roles: (() => Roles) | undefined;
  events: EventBus | undefined;
  logger: Logger;
  /** The session manager, when sessions are configured: a password change ends the others. */
  sessions?: () => SessionsLike | undefined;
}

/** What a password change needs of the sessions subsystem. */
export interface SessionsLike {
  destroyOthers(userId: string | number, currentId: string): Promise<number>;
  destroyAll(userId: string | number): Promise<number>;
}

type AuthEventName = (typeof AUTH_EVENTS)[number];

// Field names a failed-login event never carries, whatever the form calls its password.
const SECRET_FIELD = /pass|secret|token|otp|pin/i;

/**
 * Auth for the whole application (`app.make('auth')`): the guards, the user provider,
 * credential checks with rehash on login, and what `ctx.auth` is built from.
 *
 * @example
 * ```ts
 * const user = await app.make('auth').verifyCredentials({ email, password });
 * ```
 */
export class AuthManager<User = unknown> {
  readonly config: AuthConfig;
  readonly hash: ScryptHasher;
  readonly gate: Gate<User>;
  readonly #users: UserProvider<User> | undefined;
  readonly #tokens: () => ApiTokens;
  readonly #roles: (() => Roles) | undefined;
  readonly #events: EventBus | undefined;
  readonly #logger: Logger;
  readonly #sessions: (() => SessionsLike | undefined) | undefined;
  readonly #guards = new Map<string, Guard<User>>();
  #dummyHash: Promise<string> | undefined;

  constructor(options: AuthManagerOptions<User>) {
    this.config = options.config;
    this.hash = options.hash;
    this.gate = options.gate;
    this.#users = options.users;
    this.#tokens = options.tokens;
    this.#roles = options.roles;
    this.#events = options.events;
    this.#logger = options.logger;
    this.#sessions = options.sessions;
    const users = () => this.users;
    for (const [name, guard] of Object.entries(options.config.guards))
      this.#guards.set(
        name,
        guard.driver === 'token'
          ? new TokenGuard(name, this.#tokens, users)
          : new SessionGuard(name, users),
      );
  }

  /** The user provider (E_AUTH_USERS_NOT_CONFIGURED when config/auth.ts has none). */
  get users(): UserProvider<User> {
    if (!this.#users) throw new E_AUTH_USERS_NOT_CONFIGURED();
    return this.#users;
  }

  get tokens(): ApiTokens {
    return this.#tokens();
  }

  get roles(): Roles | undefined {
    return this.#roles?.();
  }

  get logger(): Logger {
    return this.#logger;
  }

  /** A configured guard (E_AUTH_GUARD_NOT_FOUND otherwise). */
  guard(name: string = this.config.default): Guard<User> {
    const guard = this.#guards.get(name);
    if (!guard)
      throw new E_AUTH_GUARD_NOT_FOUND(name, [...this.#guards.keys()].join(', ') || 'none');
    return guard;
  }

  /**
   * The user the credentials name when the password matches (and `auth.login.succeeded`),
   * else undefined (and `auth.login.failed`). A hash made with older parameters is replaced
   * through the provider's `updatePasswordHash`. An unknown user costs one hash like a
   * known one, so response times do not tell which accounts exist.
   */
  async verifyCredentials(
    credentials: Credentials,
    context: {
      guard?: string;
      ctx?: HttpContext;
      /** Emit `auth.login.succeeded` on success (default true; a session login emits its own). */
      announce?: boolean;
    } = {},
  ): Promise<User | undefined> {
    // A body that is not an object (a string, an array, null) names nobody.
    const given =
      credentials !== null && typeof credentials === 'object' && !Array.isArray(credentials)
        ? credentials
        : {};
    const { password, ...identifiers } = given;
    const guard = context.guard ?? this.config.default;
    const fail = async (reason: AuthLoginFailed['reason']) => {
      await this.emit('auth.login.failed', {
        guard,
        credentials: redact(identifiers),
        reason,
        ip: context.ctx?.ip,
        requestId: context.ctx?.requestId,
      });
      return undefined;
    };
    if (typeof password !== 'string') {
      await this.#burn();
      return fail('missing_password');
    }
    // Before the lookup: an oversized password is refused the same for every account.
    this.hash.assertLength(password);
    const users = this.users;
    const user = await users.findByCredentials(identifiers);
    if (user === undefined || user === null) {
      await this.#burn(password);
      return fail('unknown_user');
    }
    const stored = passwordHashOf(users, user);
    if (stored === undefined || !this.hash.isHash(stored)) {
      await this.#burn(password);
      return fail('no_password');
    }
    if (!(await this.hash.verify(stored, password))) return fail('wrong_password');
    if (this.hash.needsRehash(stored) && users.updatePasswordHash) {
      try {
        await users.updatePasswordHash(user, await this.hash.make(password));
      } catch (error) {
        // The login stands: the old hash still verifies, the next login retries.
        this.#logger.warn({ err: error, user_id: userIdOf(users, user) }, 'auth: rehash failed');
      }
    }
    if (context.announce !== false)
      await this.emit('auth.login.succeeded', {
        guard,
        userId: userIdOf(users, user),
        ip: context.ctx?.ip,
        requestId: context.ctx?.requestId,
      });
    return user;
  }

  /**
   * Set a new password: hash it, store it through the user provider's `updatePasswordHash`,
   * and end the user's sessions on every other device (the current one, when `ctx` has a
   * session, stays signed in); with `revokeTokens`, also revoke their API tokens. Emits
   * `auth.password.changed`. Checking the old password is the caller's (a form asks for it).
   *
   * @example
   * ```ts
   * await app.make('auth').changePassword(ctx.auth.user, input.password, { ctx, revokeTokens: true });
   * ```
   */
  async changePassword(
    user: User,
    password: string,
    options: { ctx?: HttpContext; revokeTokens?: boolean } = {},
  ): Promise<{ sessionsEnded: number; tokensRevoked: number }> {
    const users = this.users;
    if (!users.updatePasswordHash) throw new E_PASSWORD_UPDATE_UNSUPPORTED();
    await users.updatePasswordHash(user, await this.hash.make(password));
    const userId = userIdOf(users, user);
    const sessions = this.#sessions?.();
    const current = options.ctx === undefined ? undefined : sessionOf(options.ctx)?.id;
    const sessionsEnded =
      sessions === undefined
        ? 0
        : current === undefined
          ? await sessions.destroyAll(userId)
          : await sessions.destroyOthers(userId, current);
    const tokensRevoked = options.revokeTokens ? await this.tokens.revokeAll(userId) : 0;
    await this.emit('auth.password.changed', {
      userId,
      sessionsEnded,
      tokensRevoked,
      ip: options.ctx?.ip,
      requestId: options.ctx?.requestId,
    });
    return { sessionsEnded, tokensRevoked };
  }

  /**
   * Emit on the app's bus, awaited so an audit listener has written before the response;
   * a failing listener is the bus's to report, it never fails the login.
   */
  async emit<E extends AuthEventName>(event: E, payload: EventMap[E]): Promise<void> {
    const events = this.#events;
    if (!events?.hasListeners(event)) return;
    try {
      await events.emit(event, payload as never);
    } catch (error) {
      this.#logger.error({ err: error }, `auth: a listener of ${event} failed`);
    }
  }

  // The same scrypt work as a real verify, on a hash of the current parameters.
  async #burn(password = ''): Promise<void> {
    this.#dummyHash ??= this.hash.make('keel:dummy-password');
    try {
      await this.hash.verify(await this.#dummyHash, password);
    } catch {}
  }
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) continue;
    safe[key] = typeof value === 'string' ? value.slice(0, 200) : typeof value;
  }
  return safe;
}
