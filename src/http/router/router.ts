import { mountHandler } from '../fetch-adapter.js';
import {
  type FetchHandler,
  type Handler,
  HTTP_METHODS,
  type HttpMethod,
  type MiddlewareRef,
  type RouteRecord,
} from '../types.js';
import {
  type ControllerAction,
  type ControllerClass,
  type ControllerFactory,
  ControllerInstances,
  controllerHandler,
  defaultControllerFactory,
  isControllerAction,
} from './controller-action.js';
import { E_INVALID_ROUTE } from './errors.js';
import {
  type ResourceController,
  type ResourceOptions,
  type ResourceRoutes,
  resourceRoutes,
} from './resource-routes.js';
import { checkMiddleware, RouteBuilder } from './route-builder.js';
import { joinPaths, parseRoutePath } from './route-path.js';
import { captureSource } from './route-source.js';

/** A route handler: a function of the context, or `[ControllerClass, 'method']`. */
export type RouteHandler<C extends ControllerClass = ControllerClass> =
  | Handler
  | ControllerAction<C>;

export interface RouterOptions {
  /** The module declaring the routes, shown in `routes:list` and duplicate errors. */
  module?: string;
  /** Builds controller instances for `[Class, 'method']`, resources and decorators. */
  controllerFactory?: ControllerFactory;
  /** Middleware groups every route of this router belongs to (`['web']`). */
  groups?: string[];
}

/** Settings shared by the routes declared inside `router.group(...)`. */
export interface GroupOptions {
  /** Path prefix: `/api/v1`. May hold parameters (`/tenants/:tenant`). */
  prefix?: string;
  /** Middleware run before each route's own. */
  middleware?: MiddlewareRef[];
  /** Name prefix, concatenated as written: `'api.'` + `'users.index'`. */
  name?: string;
  /** Middleware groups (`'api'`, `'web'`). */
  groups?: string[];
  /** find-my-way constraints shared by the group (`{ host: 'admin.example.com' }`). */
  constraints?: Record<string, unknown>;
  /** Metadata merged into each route's `meta`. */
  meta?: Record<string, unknown>;
}

interface Scope {
  readonly prefix: string;
  readonly name: string;
  readonly middleware: readonly MiddlewareRef[];
  readonly groups: readonly string[];
  readonly constraints: Record<string, unknown> | undefined;
  readonly meta: Record<string, unknown>;
}

interface Shared {
  readonly records: RouteRecord[];
  readonly module: string | undefined;
  readonly instances: ControllerInstances;
}

/**
 * Declares routes: verbs, groups, resources and mounts, each producing a `RouteRecord`
 * that the `RouteTable` compiles at boot. One router per module; the kernel gives it the
 * module name and the controller factory.
 *
 * @example
 * ```ts
 * export default (router: Router) => {
 *   router.group({ prefix: '/api/v1', name: 'api.', middleware: ['auth'] }, (r) => {
 *     r.get('/products', listProducts).name('products.index');
 *     r.resource('orders', OrderController, { except: ['create', 'edit'] });
 *   });
 * };
 * ```
 */
export class Router {
  #shared: Shared;
  #scope: Scope;

