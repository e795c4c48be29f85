import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Application } from '../../kernel/index.js';
import { type Session, SessionProvider } from '../../session/index.js';
import { authApps, request } from '../__fixtures__/auth-app.js';
import type { SessionLike } from './guard.js';

// The real sessions subsystem behind the guard: SessionProvider before AuthProvider.
const { authApp, AUTH } = authApps([SessionProvider]);

function routes(app: Application): void {
  const router = app.make('http').router;
  router
    .get('/visit', (ctx) => {
      ctx.session.put('cart', 3);
      return { sid: ctx.session.id };
    })
    .middleware(['session']);
  router
    .post('/login', async (ctx) => {
      const user = await ctx.auth.attemptLogin(await ctx.body());
      return { ok: user !== undefined, cart: ctx.session.get('cart') ?? null };
    })
    .middleware(['session']);
  router
    .get('/me', (ctx) => ({ id: ctx.auth.userId, stored: ctx.session.userId }))
    .middleware(['session', 'auth:web']);
  router
    .post('/password', async (ctx) => {
      const { password } = (await ctx.body()) as { password: string };
      return app.make('auth').changePassword(ctx.auth.user, password, { ctx, revokeTokens: true });
    })
    .middleware(['session', 'auth:web']);
  router
    .post('/logout', async (ctx) => {
      await ctx.auth.logout();
      return { cart: ctx.session.get('cart') ?? null };
    })
    .middleware(['session', 'auth:web']);
}

/** The session cookie a response set: `name=value`. */
function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'];
  const cookies = (Array.isArray(raw) ? raw : [raw]).filter(
    (c): c is string => typeof c === 'string',
  );
  const cookie = cookies.find((c) => !/max-age=0|expires=thu, 01 jan 1970/i.test(c));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(raw)}`);
  return cookie.split(';')[0]!;
}

describe('session guard on the sessions subsystem', () => {
  it('the Session class has what the guard needs', () => {
    expectTypeOf<Session>().toMatchTypeOf<SessionLike>();
  });

  it('login regenerates the session id (fixation), keeps its data; logout invalidates', async () => {
    const app = await authApp(routes, AUTH, {
      'config/session.ts': `export default { driver: 'memory' };\n`,
    });
    const guest = sessionCookie(await request(app, 'GET', '/visit'));
    const login = await request(
      app,
      'POST',
      '/login',
      { cookie: guest },
      {
        email: 'alice@example.com',
        password: 'alice-pw',
      },
    );
    expect(login.json()).toEqual({ ok: true, cart: 3 });
    const user = sessionCookie(login);
    expect(user).not.toBe(guest);
    // The id from before the login no longer opens a session with a user.
    const fixated = await request(app, 'GET', '/me', { cookie: guest, accept: 'application/json' });
    expect(fixated.statusCode).toBe(401);
    const me = await request(app, 'GET', '/me', { cookie: user });
    expect(me.json()).toEqual({ id: 1, stored: '1' });

    const out = await request(app, 'POST', '/logout', { cookie: user });
    expect(out.json()).toEqual({ cart: null });
    const after = await request(app, 'GET', '/me', { cookie: user, accept: 'application/json' });
    expect(after.statusCode).toBe(401);
  });

  it('a failed login leaves the guest session as it was', async () => {
    const app = await authApp(routes, AUTH, {
      'config/session.ts': `export default { driver: 'memory' };\n`,
    });
    const guest = sessionCookie(await request(app, 'GET', '/visit'));
    const login = await request(
      app,
      'POST',
      '/login',
      { cookie: guest },
      {
        email: 'alice@example.com',
        password: 'wrong',
      },
    );
    expect(login.json()).toEqual({ ok: false, cart: 3 });
    const me = await request(app, 'GET', '/me', { cookie: guest, accept: 'application/json' });
    expect(me.statusCode).toBe(401);
  });

  it("a password change ends the other devices' sessions and the API tokens, keeps this one, and is announced", async () => {
    const app = await authApp(routes, AUTH, {
      'config/session.ts': `export default { driver: 'memory' };\n`,
    });
    const changed: unknown[] = [];
    app.events.on('auth.password.changed', (event) => void changed.push(event));
    const login = async () =>
      sessionCookie(
        await request(
          app,
          'POST',
          '/login',
          {},
          { email: 'alice@example.com', password: 'alice-pw' },
        ),
      );
    const laptop = await login();
    const phone = await login();
    const { token } = await app.make('auth.tokens').create(1, 'cli');

    const res = await request(
      app,
      'POST',
      '/password',
      { cookie: laptop },
      { password: 'new-pw-123' },
    );
    expect(res.json()).toEqual({ sessionsEnded: 1, tokensRevoked: 1 });
    expect((await request(app, 'GET', '/me', { cookie: laptop })).statusCode).toBe(200);
    expect(
      (await request(app, 'GET', '/me', { cookie: phone, accept: 'application/json' })).statusCode,
    ).toBe(401);
    expect(await app.make('auth.tokens').verify(token)).toBeUndefined();
    expect(changed).toEqual([
      expect.objectContaining({ userId: 1, sessionsEnded: 1, tokensRevoked: 1 }),
    ]);
    // The new password works, the old one no longer does.
    const auth = app.make('auth');
    expect(
      await auth.verifyCredentials({ email: 'alice@example.com', password: 'alice-pw' }),
    ).toBeUndefined();
    expect(
      await auth.verifyCredentials({ email: 'alice@example.com', password: 'new-pw-123' }),
    ).toBeDefined();
  });
});
