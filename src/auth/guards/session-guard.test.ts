import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HttpContext } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import { authApps, request } from '../__fixtures__/auth-app.js';
import type { AuthLoginSucceeded, AuthLogout } from '../auth-events.js';
import type { SessionLike } from './guard.js';

const { authApp } = authApps();

/**
 * A session store double with exactly the members the guard relies on (src/session's
 * Session has them too): the request names its session in `x-sid`, and `regenerate`
 * moves the data to a new id at once, retiring the old one.
 */
class Sessions {
  readonly store = new Map<string, { userId: string | null; data: Map<string, unknown> }>();
  readonly calls: string[] = [];

  open(id: string | undefined): SessionLike {
    let current = id !== undefined && this.store.has(id) ? id : this.#create();
    const entry = () => this.store.get(current)!;
    return {
      get id() {
        return current;
      },
      get userId() {
        return entry().userId;
      },
      get: (key) => entry().data.get(key),
      put: (key, value) => entry().data.set(key, value),
      forget: (key) => entry().data.delete(key),
      regenerate: () => {
        this.calls.push('regenerate');
        const moved = entry();
        this.store.delete(current);
        current = randomBytes(8).toString('hex');
        this.store.set(current, moved);
      },
      invalidate: () => {
        this.calls.push('invalidate');
        this.store.delete(current);
        current = this.#create();
      },
      setUser: (userId) => {
        this.calls.push(`setUser:${userId}`);
        entry().userId = String(userId);
      },
    };
  }

  #create(): string {
    const id = randomBytes(8).toString('hex');
    this.store.set(id, { userId: null, data: new Map() });
    return id;
  }
}

function sessionRoutes(sessions: Sessions) {
  return (app: Application) => {
    const router = app.make('http').router;
    const withSession = async (ctx: HttpContext, next: () => Promise<unknown>) => {
      Object.defineProperty(ctx, 'session', {
        value: sessions.open(ctx.header('x-sid')),
        configurable: true,
      });
      await next();
    };
    router
      .post('/login', async (ctx) => {
        const user = await ctx.auth.attemptLogin(await ctx.body());
        return {
          ok: user !== undefined,
          sid: (ctx as unknown as { session: SessionLike }).session.id,
        };
      })
      .middleware([withSession]);
    router
      .get('/me', (ctx) => ({ id: ctx.auth.userId, state: ctx.state.user !== undefined }))
      .middleware([withSession, 'auth:web']);
    router
      .post('/logout', async (ctx) => {
        await ctx.auth.logout();
        return {
          sid: (ctx as unknown as { session: SessionLike }).session.id,
          user: ctx.auth.user ?? null,
        };
      })
      .middleware([withSession, 'auth:web']);
    router.post('/no-session-login', async (ctx) => {
      await ctx.auth.login({ id: 1 });
      return 'unreachable';
    });
    router.get('/no-session', (ctx) => ({ id: ctx.auth.userId ?? null })).middleware(['auth:web']);
    router.post('/api-login', async (ctx) => {
      await ctx.auth.login({ id: 1 }, 'api');
    });
  };
}

describe('session guard', () => {
  it('logs in with a new session id (no fixation), keeps the user, logs out by invalidating', async () => {
    const sessions = new Sessions();
    const app = await authApp(sessionRoutes(sessions));
    const succeeded: AuthLoginSucceeded[] = [];
    const loggedOut: AuthLogout[] = [];
    app.events.on('auth.login.succeeded', (e) => {
      succeeded.push(e);
    });
    app.events.on('auth.logout', (e) => {
      loggedOut.push(e);
    });
    // An attacker plants a guest session id in the victim's browser.
    const planted = sessions.open(undefined).id;
    const res = await request(
      app,
      'POST',
      '/login',
      { 'x-sid': planted },
      {
        email: 'alice@example.com',
        password: 'alice-pw',
      },
    );
    const { ok, sid } = res.json() as { ok: boolean; sid: string };
    expect(ok).toBe(true);
    expect(sid).not.toBe(planted);
    expect(sessions.calls).toEqual(['regenerate', 'setUser:1']);
    expect(sessions.store.has(planted)).toBe(false);
    // The planted id is worthless; the new one is alice's.
    const attacker = await request(app, 'GET', '/me', {
      'x-sid': planted,
      accept: 'application/json',
    });
    expect(attacker.statusCode).toBe(401);
    const me = await request(app, 'GET', '/me', { 'x-sid': sid });
    expect(me.json()).toEqual({ id: 1, state: true });
    expect(succeeded).toEqual([expect.objectContaining({ guard: 'web', userId: 1 })]);

    const out = await request(app, 'POST', '/logout', { 'x-sid': sid });
    expect(out.json()).toMatchObject({ user: null });
    expect((out.json() as { sid: string }).sid).not.toBe(sid);
    expect(sessions.calls.at(-1)).toBe('invalidate');
    expect(
      (await request(app, 'GET', '/me', { 'x-sid': sid, accept: 'application/json' })).statusCode,
    ).toBe(401);
    expect(loggedOut).toEqual([expect.objectContaining({ guard: 'web', userId: 1 })]);
  });

  it('does not log in on wrong credentials, and leaves the session id alone', async () => {
    const sessions = new Sessions();
    const app = await authApp(sessionRoutes(sessions));
    const sid = sessions.open(undefined).id;
    const res = await request(
      app,
      'POST',
      '/login',
      { 'x-sid': sid },
      {
        email: 'alice@example.com',
        password: 'nope',
      },
    );
    expect(res.json()).toEqual({ ok: false, sid });
    expect(sessions.calls).toEqual([]);
  });

  it('treats a session whose user was deleted as a guest', async () => {
    const sessions = new Sessions();
    const app = await authApp(sessionRoutes(sessions));
    const { sid } = (
      await request(app, 'POST', '/login', {}, { email: 'bob@example.com', password: 'bob-pw' })
    ).json() as { sid: string };
    await app
      .make('db')
      .connection()
      .kysely.deleteFrom('users' as never)
      .where('id' as never, '=', 2 as never)
      .execute();
    expect(
      (await request(app, 'GET', '/me', { 'x-sid': sid, accept: 'application/json' })).statusCode,
    ).toBe(401);
  });

  it('without a session: a guest for auth, an error naming the fix for login', async () => {
    const app = await authApp(sessionRoutes(new Sessions()));
    const errors: unknown[] = [];
    app.make('http.reporters').add(({ error }) => {
      errors.push(error);
    });
    const guest = await request(app, 'GET', '/no-session', { accept: 'text/html' });
    expect(guest.statusCode).toBe(302);
    const login = await request(app, 'POST', '/no-session-login', { accept: 'application/json' });
    expect(login.statusCode).toBe(500);
    expect(login.json()).toMatchObject({ status: 500 });
    // login() on a token guard is a programming error too.
    const api = await request(app, 'POST', '/api-login');
    expect(api.statusCode).toBe(500);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'E_SESSION_GUARD_UNAVAILABLE',
      'E_AUTH_NOT_SESSION_GUARD',
    ]);
  });
});
