import { HttpContext } from '../http/index.js';
import { executionContext } from '../kernel/index.js';
import type { AuthManager } from './auth-manager.js';
import type { Gate } from './authorization/gate.js';
import { permits } from './authorization/roles.js';
import { E_AUTH_NOT_SESSION_GUARD, E_UNAUTHENTICATED } from './errors.js';
import type { Authenticated } from './guards/guard.js';
import { SessionGuard } from './guards/session-guard.js';
import { type ApiToken, tokenCan } from './tokens/api-tokens.js';
import type { Credentials, UserId } from './user-provider.js';

/**
 * `ctx.auth`: who the request is, through which guard, and what they may do. The user is
 * looked up once per request and guard; permissions (roles) once per request.
 *
 * @example
 * ```ts
 * router.get('/me', async (ctx) => {
 *   const user = await ctx.auth.authenticate(); // E_UNAUTHENTICATED (401) when nobody
 *   await ctx.auth.authorize('orders.create');   // E_FORBIDDEN (403) when not allowed
 *   return user;
 * });
 * ```
 */
export class Authenticator<User = unknown> {
  readonly #ctx: HttpContext;
  readonly #manager: AuthManager<User>;
  readonly #attempts = new Map<string, Promise<Authenticated<User> | undefined>>();
  #current: (Authenticated<User> & { guard: string }) | undefined;
  #gate: Gate<User> | undefined;
  #permissions: Promise<ReadonlySet<string>> | undefined;

  constructor(ctx: HttpContext, manager: AuthManager<User>) {
    this.#ctx = ctx;
    this.#manager = manager;
  }

  /** The authenticated user (after `check()`, `authenticate()` or the `auth` middleware). */
  get user(): User | undefined {
    return this.#current?.user;
  }

  get userId(): UserId | undefined {
    return this.#current?.id;
  }

  /** The guard that authenticated the request. */
  get guardName(): string | undefined {
    return this.#current?.guard;
  }

  /** The API token the request came with, when the token guard authenticated it. */
  get token(): ApiToken | undefined {
    return this.#current?.token;
  }

  /** True when one of `guards` (default: the configured default) recognises the request. */
  async check(...guards: string[]): Promise<boolean> {
    return (await this.attempt(guards)) !== undefined;
  }

