import { describe, expect, it } from 'vitest';
import { moduleFile } from '../../test/support/fixture-app.js';
import { providerApps } from '../../test/support/provider-app.js';
import { HttpProvider } from '../http/index.js';
import { generateAppKey } from '../kernel/index.js';
import { SessionProvider } from '../session/index.js';
import { CsrfProvider } from './csrf/index.js';
import { EncryptionProvider } from './encryption/index.js';
import { SecurityGroupsProvider } from './security-groups-provider.js';
import { SecurityMiddlewareProvider } from './security-middleware-provider.js';

const ROUTES = `
export default (router) => {
  router.group({ groups: ['web'] }, (router) => {
    router.get('/page', (ctx) => ({ token: ctx.csrfToken() }));
    router.post('/form', () => ({ saved: true }));
  });
  router.group({ groups: ['api'] }, (router) => {
    router.get('/api/ping', () => ({ pong: true }));
  });
};
`;

const FILES = {
  'modules/shop/module.ts': moduleFile(
    `{ name: 'shop', version: '1.0.0', routes: () => import('./routes.ts') }`,
  ),
  'modules/shop/routes.ts': ROUTES,
};

describe('default middleware groups', () => {
  const apps = providerApps([
    HttpProvider,
    SecurityMiddlewareProvider,
    EncryptionProvider,
    SessionProvider,
    CsrfProvider,
    SecurityGroupsProvider,
  ]);

  it('web = security headers + session + CSRF; api = headers for APIs', async () => {
    const app = await apps.create(FILES, { APP_KEY: generateAppKey(), SESSION_DRIVER: 'memory' });
    await app.boot();
    await app.start();
    const kernel = app.make('http');
    const page = await kernel.inject({ method: 'GET', url: '/page' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    const cookies = ([] as string[]).concat(page.headers['set-cookie'] ?? []);
    expect(cookies.some((c) => c.startsWith('keel_session='))).toBe(true);
    expect(cookies.some((c) => c.startsWith('XSRF-TOKEN='))).toBe(true);
    const forged = await kernel.inject({ method: 'POST', url: '/form' });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'E_CSRF_TOKEN_MISMATCH' });
    const api = await kernel.inject({ method: 'GET', url: '/api/ping' });
    expect(api.json()).toEqual({ pong: true });
    expect(api.headers['content-security-policy']).toContain("default-src 'none'");
    expect(api.headers['set-cookie']).toBeUndefined();
  });

  it('exist, possibly empty, in an app without the security subsystems', async () => {
    const app = await apps.create(FILES, {}, [HttpProvider, SecurityGroupsProvider]);
    await app.boot();
    await app.start();
    const res = await app.make('http').inject({ method: 'GET', url: '/api/ping' });
    expect(res.json()).toEqual({ pong: true });
  });
});
