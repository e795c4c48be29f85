import { defineCommand } from '../../../kernel/command.js';
import type { RouteListEntry } from '../route-table.js';

/** What the command needs from the application: the route table under `http.routes`. */
export interface RoutesListApp {
  make(key: 'http.routes'): unknown;
}

interface Listable {
  list(): RouteListEntry[];
}

function isListable(value: unknown): value is Listable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { list?: unknown }).list === 'function'
  );
}

/** Filters of `routes:list`, each optional. */
export interface RouteFilters {
  method?: string;
  path?: string;
  name?: string;
  module?: string;
}

/**
 * Keep the routes matching every filter: `method` is one of the route's methods (GET
 * includes HEAD), `path` a prefix of the path, `name` a substring of the name, `module`
 * the module's exact name.
 */
export function filterRoutes(routes: RouteListEntry[], filters: RouteFilters): RouteListEntry[] {
  const method = filters.method?.toUpperCase();
  return routes.filter((route) => {
    if (method) {
      const methods = route.method === 'ANY' ? [method] : route.method.split('|');
      if (methods.includes('GET')) methods.push('HEAD');
      if (!methods.includes(method)) return false;
    }
    if (filters.path && !route.path.startsWith(filters.path)) return false;
    if (filters.name && !(route.name ?? '').includes(filters.name)) return false;
    if (filters.module && route.module !== filters.module) return false;
    return true;
  });
}

/**
 * `keel routes:list`: every route with its method, path, name, module and middleware.
 * `--json` prints the same rows as the compiled `var/cache/routes.json` holds.
 */
export const routesListCommand = defineCommand<RoutesListApp>({
  name: 'routes:list',
  description: 'List the HTTP routes: method, path, name, module and middleware',
  aliases: ['route:list'],
  json: true,
  needs: 'booted',
  options: [
    { flags: '--method <method>', description: 'Only routes answering this method' },
    { flags: '--path <prefix>', description: 'Only paths starting with this prefix' },
    { flags: '--name <text>', description: 'Only names containing this text' },
    { flags: '--module <name>', description: 'Only routes of this module' },
  ],
  handle({ app, options, ui }) {
    const table = app.make('http.routes');
    if (!isListable(table)) {
      ui.error('The application has no route table (is the HTTP provider registered?)');
      return 1;
    }
    const text = (key: string): string | undefined =>
      typeof options[key] === 'string' ? (options[key] as string) : undefined;
    const filters: RouteFilters = {};
    for (const key of ['method', 'path', 'name', 'module'] as const) {
      const value = text(key);
      if (value !== undefined) filters[key] = value;
    }
    const routes = filterRoutes(table.list(), filters);
    ui.output(routes, () => {
      ui.table(
        routes.map((route) => ({
          method: route.method,
          path: route.path,
          name: route.name ?? '',
          module: route.module ?? '',
          middleware: route.middleware.join(', '),
        })),
        ['method', 'path', 'name', 'module', 'middleware'],
      );
      ui.line(ui.dim(`${routes.length} route${routes.length === 1 ? '' : 's'}`));
    });
    return 0;
  },
});
