/**
 * Keel's HTTP kernel: router, context, middleware pipeline, problem+json errors, the Node
 * server, fetch interop and the in-process test client.
 */
export * from './body/index.js';
export {
  createHttpClient,
  type HttpClient,
  HttpClientFake,
  type HttpResponse,
} from './client/index.js';
export { type ContextServices, HttpContext } from './context.js';
export * from './errors/index.js';
export * from './errors.js';
export { mountHandler, toWebRequest } from './fetch-adapter.js';
export { createHttpApp, type HttpApp, type HttpAppOptions } from './http-app.js';
export { HttpKernel, type HttpKernelOptions } from './http-kernel.js';
export { HttpProvider, type HttpSettings, type RoutesDefinition } from './http-provider.js';
export type { RequestInstrument, RequestOutcome } from './instrument.js';
export {
  type CompiledRoute,
  composeChain,
  type MiddlewareFactory,
  MiddlewareRegistry,
} from './pipeline.js';
export {
  type CookieOptions,
  ResponseBuilder,
  type SseStream,
  safeJoin,
  signCookieValue,
  unsignCookieValue,
} from './response.js';
export { writeResult, writeWebResponse } from './result-writer.js';
export * from './router/index.js';
export * from './server/index.js';
export * from './types.js';
