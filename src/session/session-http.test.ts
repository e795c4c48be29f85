import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../test/support/fixture-app.js';
import { providerApps } from '../../test/support/provider-app.js';
import { HttpProvider } from '../http/index.js';
import { generateAppKey } from '../kernel/index.js';
import { EncryptionProvider } from '../security/encryption/index.js';
import { generateSessionId, sessionHandle } from './session-id.js';
import { SessionProvider } from './session-provider.js';

const apps = providerApps([HttpProvider, EncryptionProvider, SessionProvider]);

const ROUTES = `
export default (router, app) => {
  router.group({ middleware: ['session'] }, (router) => {
    router.get('/put/:value', (ctx) => { ctx.session.put('value', ctx.params.value); return { id: ctx.session.id }; });
    router.get('/get', (ctx) => ({ value: ctx.session.get('value') ?? null, isNew: ctx.session.isNew }));
    router.get('/flash', (ctx) => { ctx.session.flash('notice', 'Saved'); return ctx.redirect('/notice'); });
    router.get('/notice', (ctx) => ({ notice: ctx.session.get('notice') ?? null }));
    router.get('/login/:user', (ctx) => { ctx.session.regenerate().setUser(ctx.params.user); return { ok: true }; });
    router.get('/logout', (ctx) => { ctx.session.invalidate(); return { ok: true }; });
    router.get('/big', (ctx) => { ctx.session.put('blob', 'x'.repeat(5000)); return { ok: true }; });
    router.get('/raw', (ctx) => { ctx.session.put('raw', true); ctx.res.end('raw body'); });
    router.get('/mine', async (ctx) => {
      const list = await app.make('session.manager').forUser(ctx.session.userId, ctx.session.id);
      return list.map((s) => ({ current: s.current, device: s.device, ip: s.ip }));
    });
    router.get('/end-others', async (ctx) => ({
      ended: await app.make('session.manager').destroyOthers(ctx.session.userId, ctx.session.id),
    }));
  });
  router.get('/no-session', (ctx) => ({ id: ctx.session.id }));
};
`;

