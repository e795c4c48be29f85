import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HttpContext } from '../http/index.js';
import { type Application, executionContext } from '../kernel/index.js';
import { authApps, causeWith, request } from './__fixtures__/auth-app.js';
import type {
  AuthAuthorizationDenied,
  AuthLoginFailed,
  AuthLoginSucceeded,
} from './auth-events.js';
import type { AppUser, Authenticator } from './authenticator.js';
import type { Gate } from './authorization/gate.js';
import type { Roles } from './authorization/roles.js';
import { E_AUTH_CONFIG_INVALID, E_AUTH_GUARD_NOT_FOUND } from './errors.js';
import { ScryptHasher } from './hash/scrypt-hasher.js';
import type { ApiTokens } from './tokens/api-tokens.js';

const { apps, authApp, DATABASE } = authApps();

/** Routes of an API: token login, /api/me, and an order endpoint behind can:. */
function apiRoutes(app: Application): void {
  const router = app.make('http').router;
  router.post('/api/login', async (ctx) => {
    const user = await app
      .make('auth')
      .verifyCredentials(await ctx.body<Record<string, unknown>>(), { guard: 'api', ctx });
    if (!user) return ctx.json({ ok: false }, 422);
    const abilities = ctx.query.abilities;
    const { token } = await app
      .make('auth.tokens')
      .create(
        user as object,
        'login',
        typeof abilities === 'string' ? { abilities: abilities.split(',') } : {},
      );
    return { token };
  });
  router
    .get('/api/me', async (ctx) => ({
      user: ctx.auth.user,
      state: ctx.state.user,
      guard: ctx.auth.guardName,
      token: ctx.auth.token?.name,
      logged: executionContext.current()?.user_id ?? null,
      check: await ctx.auth.check(),
      web: await ctx.auth.check('web'),
    }))
    .middleware(['auth:api']);
  router
    .post('/api/orders', () => ({ created: true }))
    .middleware(['auth:api', 'can:orders.create']);
  router.get('/api/check', async (ctx) => ({ check: await ctx.auth.check('api') }));
  router.get('/api/bare', async (ctx) => ({ can: await ctx.auth.can('orders.create') }));
}

async function login(app: Application, email: string, password: string, query = '') {
  const res = await request(app, 'POST', `/api/login${query}`, {}, { email, password });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { token: string }).token;
}

