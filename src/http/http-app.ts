import { Container } from '../container/index.js';
import { createNullLogger, type Logger } from '../kernel/index.js';
import { HttpKernel } from './http-kernel.js';
import type { MiddlewareRegistry } from './pipeline.js';
import type { Router } from './router/index.js';
import { createTrustResolver, HttpServer } from './server/index.js';

export interface HttpAppOptions {
  logger?: Logger | false;
  debug?: boolean;
  trustProxy?: boolean | number | string | string[];
}

/** A standalone HTTP application: the kernel without modules (scripts, benchmarks, tests). */
export interface HttpApp {
  readonly kernel: HttpKernel;
  readonly router: Router;
  readonly middleware: MiddlewareRegistry;
  inject: HttpKernel['inject'];
  fetch: HttpKernel['fetch'];
  listen(options?: { port?: number; host?: string }): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

/**
 * Create a standalone HTTP app.
 *
 * @example
 * ```ts
 * const app = await createHttpApp();
 * app.router.get('/hello', () => ({ hello: 'world' }));
 * await app.listen({ port: 3000 });
 * ```
 */
export async function createHttpApp(options: HttpAppOptions = {}): Promise<HttpApp> {
  const container = new Container();
  const logger = options.logger || createNullLogger();
  const trust = createTrustResolver(options.trustProxy ?? false);
  const kernel = new HttpKernel({
    container,
    logger,
    debug: options.debug ?? false,
    clientIp: (req) => trust.clientIp(req),
  });
  let server: HttpServer | undefined;
  return {
    kernel,
    router: kernel.router,
    middleware: kernel.middleware,
    inject: (o) => kernel.inject(o),
    fetch: (request) => kernel.fetch(request),
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      kernel.build();
      server = new HttpServer(kernel.handle, { port, host, logger });
      const address = await server.listen();
      return { port: address.port, url: address.url };
    },
    async close() {
      await server?.close({ timeout: 5_000 });
    },
  };
}
