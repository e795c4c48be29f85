import { defineError } from '../../support/index.js';

/**
 * The router catalogue. Declaration mistakes (bad paths, duplicates, missing controller
 * methods) surface at boot with status 500 and name the route, the module and the
 * `file:line` where it was declared; request-time misses (404/405) are the HTTP kernel's.
 */

export const E_INVALID_ROUTE = defineError(
  'E_INVALID_ROUTE',
  (path: string, reason: string) => `Invalid route ${JSON.stringify(path)}: ${reason}`,
  {
    status: 500,
    help: 'Paths start with "/", use `:name` parameters, `:name(regex)` constraints and a trailing `*` wildcard; no spaces, "?", "#", "%", "//" or dot segments.',
    details: (path, reason) => ({ path, reason }),
  },
);

export const E_DUPLICATE_ROUTE = defineError(
  'E_DUPLICATE_ROUTE',
  (method: string, path: string, first: string, second: string) =>
    `Route ${method} ${path} is declared twice: ${first}, and again ${second}`,
  {
    status: 500,
    help: 'Remove one declaration, change its path or method, or give the routes different constraints (host, version).',
    details: (method, path, first, second) => ({ method, path, first, second }),
  },
);

export const E_DUPLICATE_ROUTE_NAME = defineError(
  'E_DUPLICATE_ROUTE_NAME',
  (name: string, first: string, second: string) =>
    `Route name "${name}" is used twice: ${first}, and again ${second}`,
  {
    status: 500,
    help: 'Route names are global across modules: rename one route or put it in a group with a name prefix (`group({ name: "admin." })`).',
    details: (name, first, second) => ({ name, first, second }),
  },
);

export const E_ROUTE_NAME_NOT_FOUND = defineError(
  'E_ROUTE_NAME_NOT_FOUND',
  (name: string, suggestion?: string) =>
    `No route is named "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
  {
    status: 500,
    help: 'Name the route with `.name("...")` (or @Name), or run `keel routes:list` to see the names.',
    details: (name, suggestion) => ({ name, ...(suggestion ? { suggestion } : {}) }),
  },
);

export const E_ROUTE_PARAM_MISSING = defineError(
  'E_ROUTE_PARAM_MISSING',
  (name: string, param: string, path: string) =>
    `Route "${name}" (${path}) needs parameter "${param}" to build its URL`,
  {
    status: 500,
    help: 'Pass every parameter of the path to url(name, { param: value }); empty strings count as missing.',
    details: (name, param, path) => ({ name, param, path }),
  },
);

export const E_ROUTE_PARAM_INVALID = defineError(
  'E_ROUTE_PARAM_INVALID',
  (name: string, param: string, pattern: string) =>
    `Route "${name}" parameter "${param}" does not match its pattern ${pattern}`,
  {
    status: 500,
    help: 'Pass a value the route would match: the URL built would otherwise answer 404.',
    details: (name, param, pattern) => ({ name, param, pattern }),
  },
);

export const E_CONTROLLER_METHOD_MISSING = defineError(
  'E_CONTROLLER_METHOD_MISSING',
  (controller: string, method: string, route: string) =>
    `Controller ${controller} has no method "${method}" for route ${route}`,
  {
    status: 500,
    help: 'Add the method to the controller, or leave the action out with `{ only: [...] }` / `{ except: [...] }`.',
    details: (controller, method, route) => ({ controller, method, route }),
  },
);

export const E_NOT_A_CONTROLLER = defineError(
  'E_NOT_A_CONTROLLER',
  (what: string) => `${what} is not a controller: it has no @Controller decorator`,
  {
    status: 500,
    help: 'Decorate the class with @Controller("/prefix"), or register its routes with router.get(...) instead.',
    details: (what) => ({ what }),
  },
);

export const E_CONTROLLER_IMPORT_FAILED = defineError(
  'E_CONTROLLER_IMPORT_FAILED',
  (file: string, reason: string) => `Could not import controller file ${file}: ${reason}`,
  {
    status: 500,
    help: 'Fix the error in that file (its `cause` holds the original error), or move non-controller code out of controllers/.',
    details: (file, reason) => ({ file, reason }),
  },
);
