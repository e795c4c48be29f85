import { describe, expect, it } from 'vitest';
import type { Application } from '../kernel/index.js';
import { MetricsProvider } from '../observability/metrics/metrics-provider.js';
import { authApps, request } from './__fixtures__/auth-app.js';

const { authApp, AUTH } = authApps([MetricsProvider]);

function routes(app: Application): void {
  app.make('http').router.post('/tokens', async (ctx) => ({
    ok:
      (await app.make('auth').verifyCredentials(await ctx.body(), { guard: 'api', ctx })) !==
      undefined,
  }));
  app
    .make('http')
    .router.post('/orders', () => ({ placed: true }))
    .middleware(['auth:api', 'can:orders.delete']);
}

describe('auth metrics', () => {
  it('counts logins by guard and outcome, and authorization denials by what decided', async () => {
    const app = await authApp(routes, AUTH);
    const login = (email: string, password: string) =>
      request(app, 'POST', '/tokens', {}, { email, password });
    await login('alice@example.com', 'alice-pw');
    await login('alice@example.com', 'wrong');
    await login('nobody@example.com', 'x');
    const { token } = await app.make('auth.tokens').create(1, 'cli');
    const denied = await request(app, 'POST', '/orders', { authorization: `Bearer ${token}` });
    expect(denied.statusCode).toBe(403);

    const text = await app.make('metrics').metrics();
    expect(text).toContain('keel_auth_logins_total{guard="api",outcome="succeeded"} 1');
    expect(text).toContain('keel_auth_logins_total{guard="api",outcome="wrong_password"} 1');
    expect(text).toContain('keel_auth_logins_total{guard="api",outcome="unknown_user"} 1');
    expect(text).toMatch(/keel_auth_authorization_denials_total\{by="(permission|none)"\} 1/);
  });
});