  constructor(options: RouterOptions = {}) {
    const factory = options.controllerFactory ?? defaultControllerFactory;
    this.#shared = {
      records: [],
      module: options.module,
      instances: new ControllerInstances(() => factory),
    };
    this.#scope = {
      prefix: '',
      name: '',
      middleware: [],
      groups: [...(options.groups ?? [])],
      constraints: undefined,
      meta: {},
    };
  }

  /** The module this router declares routes for. */
  get module(): string | undefined {
    return this.#shared.module;
  }

  /** `GET path`; HEAD requests are answered by it too unless a HEAD route exists. */
  get<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['GET'], path, handler);
  }
  post<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['POST'], path, handler);
  }
  put<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['PUT'], path, handler);
  }
  patch<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['PATCH'], path, handler);
  }
  delete<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['DELETE'], path, handler);
  }
  head<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['HEAD'], path, handler);
  }
  options<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add(['OPTIONS'], path, handler);
  }

  /** Every method Keel serves. */
  any<C extends ControllerClass>(path: string, handler: RouteHandler<C>): RouteBuilder {
    return this.#add([...HTTP_METHODS], path, handler);
  }

  /** Several methods, one handler: `match(['GET', 'POST'], '/search', search)`. */
  match<C extends ControllerClass>(
    methods: readonly (HttpMethod | Lowercase<HttpMethod>)[],
    path: string,
    handler: RouteHandler<C>,
  ): RouteBuilder {
    if (!Array.isArray(methods) || methods.length === 0) {
      throw new E_INVALID_ROUTE(path, 'match() needs at least one method');
    }
    const list: HttpMethod[] = [];
    for (const method of methods) {
      const upper = String(method).toUpperCase() as HttpMethod;
      if (!HTTP_METHODS.includes(upper)) {
        throw new E_INVALID_ROUTE(
          path,
          `unknown method ${JSON.stringify(method)} (use ${HTTP_METHODS.join(', ')})`,
        );
      }
      if (!list.includes(upper)) list.push(upper);
    }
    return this.#add(list, path, handler);
  }

  /**
   * Declare routes sharing a prefix, name prefix, middleware and groups. Groups nest: the
   * inner prefix follows the outer, middleware runs outer first. Returns what the callback
   * returns, so an async callback can be awaited.
   */
  group<R>(options: GroupOptions, callback: (router: Router) => R): R {
    const outer = this.#scope;
    const prefix = options.prefix === undefined ? '' : options.prefix;
    if (prefix !== '') parseRoutePath(prefix);
    const groups = [...outer.groups];
    for (const name of options.groups ?? []) if (!groups.includes(name)) groups.push(name);
    const child = new Router();
    child.#shared = this.#shared;
    child.#scope = {
      prefix: joinPaths(outer.prefix, prefix === '/' ? '' : prefix),
      name: outer.name + (options.name ?? ''),
      middleware: [
        ...outer.middleware,
        ...checkMiddleware(prefix || '/', options.middleware ?? []),
      ],
      groups,
      constraints:
        outer.constraints || options.constraints
          ? { ...outer.constraints, ...options.constraints }
          : undefined,
      meta: { ...outer.meta, ...options.meta },
    };
    return callback(child);
  }

  /**
   * The seven conventional routes of a resource (index, create, store, show, edit,
   * update, destroy), named `products.index`... Nested resources use dots:
   * `resource('posts.comments', ...)` → `/posts/:post_id/comments/:id`.
   *
   * @example
   * ```ts
   * router.resource('products', ProductController, { except: ['destroy'] });
   * ```
   */
  resource(
    name: string,
    controller: ResourceController,
    options: ResourceOptions = {},
  ): ResourceRoutes {
    return resourceRoutes(this, name, controller, options, false);
  }

  /** A resource without the HTML form routes (`create`, `edit`). */
  apiResource(
    name: string,
    controller: ResourceController,
    options: ResourceOptions = {},
  ): ResourceRoutes {
    return resourceRoutes(this, name, controller, options, true);
  }

  /**
   * Serve every method under `prefix` with a web-standard fetch handler (a Hono app, ...).
   * The handler sees paths without the prefix. One record, path `/legacy/*`; the route
   * table also routes `/legacy` itself to it.
   */
  mount(prefix: string, handler: FetchHandler): RouteBuilder {
    if (typeof handler !== 'function') {
      throw new E_INVALID_ROUTE(
        prefix,
        'mount() needs a fetch handler function (request) => Response',
      );
    }
    const path = joinPaths(prefix, '/*');
    const full = joinPaths(this.#scope.prefix, prefix === '/' ? '' : prefix);
    const builder = this.#add([...HTTP_METHODS], path, mountHandler(handler, full));
    builder.record.mount = handler;
    return builder;
  }

  /** The routes declared so far, in declaration order (groups included). */
  routes(): RouteRecord[] {
    return [...this.#shared.records];
  }

  #add(methods: HttpMethod[], path: string, handler: unknown): RouteBuilder {
    const scope = this.#scope;
    if (typeof path !== 'string')
      throw new E_INVALID_ROUTE(String(path), 'the path must be a string');
    parseRoutePath(path);
    const full = joinPaths(scope.prefix, path);
    parseRoutePath(full);
    const label = `${methods.join('|')} ${full}`;
    let fn: Handler;
    if (typeof handler === 'function') fn = handler as Handler;
    else if (isControllerAction(handler)) {
      fn = controllerHandler(handler[0], handler[1], this.#shared.instances, label);
    } else {
      throw new E_INVALID_ROUTE(full, 'the handler must be a function or [Controller, "method"]');
    }
    const record: RouteRecord = {
      methods,
      path: full,
      handler: fn,
      middleware: [...scope.middleware],
      groups: [...scope.groups],
      meta: { ...scope.meta },
    };
    if (scope.constraints) record.constraints = { ...scope.constraints };
    if (this.#shared.module !== undefined) record.module = this.#shared.module;
    const source = captureSource();
    if (source !== undefined) record.source = source;
    this.#shared.records.push(record);
    return new RouteBuilder(record, scope.name);
  }
}