const FILES = {
  'modules/shop/module.ts': moduleFile(
    `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
  ),
  'modules/shop/routes.ts': ROUTES,
};

async function start(env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const app = await apps.create(
    { ...FILES, ...files },
    { APP_KEY: generateAppKey(), SESSION_DRIVER: 'memory', ...env },
  );
  await app.boot();
  await app.start();
  const kernel = app.make('http');
  /** GET with the cookie jar `jar` (name → value), updating it from Set-Cookie. */
  const get = async (url: string, jar: Map<string, string> = new Map()) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await kernel.inject({
      method: 'GET',
      url,
      headers: {
        'user-agent': 'Mozilla/5.0 (Macintosh; Mac OS X 14_0) Firefox/121.0',
        ...(cookie ? { cookie } : {}),
      },
    });
    const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    for (const header of setCookies) {
      const [pair] = header.split(';');
      const [name, ...rest] = (pair as string).split('=');
      const value = rest.join('=');
      if (/max-age=0/i.test(header)) jar.delete(name as string);
      else jar.set(name as string, value);
    }
    return { res, setCookies, jar };
  };
  return { app, get };
}

describe('session middleware over HTTP', () => {
  it('says the session middleware is missing when a route without it reads ctx.session', async () => {
    const { get } = await start();
    const { res } = await get('/no-session');
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('E_SESSION_NOT_STARTED');
    expect(res.json().detail).toContain('GET /no-session');
  });

  it('sets an HttpOnly, SameSite=Lax cookie, not Secure and without prefix in development', async () => {
    const { get } = await start({ SESSION_LIFETIME: '30' });
    const { setCookies, res } = await get('/put/a');
    expect(setCookies).toHaveLength(1);
    const header = setCookies[0] as string;
    expect(header).toMatch(new RegExp(`^keel_session=${res.json().id};`));
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Lax');
    expect(header).toContain('Path=/');
    expect(header).toContain('Max-Age=1800');
    expect(header).not.toContain('Secure');
    expect(header).not.toContain('Domain');
  });

  it('in production: Secure, __Host- prefix, Path=/ and no Domain', async () => {
    const { get } = await start({ APP_ENV: 'production', SESSION_COOKIE: 'shop_session' });
    const { setCookies } = await get('/put/a');
    const header = setCookies[0] as string;
    expect(header).toMatch(/^__Host-shop_session=[A-Za-z0-9_-]{43};/);
    expect(header).toContain('Secure');
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Lax');
    expect(header).toContain('Path=/');
    expect(header).not.toContain('Domain');
  });

  it('sends no cookie to a visitor whose session stays empty', async () => {
    const { get } = await start();
    const { setCookies, res } = await get('/get');
    expect(res.json()).toEqual({ value: null, isNew: true });
    expect(setCookies).toEqual([]);
  });

  it('keeps data across requests, and the cookie only changes when it must', async () => {
    const { get } = await start();
    const first = await get('/put/hello');
    const second = await get('/get', first.jar);
    expect(second.res.json()).toEqual({ value: 'hello', isNew: false });
    expect(second.setCookies).toEqual([]);
  });

  it('never adopts a session id chosen by the client (fixation)', async () => {
    const { get, app } = await start();
    const planted = generateSessionId();
    const jar = new Map([['keel_session', planted]]);
    const { res } = await get('/put/x', jar);
    expect(res.json().id).not.toBe(planted);
    expect(jar.get('keel_session')).toBe(res.json().id);
    const listedPlanted = await app.make('session.manager').destroy(sessionHandle(planted));
    expect(listedPlanted).toBe(false);
  });

  it('ignores hostile cookie values and starts a fresh session', async () => {
    const { get } = await start();
    for (const value of ['', 'x', '%zz%', 'A'.repeat(8000), '../../etc/passwd', '"quoted"']) {
      const { res } = await get('/get', new Map([['keel_session', value]]));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ value: null, isNew: true });
    }
  });

  it('flashes for the next request only (through a redirect)', async () => {
    const { get } = await start();
    const jar = new Map<string, string>();
    const redirect = await get('/flash', jar);
    expect(redirect.res.statusCode).toBe(302);
    expect((await get('/notice', jar)).res.json()).toEqual({ notice: 'Saved' });
    expect((await get('/notice', jar)).res.json()).toEqual({ notice: null });
  });

  it('regenerates on login: the old cookie opens nothing; logout clears the cookie', async () => {
    const { get } = await start();
    const jar = new Map<string, string>();
    await get('/put/cart', jar);
    const before = jar.get('keel_session') as string;
    await get('/login/42', jar);
    const after = jar.get('keel_session') as string;
    expect(after).not.toBe(before);
    expect((await get('/get', jar)).res.json()).toEqual({ value: 'cart', isNew: false });
    const stale = await get('/get', new Map([['keel_session', before]]));
    expect(stale.res.json()).toEqual({ value: null, isNew: true });
    const logout = await get('/logout', jar);
    expect(logout.setCookies[0]).toMatch(/^keel_session=;.*Max-Age=0/);
    expect((await get('/get', new Map([['keel_session', after]]))).res.json().isNew).toBe(true);
  });

  it('lists the user’s sessions with the current one marked, and ends the others', async () => {
    const { get } = await start();
    const laptop = new Map<string, string>();
    const phone = new Map<string, string>();
    await get('/login/7', laptop);
    await get('/login/7', phone);
    const listed = (await get('/mine', laptop)).res.json();
    expect(listed).toHaveLength(2);
    expect(listed.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(listed[0].device).toBe('Firefox on macOS');
    expect((await get('/end-others', laptop)).res.json()).toEqual({ ended: 1 });
    expect((await get('/mine', phone)).res.json()).toEqual([]);
    expect((await get('/mine', laptop)).res.json()).toHaveLength(1);
  });

  it('saves before the response ends, also for a raw res.end()', async () => {
    const { get, app } = await start({ SESSION_DRIVER: 'file' });
    const first = await get('/put/v');
    const dir = join(app.paths.root, 'var/sessions');
    // The inject promise resolves when the response ends: the file is there already.
    const id = first.jar.get('keel_session') as string;
    expect(existsSync(join(dir, `${sessionHandle(id)}.json`))).toBe(true);
    const raw = await get('/raw', first.jar);
    expect(raw.res.body).toBe('raw body');
    expect(raw.res.headers['content-length']).toBe('8');
    expect((await readdir(dir)).filter((n) => n.endsWith('.json'))).toHaveLength(1);
  });
});

describe('cookie session driver over HTTP', () => {
  it('round-trips an encrypted session and rejects a tampered cookie', async () => {
    const { get } = await start({ SESSION_DRIVER: 'cookie' });
    const jar = new Map<string, string>();
    await get('/put/secret-value', jar);
    const value = jar.get('keel_session') as string;
    expect(value.startsWith('v1.')).toBe(true);
    expect(value).not.toContain('secret-value');
    expect((await get('/get', jar)).res.json()).toEqual({ value: 'secret-value', isNew: false });
    const tampered = `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`;
    const forged = await get('/get', new Map([['keel_session', tampered]]));
    expect(forged.res.json()).toEqual({ value: null, isNew: true });
  });

  it('answers 500 E_SESSION_COOKIE_TOO_LARGE when the session outgrows the cookie', async () => {
    const { get } = await start({ SESSION_DRIVER: 'cookie' });
    const { res, setCookies } = await get('/big');
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('E_SESSION_COOKIE_TOO_LARGE');
    expect(setCookies).toEqual([]);
  });

  it('refuses a cookie made with another APP_KEY', async () => {
    const one = await start({ SESSION_DRIVER: 'cookie' });
    const jar = new Map<string, string>();
    await one.get('/put/a', jar);
    const two = await start({ SESSION_DRIVER: 'cookie' });
    expect((await two.get('/get', jar)).res.json()).toEqual({ value: null, isNew: true });
  });
});

describe('session middleware on a real socket', () => {
  it('sends the cookie in the head and stores the session before the body ends', async () => {
    const { HttpServer } = await import('../http/index.js');
    const { app } = await start({ SESSION_DRIVER: 'file' });
    const server = new HttpServer(app.make('http').handle, { port: 0, host: '127.0.0.1' });
    const { port } = await server.listen();
    try {
      const first = await fetch(`http://127.0.0.1:${port}/put/over-tcp`);
      const setCookie = first.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(
        /^keel_session=[A-Za-z0-9_-]{43}; Max-Age=7200; Path=\/; HttpOnly; SameSite=Lax$/,
      );
      const { id } = (await first.json()) as { id: string };
      expect(existsSync(join(app.paths.root, 'var/sessions', `${sessionHandle(id)}.json`))).toBe(
        true,
      );
      const cookie = setCookie.split(';')[0] as string;
      const second = await fetch(`http://127.0.0.1:${port}/get`, { headers: { cookie } });
      expect(await second.json()).toEqual({ value: 'over-tcp', isNew: false });
      const raw = await fetch(`http://127.0.0.1:${port}/raw`, { headers: { cookie } });
      expect(raw.headers.get('content-length')).toBe('8');
      expect(await raw.text()).toBe('raw body');
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
