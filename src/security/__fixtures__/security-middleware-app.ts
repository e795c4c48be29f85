import { expect } from 'vitest';
import { providerApps } from '../../../test/support/provider-app.js';
import { HttpProvider, type Router } from '../../http/index.js';
import type { Application } from '../../kernel/index.js';
import { SecurityMiddlewareProvider } from '../security-middleware-provider.js';

/**
 * Apps for the security middleware tests: `config/security.ts` from `security` (a TS
 * expression), a proxy on loopback trusted by default (the in-process client's peer), the
 * routes added before the pipelines are composed.
 */
export function securityApps() {
  const apps = providerApps([HttpProvider, SecurityMiddlewareProvider]);
  return async function start(
    security: string,
    routes: (router: Router, app: Application) => void = () => {},
    options: { env?: Record<string, string>; trustProxy?: string } = {},
  ): Promise<Application> {
    const app = await apps.create(
      {
        'config/security.ts': `export default ${security};\n`,
        'config/http.ts': `export default { trustProxy: ${options.trustProxy ?? "'loopback'"} };\n`,
      },
      options.env ?? {},
    );
    app.register();
    routes(app.make('http').router, app);
    await app.start();
    return app;
  };
}

/** The error a boot failed with, unwrapped from E_APP_FAILED / E_PROVIDER_FAILED. */
export async function bootError(boot: Promise<unknown>, code: string): Promise<Error> {
  let error: unknown;
  try {
    await boot;
  } catch (caught) {
    error = caught;
    while (
      (error as { cause?: unknown }).cause !== undefined &&
      (error as { code?: string }).code !== code
    )
      error = (error as Error).cause;
  }
  expect(error, `expected the boot to fail with ${code}`).toMatchObject({ code });
  return error as Error;
}
