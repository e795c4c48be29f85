import { defineError } from '../support/index.js';

export const E_FILE_NOT_FOUND = defineError(
  'E_FILE_NOT_FOUND',
  (path: string) => `File not found: ${path}`,
  {
    status: 404,
    help: 'Check the file name; ctx.file() serves only regular files inside its root folder.',
  },
);

export const E_PATH_TRAVERSAL = defineError(
  'E_PATH_TRAVERSAL',
  (path: string) =>
    `Refused a path that leaves its root folder: ${JSON.stringify(path.slice(0, 200))}`,
  {
    status: 400,
    help: 'Pass a relative file name inside the served folder; "..", absolute paths and NUL bytes are refused.',
  },
);

export const E_MIDDLEWARE_NOT_FOUND = defineError(
  'E_MIDDLEWARE_NOT_FOUND',
  (name: string, route: string, suggestion?: string) =>
    `Route ${route} uses middleware "${name}", which is not registered${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
  {
    help: 'Register it with http.middleware.register(name, factory) in a provider, or fix the name.',
  },
);

export const E_MIDDLEWARE_GROUP_NOT_FOUND = defineError(
  'E_MIDDLEWARE_GROUP_NOT_FOUND',
  (group: string, route: string) =>
    `Route ${route} belongs to middleware group "${group}", which is not defined`,
  { help: 'Define the group with http.middleware.group(name, [...]) or drop it from the route.' },
);

export const E_INVALID_MIDDLEWARE = defineError(
  'E_INVALID_MIDDLEWARE',
  (what: string) => `Invalid middleware: ${what}`,
  {
    help: 'A middleware is a function (ctx, next), an object { handle, terminate }, or a registered name.',
  },
);

export const E_NEXT_CALLED_TWICE = defineError(
  'E_NEXT_CALLED_TWICE',
  (route: string) => `A middleware of ${route} called next() more than once`,
  { help: 'Call `await next()` once per middleware invocation.' },
);

export const E_VIEWS_NOT_CONFIGURED = defineError(
  'E_VIEWS_NOT_CONFIGURED',
  (view: string) => `Cannot render "${view}": no view engine is configured`,
  {
    help: 'Run the app through Keel (the HTTP provider binds the Eta view engine), or pass `views` to HttpKernel.',
  },
);
