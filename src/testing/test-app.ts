import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import { frameworkProviders } from '../cli/framework-providers.js';
import type { HttpKernel } from '../http/index.js';
import { Application, type ApplicationOptions } from '../kernel/index.js';

export interface TestApp {
  readonly app: Application;
  /** Send a request through the whole HTTP pipeline, in process (no socket). */
  inject(options: InjectOptions | string): Promise<InjectResponse>;
  /** Serve a web-standard Request through the pipeline. */
  fetch(request: Request): Promise<Response>;
  /** Shut the application down (providers, scopes, timers). */
  close(): Promise<void>;
}

/**
 * Boot an application for tests: environment `test`, Keel's framework providers, started
 * and ready, with an in-process HTTP client.
 *
 * @example
 * ```ts
 * const t = await createTestApp(fileURLToPath(new URL('..', import.meta.url)));
 * const res = await t.inject({ method: 'GET', url: '/api/orders' });
 * expect(res.statusCode).toBe(200);
 * await t.close();
 * ```
 */
export async function createTestApp(
  root: string,
  options: Partial<Omit<ApplicationOptions, 'root' | 'environment'>> = {},
): Promise<TestApp> {
  const app = await Application.create({
    root,
    environment: 'test',
    providers: frameworkProviders,
    ...options,
  });
  await app.start();
  const http = (): HttpKernel => app.make('http' as never) as HttpKernel;
  return {
    app,
    inject: (request) => http().inject(request),
    fetch: (request) => http().fetch(request),
    close: () => app.shutdown('test finished'),
  };
}
