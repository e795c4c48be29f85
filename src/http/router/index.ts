/**
 * Keel's router: a fluent declaration API (verbs, groups, resources, mounts, controller
 * decorators) producing `RouteRecord`s, and the `RouteTable` that compiles every module's
 * records into one find-my-way tree for lookups, 405 `Allow` lists and URL generation.
 */

export {
  filterRoutes,
  type RouteFilters,
  type RoutesListApp,
  routesListCommand,
} from './commands/routes-list-command.js';
export {
  type ActionName,
  type ControllerAction,
  type ControllerClass,
  type ControllerFactory,
  defaultControllerFactory,
} from './controller-action.js';
export {
  type ClassOrMethodDecorator,
  Controller,
  type ControllerMetadata,
  type ControllerOptions,
  controllerMetadata,
  Delete,
  discoverControllers,
  Get,
  Head,
  isController,
  Meta,
  Middleware,
  Name,
  Options,
  Patch,
  Post,
  Put,
  type RouteMethodDecorator,
  registerControllers,
  Validate,
} from './decorators.js';
export * from './errors.js';
export {
  type ResourceAction,
  type ResourceController,
  type ResourceOptions,
  ResourceRoutes,
} from './resource-routes.js';
export { RouteBuilder } from './route-builder.js';
export { parseRoutePath } from './route-path.js';
export {
  middlewareName,
  type RouteListEntry,
  type RouteMatch,
  RouteTable,
  type RouteTableOptions,
} from './route-table.js';
export { type GroupOptions, type RouteHandler, Router, type RouterOptions } from './router.js';
export type { UrlParams, UrlQuery } from './url-builder.js';