describe('AuthProvider: API tokens over HTTP', () => {
  it('logs in with credentials, then authenticates by bearer token', async () => {
    const app = await authApp(apiRoutes);
    const token = await login(app, 'alice@example.com', 'alice-pw');
    expect(token).toMatch(/^keel_/);
    const res = await executionContext.run({}, () =>
      request(app, 'GET', '/api/me', { authorization: `Bearer ${token}` }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      user: { id: 1, email: 'alice@example.com' },
      state: { id: 1 },
      guard: 'api',
      token: 'login',
      logged: 1,
      // The default guard (web) is not asked again once auth:api recognised the request.
      check: true,
      web: false,
    });
    // Case-insensitive scheme, extra spaces.
    const loose = await request(app, 'GET', '/api/me', { authorization: `bearer   ${token}` });
    expect(loose.statusCode).toBe(200);
    expect(
      (await request(app, 'GET', '/api/check', { authorization: `Bearer ${token}` })).json(),
    ).toEqual({ check: true });
    expect((await request(app, 'GET', '/api/check')).json()).toEqual({ check: false });
  });

  it('answers 401 problem+json with WWW-Authenticate: Bearer for missing, malformed, tampered, revoked and expired tokens', async () => {
    const app = await authApp(apiRoutes);
    const token = await login(app, 'alice@example.com', 'alice-pw');
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const { token: expiring, record } = await app
      .make('auth.tokens')
      .create(1, 'short', { expiresIn: 1 });
    const { token: revoked } = await app.make('auth.tokens').create(1, 'revoked');
    await app.make('auth.tokens').revoke(revoked);
    // Expire it in the table rather than waiting.
    await app
      .make('db')
      .connection()
      .kysely.updateTable('api_tokens' as never)
      .set({ expires_at: Date.now() - 1 } as never)
      .where('id' as never, '=', record.id as never)
      .execute();
    const headers: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from('alice@example.com:alice-pw').toString('base64')}` },
      { authorization: `Bearer ${token} extra` },
      { authorization: `Bearer ${token},${token}` },
      { authorization: `Token ${token}` },
      { authorization: `Bearer ${'x'.repeat(5000)}` },
      { authorization: 'Bearer \u0000' },
      { authorization: `Bearer ${tampered}` },
      { authorization: `Bearer ${expiring}` },
      { authorization: `Bearer ${revoked}` },
      { authorization: `Bearer ${token.replace(/^keel_/, 'other_')}` },
    ];
    for (const h of headers) {
      const res = await request(app, 'GET', '/api/me', h);
      expect(res.statusCode, JSON.stringify(h)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toMatchObject({ code: 'E_UNAUTHENTICATED', status: 401 });
    }
    // Every failure reads the same: nothing tells a wrong secret from an unknown id.
    const a = (
      await request(app, 'GET', '/api/me', { authorization: `Bearer ${tampered}` })
    ).json();
    const b = (
      await request(app, 'GET', '/api/me', {
        authorization: 'Bearer keel_AAAAAAAAAAAAAAAA.' + 'A'.repeat(43),
      })
    ).json();
    expect({ ...a, requestId: '' }).toEqual({ ...b, requestId: '' });
  });

  it('asks the default guard on a route without the auth middleware', async () => {
    const app = await authApp(
      apiRoutes,
      `export default { default: 'api', users: { table: 'users' }, hashing: { ln: 10 } };\n`,
    );
    const { token } = await app.make('auth.tokens').create(1, 't');
    expect(
      (await request(app, 'GET', '/api/bare', { authorization: `Bearer ${token}` })).json(),
    ).toEqual({ can: true });
    expect((await request(app, 'GET', '/api/bare')).json()).toEqual({ can: false });
  });

  it('refuses a token whose user was deleted', async () => {
    const app = await authApp(apiRoutes);
    const token = await login(app, 'bob@example.com', 'bob-pw');
    await app
      .make('db')
      .connection()
      .kysely.deleteFrom('users' as never)
      .where('id' as never, '=', 2 as never)
      .execute();
    expect(
      (await request(app, 'GET', '/api/me', { authorization: `Bearer ${token}` })).statusCode,
    ).toBe(401);
  });

  it('can: lets a permitted user through, 403 for others, 401 for guests, and checks token abilities', async () => {
    const app = await authApp(apiRoutes);
    const denied: AuthAuthorizationDenied[] = [];
    app.events.on('auth.authorization.denied', (event) => {
      denied.push(event);
    });
    const alice = await login(app, 'alice@example.com', 'alice-pw');
    const bob = await login(app, 'bob@example.com', 'bob-pw');
    const readOnly = await login(app, 'alice@example.com', 'alice-pw', '?abilities=orders.read');
    const ok = await request(app, 'POST', '/api/orders', { authorization: `Bearer ${alice}` });
    expect(ok.statusCode).toBe(200);
    const forbidden = await request(app, 'POST', '/api/orders', { authorization: `Bearer ${bob}` });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'E_FORBIDDEN' });
    const token = await request(app, 'POST', '/api/orders', {
      authorization: `Bearer ${readOnly}`,
    });
    expect(token.statusCode).toBe(403);
    expect((await request(app, 'POST', '/api/orders')).statusCode).toBe(401);
    expect(denied).toEqual([
      expect.objectContaining({ ability: 'orders.create', userId: 2, by: 'permission' }),
      expect.objectContaining({ ability: 'orders.create', userId: 1, by: 'token' }),
    ]);
  });

  it('emits auth.login.failed without the password, and refuses absurd passwords', async () => {
    const app = await authApp(apiRoutes);
    const failed: AuthLoginFailed[] = [];
    app.events.on('auth.login.failed', (event) => {
      failed.push(event);
    });
    const succeeded: AuthLoginSucceeded[] = [];
    app.events.on('auth.login.succeeded', (event) => {
      succeeded.push(event);
    });
    await login(app, 'bob@example.com', 'bob-pw');
    expect(succeeded).toEqual([
      { guard: 'api', userId: 2, ip: expect.any(String), requestId: expect.any(String) },
    ]);
    for (const [email, password] of [
      ['alice@example.com', 'wrong'],
      ['nobody@example.com', 'alice-pw'],
      ['nopass@example.com', ''],
    ]) {
      const res = await request(app, 'POST', '/api/login', {}, { email, password });
      expect(res.statusCode).toBe(422);
    }
    // Hostile shapes find nobody rather than querying by them.
    for (const body of [
      { email: { $ne: '' }, password: 'x' },
      { email: ['alice@example.com'], password: 'alice-pw' },
      { id: 1, password: 'alice-pw' },
      { email: 'alice@example.com' },
    ]) {
      expect((await request(app, 'POST', '/api/login', {}, body)).statusCode).toBe(422);
    }
    expect(failed.map((f) => [f.credentials, f.reason, f.guard])).toEqual([
      [{ email: 'alice@example.com' }, 'wrong_password', 'api'],
      [{ email: 'nobody@example.com' }, 'unknown_user', 'api'],
      [{ email: 'nopass@example.com' }, 'no_password', 'api'],
      [{ email: 'object' }, 'unknown_user', 'api'],
      [{ email: 'object' }, 'unknown_user', 'api'],
      [{ id: 'number' }, 'unknown_user', 'api'],
      [{ email: 'alice@example.com' }, 'missing_password', 'api'],
    ]);
    expect(JSON.stringify(failed)).not.toContain('alice-pw');
    const long = await request(
      app,
      'POST',
      '/api/login',
      {},
      { email: 'alice@example.com', password: 'x'.repeat(5000) },
    );
    expect(long.statusCode).toBe(422);
    expect(long.json()).toMatchObject({ code: 'E_PASSWORD_TOO_LONG' });
    // The same answer for an account that does not exist.
    const ghost = await request(
      app,
      'POST',
      '/api/login',
      {},
      { email: 'ghost@example.com', password: 'x'.repeat(5000) },
    );
    expect(ghost.json()).toMatchObject({ code: 'E_PASSWORD_TOO_LONG' });
  });

  it('rehashes the password on a successful login after the parameters changed', async () => {
    const app = await authApp(
      apiRoutes,
      `export default { users: { table: 'users' }, hashing: { ln: 11 } };\n`,
    );
    const read = async () =>
      (
        (await app
          .make('db')
          .connection()
          .kysely.selectFrom('users' as never)
          .select('password' as never)
          .where('id' as never, '=', 1 as never)
          .executeTakeFirst()) as { password: string }
      ).password;
    expect(await read()).toMatch(/^\$scrypt\$ln=10,/);
    await request(app, 'POST', '/api/login', {}, { email: 'alice@example.com', password: 'wrong' });
    expect(await read()).toMatch(/^\$scrypt\$ln=10,/);
    await login(app, 'alice@example.com', 'alice-pw');
    const rehashed = await read();
    expect(rehashed).toMatch(/^\$scrypt\$ln=11,/);
    expect(await app.make('auth.hash').verify(rehashed, 'alice-pw')).toBe(true);
    await login(app, 'alice@example.com', 'alice-pw');
    expect(await read()).toBe(rehashed);
  });
});

describe('AuthProvider: authorization in a request', () => {
  class Order {
    constructor(readonly ownerId: number) {}
  }

  function orderRoutes(app: Application): void {
    const gate = app.make('auth.gate');
    gate.policy(Order, {
      update: (user: { id: number }, order: Order) => order.ownerId === user.id,
      audit: () => {
        throw new Error('policy bug near password=hunter2');
      },
    } as never);
    const router = app.make('http').router;
    router
      .put('/api/orders/:owner', async (ctx) => {
        await ctx.auth.authorize('update', new Order(Number(ctx.params.owner)));
        return { updated: true };
      })
      .middleware(['auth:api']);
    router
      .get('/api/orders/:owner/audit', async (ctx) => {
        await ctx.auth.authorize('audit', new Order(Number(ctx.params.owner)));
        return { audited: true };
      })
      .middleware(['auth:api']);
    router
      .get('/api/abilities', async (ctx) => ({
        create: await ctx.auth.can('orders.create'),
        again: await ctx.auth.can('orders.create'),
        remove: await ctx.auth.can('orders.delete'),
        permission: await ctx.auth.hasPermission('orders.create'),
        bobCan: await ctx.auth.can('orders.create'),
      }))
      .middleware(['auth:api']);
  }

  it('authorizes through policies; a throwing policy denies with 403, logged and not leaked', async () => {
    const app = await authApp(orderRoutes);
    const logged: unknown[] = [];
    const error = app.logger.error.bind(app.logger);
    app.logger.error = ((...args: unknown[]) => {
      logged.push(args);
      return (error as (...a: unknown[]) => void)(...args);
    }) as typeof app.logger.error;
    const { token } = await app.make('auth.tokens').create(1, 't');
    const auth = { authorization: `Bearer ${token}` };
    expect((await request(app, 'PUT', '/api/orders/1', auth)).json()).toEqual({ updated: true });
    const other = await request(app, 'PUT', '/api/orders/2', auth);
    expect(other.statusCode).toBe(403);
    const broken = await request(app, 'GET', '/api/orders/1/audit', auth);
    expect(broken.statusCode).toBe(403);
    expect(broken.json()).toMatchObject({ code: 'E_FORBIDDEN' });
    expect(broken.body).not.toContain('hunter2');
    expect(JSON.stringify(logged)).toContain('the check of \\"audit\\" threw');
  });

  it('reads the permissions once per request', async () => {
    const app = await authApp(orderRoutes);
    const queries: string[] = [];
    app
      .make('db')
      .connection()
      .onQuery((q) => queries.push(q.sql));
    const { token } = await app.make('auth.tokens').create(1, 't');
    const res = await request(app, 'GET', '/api/abilities', { authorization: `Bearer ${token}` });
    expect(res.json()).toEqual({
      create: true,
      again: true,
      remove: false,
      permission: true,
      bobCan: true,
    });
    const reads = () => queries.filter((q) => /^select/i.test(q) && q.includes('permission_role'));
    expect(reads()).toHaveLength(1);
    // The next request reads them afresh (a grant in between is seen).
    await app.make('auth.roles').grant('clerk', 'orders.delete');
    const next = await request(app, 'GET', '/api/abilities', { authorization: `Bearer ${token}` });
    expect(next.json()).toMatchObject({ remove: true });
    expect(reads()).toHaveLength(2);
  });
});

describe('AuthProvider: the auth middleware for web requests', () => {
  function webRoutes(app: Application): void {
    const router = app.make('http').router;
    router.get('/dashboard', (ctx) => ({ user: ctx.auth.user })).middleware(['auth']);
    router.get('/either', (ctx) => ({ guard: ctx.auth.guardName })).middleware(['auth:web,api']);
    router.get('/sign-in', () => 'form').name('login');
  }

  it('redirects a browser to the login route, answers 401 to a JSON client', async () => {
    const app = await authApp(webRoutes);
    const page = await request(app, 'GET', '/dashboard', {
      accept: 'text/html,application/xhtml+xml',
    });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/login');
    for (const headers of [
      { accept: 'application/json' } as Record<string, string>,
      { accept: 'application/problem+json' },
      { 'x-requested-with': 'XMLHttpRequest' },
    ]) {
      const api = await request(app, 'GET', '/dashboard', headers);
      expect(api.statusCode, JSON.stringify(headers)).toBe(401);
      expect(api.json()).toMatchObject({ code: 'E_UNAUTHENTICATED' });
      // A session guard asks for no bearer token.
      expect(api.headers['www-authenticate']).toBeUndefined();
    }
    // A JSON body without Accept is an API client too; a bare request is a browser.
    const posted = await request(app, 'GET', '/dashboard', { 'content-type': 'application/json' });
    expect(posted.statusCode).toBe(401);
    expect((await request(app, 'GET', '/dashboard')).statusCode).toBe(302);
    // Any token guard among those asked makes it an API route.
    const either = await request(app, 'GET', '/either', { accept: 'text/html' });
    expect(either.statusCode).toBe(401);
    expect(either.headers['www-authenticate']).toBe('Bearer');
    const token = (await app.make('auth.tokens').create(2, 't')).token;
    const viaToken = await request(app, 'GET', '/either', { authorization: `Bearer ${token}` });
    expect(viaToken.json()).toEqual({ guard: 'api' });
  });

  it('resolves a login route given by name', async () => {
    const app = await authApp(
      webRoutes,
      `export default { users: { table: 'users' }, hashing: { ln: 10 }, loginRoute: 'login' };\n`,
    );
    const page = await request(app, 'GET', '/dashboard', { accept: 'text/html' });
    expect(page.headers.location).toBe('/sign-in');
  });

  it('fails the boot on a misspelt guard in a route', async () => {
    const error = await authApp((app) => {
      app
        .make('http')
        .router.get('/x', () => 'x')
        .middleware(['auth:apii']);
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const cause = causeWith(error, E_AUTH_GUARD_NOT_FOUND.is);
    expect(cause?.message).toBe('No auth guard named "apii" (configured: web, api)');
  });
});

describe('AuthProvider: a user provider of callbacks', () => {
  it('finds users through the callbacks, with their own id and hash fields, and rehashes through them', async () => {
    const hash = await new ScryptHasher({ ln: 10 }).make('carol-pw');
    const auth = `
      const users = [{ key: 'u-carol', mail: 'carol@example.com', secret: '${hash}' }];
      (globalThis as Record<string, unknown>).__authTestUsers = users;
      export default {
        users: {
          findById: async (id: string) => users.find((u) => u.key === id),
          findByCredentials: ({ mail }: { mail?: unknown }) => users.find((u) => u.mail === mail),
          idOf: (u: { key: string }) => u.key,
          passwordHashOf: (u: { secret: string }) => u.secret,
          updatePasswordHash: (u: { secret: string }, next: string) => { u.secret = next; },
        },
        hashing: { ln: 11 },
      };
    `;
    const app = await authApp(apiRoutes, auth);
    const res = await request(
      app,
      'POST',
      '/api/login',
      {},
      { mail: 'carol@example.com', password: 'carol-pw' },
    );
    const { token } = res.json() as { token: string };
    const me = await request(app, 'GET', '/api/me', { authorization: `Bearer ${token}` });
    expect(me.json()).toMatchObject({ user: { key: 'u-carol' }, guard: 'api' });
    expect((await app.make('auth.tokens').list('u-carol')).map((t) => t.name)).toEqual(['login']);
    const stored = (globalThis as { __authTestUsers?: Array<{ secret: string }> }).__authTestUsers;
    expect(stored?.[0]?.secret).toMatch(/^\$scrypt\$ln=11,/);
    delete (globalThis as { __authTestUsers?: unknown }).__authTestUsers;
    expect(
      (
        await request(
          app,
          'POST',
          '/api/login',
          {},
          { mail: 'carol@example.com', password: 'nope' },
        )
      ).statusCode,
    ).toBe(422);
  });
});

describe('AuthProvider: config and bindings', () => {
  it('binds the services and adds both framework migrations', async () => {
    const app = await apps.create({
      'config/database.ts': DATABASE,
      'config/auth.ts': 'export default {};\n',
    });
    await app.boot();
    expect(app.make('auth.hash').params).toEqual({ ln: 17, r: 8, p: 1 });
    expect(app.make('auth.tokens').prefix).toBe('keel');
    expect(app.make('auth.gate')).toBe(app.make('auth').gate);
    expect(app.make('auth.roles')).toBe(app.make('auth').roles);
    expect(
      app
        .make('db.migrations')
        .sources()
        .map((s) => s.module),
    ).toEqual(expect.arrayContaining(['keel:auth-tokens', 'keel:auth-roles']));
    // No user provider configured: a clear error at first use.
    expect(() => app.make('auth').users).toThrow(/auth\.users/);
  });

  it('adds no tables to an app without config/auth.ts, and no permission fallback', async () => {
    const app = await apps.create({ 'config/database.ts': DATABASE });
    await app.boot();
    expect(app.make('db.migrations').sources()).toEqual([]);
    expect(app.make('auth.hash').params.ln).toBe(17);
    expect(app.make('auth').roles).toBeUndefined();
    const logged: unknown[] = [];
    app.logger.error = ((...args: unknown[]) => {
      logged.push(args);
    }) as typeof app.logger.error;
    // Denied plainly: nothing queries the roles tables that do not exist.
    expect(await app.make('auth.gate').allows({ id: 1 }, 'orders.create')).toBe(false);
    expect(logged).toEqual([]);
  });

  it('works without a database: hashing and gates, no tables', async () => {
    const app = await apps.create({});
    await app.boot();
    expect(app.make('db.migrations').sources()).toEqual([]);
    app.make('auth.gate').define('x', () => true);
    expect(await app.make('auth.gate').allows({ id: 1 }, 'x')).toBe(true);
    expect(await app.make('auth.gate').allows({ id: 1 }, 'y')).toBe(false);
    await expect(app.make('auth.tokens').create(1, 'x')).rejects.toMatchObject({
      code: 'E_AUTH_DATABASE_REQUIRED',
    });
  });

  it('refuses a bad config at boot, naming the key', async () => {
    for (const [config, key] of [
      [`{ hashing: { ln: 40 } }`, 'hashing.ln'],
      [`{ hashing: { maxPasswordBytes: 10 } }`, 'hashing.maxPasswordBytes'],
      [`{ default: 'nope' }`, 'default'],
      [`{ guards: { api: { driver: 'jwt' } } }`, 'guards.api'],
      [`{ users: { findById: () => undefined } }`, 'users.findByCredentials'],
      [`{ users: { table: 'users; drop table x' } }`, 'users.table'],
      [`{ tokens: { prefix: 'Has_Underscore' } }`, 'tokens.prefix'],
      [`{ tokens: { lastUsedThrottle: 'often' } }`, 'tokens.lastUsedThrottle'],
      [`{ unknown: true }`, '(root)'],
    ] as const) {
      const app = await apps.create({ 'config/auth.ts': `export default ${config};\n` });
      const error = await app.boot().then(
        () => undefined,
        (e: unknown) => e,
      );
      const cause = causeWith(error, E_AUTH_CONFIG_INVALID.is);
      expect(cause?.message, config).toContain(`auth.${key}`);
    }
  });
});

describe('AuthProvider: types', () => {
  it('types ctx.auth and the container keys', () => {
    // Without an AuthTypes declaration the user is unknown.
    expectTypeOf<HttpContext['auth']>().toEqualTypeOf<Authenticator<unknown>>();
    expectTypeOf<AppUser>().toEqualTypeOf<unknown>();
    const make = (app: Application) => ({
      hash: app.make('auth.hash'),
      tokens: app.make('auth.tokens'),
      gate: app.make('auth.gate'),
      roles: app.make('auth.roles'),
    });
    expectTypeOf<ReturnType<typeof make>['hash']>().toEqualTypeOf<ScryptHasher>();
    expectTypeOf<ReturnType<typeof make>['tokens']>().toEqualTypeOf<ApiTokens>();
    expectTypeOf<ReturnType<typeof make>['gate']>().toEqualTypeOf<Gate>();
    expectTypeOf<ReturnType<typeof make>['roles']>().toEqualTypeOf<Roles>();
  });
});