  /** The user through one of `guards`, or E_UNAUTHENTICATED (401). */
  async authenticate(...guards: string[]): Promise<User> {
    const found = await this.attempt(guards);
    if (found === undefined) throw unauthenticated(this.#manager, guards);
    return found;
  }

  /** The first of `guards` that recognises the request, or undefined; never throws for bad input. */
  async attempt(guards: readonly string[] = []): Promise<User | undefined> {
    // Without guard names, the request's user is whoever a guard already recognised (the
    // `auth:api` middleware's user, for a handler calling `ctx.auth.check()`).
    if (guards.length === 0 && this.#current) return this.#current.user;
    const names = guards.length === 0 ? [this.#manager.config.default] : guards;
    if (this.#current && names.includes(this.#current.guard)) return this.#current.user;
    for (const name of names) {
      const guard = this.#manager.guard(name);
      let pending = this.#attempts.get(name);
      if (!pending) {
        pending = guard.authenticate(this.#ctx);
        this.#attempts.set(name, pending);
      }
      const found = await pending;
      if (found) {
        this.#set({ ...found, guard: name });
        return found.user;
      }
    }
    return undefined;
  }

  /** One guard's view: `ctx.auth.guard('api').check()`. */
  guard(name: string): GuardHandle<User> {
    this.#manager.guard(name);
    return {
      check: () => this.check(name),
      authenticate: () => this.authenticate(name),
      login: (user) => this.login(user, name),
      logout: () => this.logout(name),
      attempt: (credentials) => this.attemptLogin(credentials, name),
    };
  }

  /**
   * Log `user` in through a session guard: a new session id (fixation), the user id in the
   * session, `auth.login.succeeded`.
   */
  async login(user: User, guardName: string = this.#manager.config.default): Promise<void> {
    const guard = this.#sessionGuard(guardName);
    const found = await guard.login(this.#ctx, user);
    this.#attempts.set(guardName, Promise.resolve(found));
    this.#set({ ...found, guard: guardName });
    await this.#manager.emit('auth.login.succeeded', {
      guard: guardName,
      userId: found.id,
      ip: this.#ctx.ip,
      requestId: this.#ctx.requestId,
    });
  }

  /**
   * Check credentials (`{ email, password }`) and log the user in through a session guard.
   * Returns the user, or undefined (and `auth.login.failed`).
   */
  async attemptLogin(
    credentials: Credentials,
    guardName: string = this.#manager.config.default,
  ): Promise<User | undefined> {
    this.#sessionGuard(guardName);
    const user = await this.#manager.verifyCredentials(credentials, {
      guard: guardName,
      ctx: this.#ctx,
      announce: false,
    });
    if (user === undefined) return undefined;
    await this.login(user, guardName);
    return user;
  }

  /** Log out of a session guard: the session is invalidated, `auth.logout` emitted. */
  async logout(guardName: string = this.#manager.config.default): Promise<void> {
    const guard = this.#sessionGuard(guardName);
    const userId = this.#current?.id;
    await guard.logout(this.#ctx);
    this.#attempts.set(guardName, Promise.resolve(undefined));
    if (this.#current?.guard === guardName) this.#clear();
    await this.#manager.emit('auth.logout', {
      guard: guardName,
      userId,
      ip: this.#ctx.ip,
      requestId: this.#ctx.requestId,
    });
  }

  /**
   * True when the current user may do `ability` (false for a guest). On a route without
   * the `auth` middleware the default guard is asked first.
   */
  async can(ability: string, ...args: unknown[]): Promise<boolean> {
    return this.#requestGate().allows(await this.#user(), ability, ...args);
  }

  async cannot(ability: string, ...args: unknown[]): Promise<boolean> {
    return !(await this.can(ability, ...args));
  }

  /** E_FORBIDDEN (403) unless the current user may do `ability`. */
  async authorize(ability: string, ...args: unknown[]): Promise<void> {
    await this.#requestGate().authorize(await this.#user(), ability, ...args);
  }

  /** True when the user holds the permission through a role (cached for the request). */
  async hasPermission(permission: string): Promise<boolean> {
    const user = await this.#user();
    if (user === undefined) return false;
    return permits(await this.#permissionsOf(user), permission);
  }

  // On a route without the auth middleware, the first check asks the default guard.
  async #user(): Promise<User | undefined> {
    return this.#current ? this.#current.user : this.attempt();
  }

  /** True when the request's token may do `ability`; true for a session (no token). */
  tokenCan(ability: string): boolean {
    const token = this.token;
    return token === undefined || tokenCan(token, ability);
  }

  #requestGate(): Gate<User> {
    this.#gate ??= this.#manager.roles
      ? this.#manager.gate.withPermissions((user) => this.#permissionsOf(user))
      : this.#manager.gate;
    return this.#gate;
  }

  // Cached for the request's own user only: a check about another user asks the database.
  #permissionsOf(user: User): Promise<ReadonlySet<string>> {
    const roles = this.#manager.roles;
    if (!roles) return Promise.resolve(new Set());
    if (user !== this.user) return roles.permissionsOf(user as object);
    this.#permissions ??= roles.permissionsOf(user as object).catch((error: unknown) => {
      this.#permissions = undefined;
      throw error;
    });
    return this.#permissions;
  }

  #sessionGuard(name: string): SessionGuard<User> {
    const guard = this.#manager.guard(name);
    if (!(guard instanceof SessionGuard)) throw new E_AUTH_NOT_SESSION_GUARD(name, guard.driver);
    return guard;
  }

  #set(found: Authenticated<User> & { guard: string }): void {
    if (this.#current?.user !== found.user) this.#permissions = undefined;
    this.#current = found;
    this.#ctx.state.user = found.user;
    executionContext.setUser(found.id);
  }

  #clear(): void {
    this.#current = undefined;
    this.#permissions = undefined;
    delete this.#ctx.state.user;
    executionContext.setUser(undefined);
  }
}

/** One guard of `ctx.auth`. */
export interface GuardHandle<User> {
  check(): Promise<boolean>;
  authenticate(): Promise<User>;
  login(user: User): Promise<void>;
  logout(): Promise<void>;
  attempt(credentials: Credentials): Promise<User | undefined>;
}

/** E_UNAUTHENTICATED, with `WWW-Authenticate: Bearer` when a token guard was asked. */
export function unauthenticated<User>(manager: AuthManager<User>, guards: readonly string[]) {
  const names = guards.length === 0 ? [manager.config.default] : guards;
  const bearer = names.some((name) => manager.config.guards[name]?.driver === 'token');
  return new E_UNAUTHENTICATED(
    'Authentication is required',
    bearer ? { headers: { 'WWW-Authenticate': 'Bearer' } } : {},
  );
}

/**
 * The application's user type, for `ctx.auth.user`: augment it once.
 *
 * @example
 * ```ts
 * declare module 'keel/auth' {
 *   interface AuthTypes { user: { id: number; email: string; name: string } }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by applications (declaration merging)
export interface AuthTypes {}

/** `AuthTypes['user']` when the application declared it, else `unknown`. */
export type AppUser = AuthTypes extends { user: infer U } ? U : unknown;

declare module '../http/context.js' {
  interface HttpContext {
    /** Authentication and authorization of this request (the AuthProvider adds it). */
    readonly auth: Authenticator<AppUser>;
  }
}

const AUTHENTICATORS = new WeakMap<HttpContext, Authenticator<AppUser>>();

/** Install `ctx.auth` (idempotent): built on first use from the request's container. */
export function installContextAuth(): void {
  if (Object.hasOwn(HttpContext.prototype, 'auth')) return;
  Object.defineProperty(HttpContext.prototype, 'auth', {
    configurable: true,
    get(this: HttpContext): Authenticator<AppUser> {
      let auth = AUTHENTICATORS.get(this);
      if (!auth) {
        auth = new Authenticator(this, this.container.make('auth') as AuthManager<AppUser>);
        AUTHENTICATORS.set(this, auth);
      }
      return auth;
    },
  });
}
