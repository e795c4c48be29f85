/** A fixture app with throttled routes: an API, a login form, per-user and per-route limits. */
import { dirname } from 'node:path';
import { KEEL_SRC, moduleFile } from '../../../../test/support/fixture-app.js';

const SRC = dirname(KEEL_SRC);

export const RATE_LIMIT_APP_FILES: Record<string, string> = {
  // The test client's socket peer is 127.0.0.1: trusting it lets X-Forwarded-For name the client.
  'config/http.ts': `export default { trustProxy: 'loopback' };\n`,
  'modules/shop/module.ts': moduleFile(`{
    name: 'shop', version: '1.0.0',
    routes: () => import('./routes.ts'),
  }`),
  'modules/shop/routes.ts': `
import { E_RATE_LIMITED } from '${SRC}/security/rate-limit/index.ts';
// The signed-in user, as an auth middleware would set it: here from a header.
const signedIn = (ctx, next) => {
  const user = ctx.header('x-user');
  if (user) ctx.state.user = { id: user };
  return next();
};
export default (router, app) => {
  router.get('/api', () => ({ ok: true })).middleware(['throttle:3,60']);
  router.get('/api/other', () => ({ ok: true })).middleware(['throttle:3,60']);
  router.get('/default', () => ({ ok: true })).middleware(['throttle']);
  router.get('/named', () => ({ ok: true })).middleware(['rate_limit:search']);
  router.get('/me', () => ({ ok: true })).middleware([signedIn, 'throttle:2,60']);
  router.get('/by-ip', () => ({ ok: true })).middleware([signedIn, 'throttle:2,60,ip']);
  router.get('/r1', () => ({ ok: true })).middleware(['throttle:2,60,route']);
  router.get('/r2', () => ({ ok: true })).middleware(['throttle:2,60,route']);
  router.get('/fail', (ctx) => ctx.json({ error: 'bad' }, 400));
  router.get('/ok', () => ({ ok: true })).middleware(['throttle:8,60']);
  // A login form guarding itself with the programmatic API (auth's brute-force check).
  router.post('/login', async (ctx) => {
    const limiter = app.make('rate.limiter');
    const { email, password } = await ctx.body();
    const key = String(email).toLowerCase() + '|' + ctx.ip;
    const result = await limiter.attempt('login', key);
    if (!result.allowed) throw new E_RATE_LIMITED('login', result.retryAfter);
    if (password !== 'correct horse') return ctx.json({ error: 'invalid credentials' }, 401);
    await limiter.clear('login', key);
    return { welcome: email };
  });
  // The same, with the limiter as route middleware only.
  router.post('/login-form', (ctx) => ctx.json({ error: 'invalid credentials' }, 401)).middleware(['throttle:login']);
};
`,
};

/** config/security.ts with `rate_limit` set to `config` (a JS object literal). */
export function securityConfig(config: string): Record<string, string> {
  return { 'config/security.ts': `export default { rate_limit: ${config} };\n` };
}
