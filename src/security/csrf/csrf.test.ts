import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../../test/support/fixture-app.js';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider } from '../../http/index.js';
import { generateAppKey } from '../../kernel/index.js';
import { SessionProvider } from '../../session/index.js';
import { EncryptionProvider } from '../encryption/index.js';
import { resolveCsrfConfig } from './csrf-config.js';
import { CsrfProvider } from './csrf-provider.js';

const apps = providerApps([HttpProvider, EncryptionProvider, SessionProvider, CsrfProvider]);

const ROUTES = `
export default (router) => {
  router.group({ middleware: ['session', 'csrf'] }, (router) => {
    router.get('/form', (ctx) => ({ token: ctx.csrfToken() }));
    router.get('/page', (ctx) => ctx.view('shop::form', { title: 'New order' }));
    router.post('/orders', async (ctx) => ({ placed: true }));
    router.post('/login', (ctx) => { ctx.session.regenerate().setUser('7'); return { ok: true }; });
    router.post('/webhooks/stripe', () => ({ received: true }));
    router.delete('/orders/:id', (ctx) => ({ deleted: ctx.params.id }));
  });
  router.get('/plain', (ctx) => ({ token: ctx.csrfToken() }));
};
`;

type Jar = Map<string, string>;

async function start(security = '{}') {
  const app = await apps.create(
    {
      'modules/shop/module.ts': moduleFile(
        `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
      ),
      'modules/shop/routes.ts': ROUTES,
      'modules/shop/views/form.eta':
        '<h1><%= it.title %></h1><form><input type="hidden" name="csrf_token" value="<%= it.csrfToken %>"></form>',
      'config/security.ts': `export default ${security};\n`,
    },
    { APP_KEY: generateAppKey(), SESSION_DRIVER: 'memory' },
  );
  await app.boot();
  await app.start();
  const kernel = app.make('http');
  const send = async (
    method: string,
    url: string,
    jar: Jar,
    options: { headers?: Record<string, string>; payload?: string } = {},
  ) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await kernel.inject({
      method: method as 'GET',
      url,
      headers: { host: 'shop.test', ...(cookie ? { cookie } : {}), ...options.headers },
      ...(options.payload !== undefined ? { payload: options.payload } : {}),
    });
    for (const header of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair] = header.split(';');
      const [name, ...rest] = (pair as string).split('=');
      jar.set(name as string, rest.join('='));
    }
    return res;
  };
  /** A visitor who loaded the form: their cookie jar and the page's token. */
  const visitor = async () => {
    const jar: Jar = new Map();
    const res = await send('GET', '/form', jar);
    expect(res.statusCode).toBe(200);
    return { jar, token: (res.json() as { token: string }).token };
  };
  return { app, send, visitor };
}

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

describe('csrf middleware', () => {
  it('accepts an unsafe request carrying the token as the form field, the header or the SPA header', async () => {
    const { send, visitor } = await start();
    const { jar, token } = await visitor();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(
      (await send('POST', '/orders', jar, form({ csrf_token: token, sku: 'A' }))).json(),
    ).toEqual({
      placed: true,
    });
    const viaHeader = await send('POST', '/orders', jar, { headers: { 'x-csrf-token': token } });
    expect(viaHeader.statusCode).toBe(200);
    // The SPA way: read the XSRF-TOKEN cookie, echo it in X-XSRF-TOKEN.
    expect(jar.get('XSRF-TOKEN')).toBe(token);
    const spa = await send('DELETE', '/orders/9', jar, {
      headers: { 'x-xsrf-token': jar.get('XSRF-TOKEN')! },
    });
    expect(spa.json()).toEqual({ deleted: '9' });
    const json = await send('POST', '/orders', jar, {
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ csrf_token: token }),
    });
    expect(json.statusCode).toBe(200);
  });

  it('refuses a missing, wrong or malformed token with a 403 problem, and the handler does not run', async () => {
    const { send, visitor } = await start();
    const { jar, token } = await visitor();
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const options of [
      {},
      form({ sku: 'A' }),
      form({ csrf_token: wrong }),
      { headers: { 'x-csrf-token': wrong } },
      { headers: { 'x-csrf-token': `${token}\r\nX-Evil: 1` } },
      { headers: { 'x-csrf-token': 'x'.repeat(10_000) } },
      form({ csrf_token: '' }),
    ]) {
      const res = await send('POST', '/orders', jar, options);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'E_CSRF_TOKEN_MISMATCH', status: 403 });
      expect(res.body).not.toContain(token);
    }
  });

  it("refuses another visitor's token: a token is only good for its own session", async () => {
    const { send, visitor } = await start();
    const alice = await visitor();
    const mallory = await visitor();
    const res = await send('POST', '/orders', alice.jar, form({ csrf_token: mallory.token }));
    expect(res.json()).toMatchObject({ code: 'E_CSRF_TOKEN_MISMATCH' });
    // Without a session at all (no cookie), even a well-formed token is refused.
    const fresh = await send('POST', '/orders', new Map(), form({ csrf_token: alice.token }));
    expect(fresh.statusCode).toBe(403);
  });

  it('refuses a cross-site request even with a valid token (Origin, then Sec-Fetch-Site)', async () => {
    const { send, visitor } = await start(
      `{ csrf: { trustedOrigins: ['https://admin.shop.test'] } }`,
    );
    const { jar, token } = await visitor();
    const withToken = (headers: Record<string, string>) => ({
      headers: { 'x-csrf-token': token, ...headers },
    });
    for (const headers of [
      { origin: 'https://evil.test' } as Record<string, string>,
      { origin: 'null' },
      { origin: 'not a url' },
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await send('POST', '/orders', jar, withToken(headers));
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'E_CSRF_ORIGIN_MISMATCH' });
    }
    for (const headers of [
      { origin: 'http://shop.test' } as Record<string, string>,
      { origin: 'https://admin.shop.test' },
      { 'sec-fetch-site': 'same-origin' },
    ])
      expect((await send('POST', '/orders', jar, withToken(headers))).statusCode).toBe(200);
  });

  it('renews the token when login regenerates the session, so a token fixed before login is useless', async () => {
    const { send, visitor } = await start();
    const { jar, token } = await visitor();
    const login = await send('POST', '/login', jar, { headers: { 'x-csrf-token': token } });
    expect(login.statusCode).toBe(200);
    const after = await send('POST', '/orders', jar, { headers: { 'x-csrf-token': token } });
    expect(after.json()).toMatchObject({ code: 'E_CSRF_TOKEN_MISMATCH' });
    // The next page (or the SPA's next response) carries the new token.
    const renewed = ((await send('GET', '/form', jar)).json() as { token: string }).token;
    expect(renewed).not.toBe(token);
    expect(jar.get('XSRF-TOKEN')).toBe(renewed);
    expect(
      (await send('POST', '/orders', jar, { headers: { 'x-csrf-token': renewed } })).statusCode,
    ).toBe(200);
  });

  it('skips safe methods and exempt paths, and says when a route lacks the middleware', async () => {
    const { send } = await start(`{ csrf: { exempt: ['/webhooks/*'] } }`);
    expect((await send('POST', '/webhooks/stripe', new Map())).json()).toEqual({ received: true });
    expect((await send('POST', '/orders', new Map())).statusCode).toBe(403);
    const plain = await send('GET', '/plain', new Map());
    expect(plain.statusCode).toBe(500);
    expect(plain.json()).toMatchObject({ code: 'E_CSRF_NOT_STARTED' });
  });

  it('gives every view the token as it.csrfToken, and the form posts with it', async () => {
    const { send } = await start();
    const jar: Jar = new Map();
    const page = await send('GET', '/page', jar);
    const token = /name="csrf_token" value="([A-Za-z0-9_-]{43})"/.exec(page.body)?.[1];
    expect(page.body).toContain('<h1>New order</h1>');
    expect(token).toBe(jar.get('XSRF-TOKEN'));
    expect((await send('POST', '/orders', jar, form({ csrf_token: token! }))).statusCode).toBe(200);
  });

  it('sets the XSRF-TOKEN cookie readable by scripts, and only when it changes', async () => {
    const { send } = await start();
    const jar: Jar = new Map();
    const first = await send('GET', '/form', jar);
    const xsrf = ([] as string[])
      .concat(first.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('XSRF-TOKEN='))!;
    expect(xsrf).toMatch(/SameSite=Lax/i);
    expect(xsrf).not.toMatch(/HttpOnly/i);
    const second = await send('GET', '/form', jar);
    expect(
      ([] as string[])
        .concat(second.headers['set-cookie'] ?? [])
        .some((c) => c.startsWith('XSRF-TOKEN=')),
    ).toBe(false);
  });
});

describe('csrf config', () => {
  it('expires tokens after the lifetime, and refuses bad settings naming the key', () => {
    expect(resolveCsrfConfig({ lifetime: '4h' }).lifetimeMs).toBe(14_400_000);
    expect(() => resolveCsrfConfig({ lifetime: 'soon' })).toThrow(/security\.csrf\.lifetime/);
    expect(() => resolveCsrfConfig({ exempt: ['webhooks'] })).toThrow(/security\.csrf\.exempt/);
    expect(() => resolveCsrfConfig({ cokie: 'x' })).toThrow(/E_CSRF_CONFIG_INVALID|cokie/);
  });
});
