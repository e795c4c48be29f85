import type { Application } from 'keel';
import { E_UNAUTHENTICATED } from 'keel/auth';
import type { HttpContext, Router } from 'keel/http';
import { z } from 'zod';

const Credentials = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  password: z.string().min(1).max(4096),
});
const TokenRequest = Credentials.extend({ name: z.string().trim().min(1).max(100).default('api') });

interface User {
  id: number;
  email: string;
  name: string;
}

/**
 * Web pages (the `web` group: security headers, session, CSRF) and the token API (the
 * `api` group: rate limit, API headers). Logging in is limited to 5 attempts a minute per
 * address (`throttle:login`) on both.
 */
export default (router: Router, app: Application) => {
  router.group({ groups: ['web'], name: 'accounts.' }, (r) => {
    r.get('/login', (ctx: HttpContext) =>
      ctx.view('accounts::login', { failed: ctx.session.get('login_failed') === true }),
    ).name('login');
    r.post('/login', async (ctx: HttpContext) => {
      const input = Credentials.safeParse(await ctx.body());
      const user = input.success ? await ctx.auth.attemptLogin(input.data) : undefined;
      if (!user) {
        ctx.session.flash('login_failed', true);
        return ctx.redirect('/login');
      }
      return ctx.redirect('/account');
    })
      .name('login.attempt')
      .middleware(['throttle:login']);
    r.get('/account', async (ctx: HttpContext) => {
      const user = ctx.auth.user as User;
      const sessions = await app.make('session.manager').forUser(String(user.id), ctx.session.id);
      return ctx.view('accounts::account', {
        user,
        sessions,
        permissions: [...(await app.make('auth.roles').permissionsOf(user))].sort(),
      });
    })
      .name('account')
      .middleware(['auth:web']);
    r.post('/account/sessions/others', async (ctx: HttpContext) => {
      await app.make('session.manager').destroyOthers(String(ctx.auth.userId), ctx.session.id);
      return ctx.redirect('/account');
    })
      .name('account.sessions.end-others')
      .middleware(['auth:web']);
    r.post('/logout', async (ctx: HttpContext) => {
      await ctx.auth.logout();
      return ctx.redirect('/login');
    })
      .name('logout')
      .middleware(['auth:web']);
  });

  router.group({ prefix: '/api', groups: ['api'], name: 'api.' }, (r) => {
    // Credentials in, a bearer token out (shown once; only its digest is stored).
    r.post('/tokens', async (ctx: HttpContext) => {
      const { name, ...credentials } = ctx.validated.body as z.infer<typeof TokenRequest>;
      const user = await app.make('auth').verifyCredentials(credentials, { guard: 'api', ctx });
      if (!user) throw new E_UNAUTHENTICATED('Wrong e-mail or password');
      const { token, record } = await app
        .make('auth.tokens')
        .create(user, name, { expiresIn: '30d' });
      ctx.status(201);
      return { token, expiresAt: record.expiresAt };
    })
      .name('tokens.create')
      .middleware(['throttle:login'])
      .validate({ body: TokenRequest });
    r.get('/me', async (ctx: HttpContext) => {
      const user = ctx.auth.user as User;
      return {
        id: user.id,
        email: user.email,
        name: user.name,
        permissions: [...(await app.make('auth.roles').permissionsOf(user))].sort(),
      };
    })
      .name('me')
      .middleware(['auth:api']);
    r.delete('/tokens/current', async (ctx: HttpContext) => {
      await app.make('auth.tokens').revoke(ctx.auth.token!);
      ctx.status(204);
    })
      .name('tokens.revoke')
      .middleware(['auth:api']);
  });
};
