import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { BodyOptions } from './body/index.js';
import type { HttpContext } from './context.js';

/** The HTTP methods the router serves. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export const HTTP_METHODS: readonly HttpMethod[] = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
];

/**
 * A route handler. Its return value becomes the response unless it already sent one:
 * an object or array → JSON, a string → text/plain (or HTML when it starts with `<`),
 * a Buffer → octet-stream, a web `Response` → copied, `undefined` → 204.
 */
export type Handler = (ctx: HttpContext) => unknown;

/** Continue to the next middleware (or the handler); resolves when it finished. */
export type Next = () => Promise<void>;

/** Onion middleware: code before `await next()` runs on the way in, after it on the way out. */
export type MiddlewareFn = (ctx: HttpContext, next: Next) => unknown;

/** A middleware that also runs after the response has been sent (logging, metrics). */
export interface TerminatingMiddleware {
  handle: MiddlewareFn;
  terminate(ctx: HttpContext): unknown;
}

/**
 * How a route names its middleware: a function, a terminating middleware object, or a
 * registered alias with arguments (`'throttle:60,60'`, `'auth'`).
 */
export type MiddlewareRef = MiddlewareFn | TerminatingMiddleware | string;

/** Schemas validating a route's input parts; any Standard Schema (Zod 4, Valibot, ...). */
export interface RouteSchemas {
  params?: StandardSchemaV1;
  query?: StandardSchemaV1;
  body?: StandardSchemaV1;
  headers?: StandardSchemaV1;
}

/** A web-standard fetch handler (Hono app, itty-router, ...) that can be mounted. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** One route as the router records it, before middleware is composed. */
export interface RouteRecord {
  methods: HttpMethod[];
  /** find-my-way path syntax: `/users/:id`, `/files/*`, `/users/:id(^\\d+$)`. */
  path: string;
  handler: Handler;
  name?: string;
  /** Middleware in order: group middleware first, then the route's own. */
  middleware: MiddlewareRef[];
  /** The middleware groups the route belongs to (`web`, `api`, or app-defined). */
  groups: string[];
  schemas?: RouteSchemas;
  /** Body parsing options (limits, allowed kinds, timeout) for this route. */
  body?: BodyOptions;
  /** find-my-way constraints (host, version). */
  constraints?: Record<string, unknown>;
  /** The module that declared the route. */
  module?: string;
  /** Where the route was declared (`file:line`), for duplicate errors and `routes:list`. */
  source?: string;
  /** A mounted fetch handler serves everything under `path` (path ends with `*`). */
  mount?: FetchHandler;
  /** Free metadata for later subsystems (OpenAPI summaries, auth requirements). */
  meta: Record<string, unknown>;
}
