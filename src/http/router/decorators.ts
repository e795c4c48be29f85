import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BodyOptions } from '../body/index.js';
import type { HttpMethod, MiddlewareRef, RouteSchemas } from '../types.js';
import {
  type ControllerClass,
  type ControllerFactory,
  ControllerInstances,
  controllerHandler,
} from './controller-action.js';
import { E_CONTROLLER_IMPORT_FAILED, E_INVALID_ROUTE, E_NOT_A_CONTROLLER } from './errors.js';
import type { RouteBuilder } from './route-builder.js';
import { checkMiddleware } from './route-builder.js';
import { joinPaths, parseRoutePath } from './route-path.js';
import { captureSource } from './route-source.js';
import type { Router } from './router.js';

// Metadata lives on the class and on the method functions under registry symbols (no
// `Symbol.metadata` on Node 20). `Symbol.for` keeps it readable when a controller file and
// the framework load different copies of this module (dist vs. src, two package copies).
const CONTROLLER = Symbol.for('keel.router.controller');
const CLASS_MIDDLEWARE = Symbol.for('keel.router.class-middleware');
const ACTION = Symbol.for('keel.router.action');

/** Options of `@Controller`. */
export interface ControllerOptions {
  /** Middleware for every route of the controller, before the routes' own. */
  middleware?: MiddlewareRef[];
  /** Name prefix, concatenated as written (`'products.'`). */
  name?: string;
  /** Middleware groups (`'api'`, `'web'`). */
  groups?: string[];
}

interface RouteDeclaration {
  methods: HttpMethod[];
  path: string;
  source: string | undefined;
}

interface ActionMetadata {
  routes: RouteDeclaration[];
  middleware: MiddlewareRef[];
  name: string | undefined;
  schemas: RouteSchemas | undefined;
  body: BodyOptions | undefined;
  meta: Record<string, unknown>;
}

interface ClassMetadata {
  prefix: string;
  options: ControllerOptions;
  source: string | undefined;
}

/** Everything the decorators recorded about a controller class. */
export interface ControllerMetadata {
  prefix: string;
  middleware: MiddlewareRef[];
  name: string;
  groups: string[];
  source: string | undefined;
  actions: Array<ActionMetadata & { method: string | symbol }>;
}

/** A TC39 decorator for a public instance method. */
export type RouteMethodDecorator = (
  value: (...args: never[]) => unknown,
  context: ClassMethodDecoratorContext,
) => void;

/** A TC39 decorator usable on a class or on a public instance method. */
export interface ClassOrMethodDecorator {
  (value: ControllerClass, context: ClassDecoratorContext): void;
  (value: (...args: never[]) => unknown, context: ClassMethodDecoratorContext): void;
}

type Carrier = Record<symbol, unknown>;

function actionOf(
  decorator: string,
  value: unknown,
  context: { kind: string; static?: boolean; private?: boolean; name: string | symbol | undefined },
): ActionMetadata {
  if (context.kind !== 'method' || context.static || context.private) {
    throw new E_INVALID_ROUTE(
      `@${decorator} on ${String(context.name)}`,
      'route decorators go on public instance methods',
    );
  }
  const fn = value as Carrier;
  let meta = Object.hasOwn(fn, ACTION) ? (fn[ACTION] as ActionMetadata) : undefined;
  if (meta === undefined) {
    meta = {
      routes: [],
      middleware: [],
      name: undefined,
      schemas: undefined,
      body: undefined,
      meta: {},
    };
    Object.defineProperty(fn, ACTION, { value: meta });
  }
  return meta;
}

function route(methods: HttpMethod[], decorator: string) {
  return (path = '/'): RouteMethodDecorator => {
    parseRoutePath(path);
    const source = captureSource();
    return (value, context) => {
      // Decorators apply bottom-up; unshift keeps the routes in reading order.
      actionOf(decorator, value, context).routes.unshift({ methods, path, source });
    };
  };
}

/** `@Get('/:id')` on a controller method: a GET route (HEAD follows). Path defaults to `/`. */
export const Get = route(['GET'], 'Get');
/** `@Post(path)`. */
export const Post = route(['POST'], 'Post');
/** `@Put(path)`. */
export const Put = route(['PUT'], 'Put');
/** `@Patch(path)`. */
export const Patch = route(['PATCH'], 'Patch');
/** `@Delete(path)`. */
export const Delete = route(['DELETE'], 'Delete');
/** `@Head(path)`. */
export const Head = route(['HEAD'], 'Head');
/** `@Options(path)`. */
export const Options = route(['OPTIONS'], 'Options');

/**
 * Mark a class as a controller whose decorated methods become routes under `prefix`.
 *
 * @example
 * ```ts
 * @Controller('/products', { name: 'products.', middleware: ['auth'] })
 * export class ProductController {
 *   constructor(private readonly repo: ProductRepository) {}
 *   @Get('/') @Name('index') index() { return this.repo.all(); }
 *   @Get('/:id(^\\d+$)') @Name('show') show(ctx: HttpContext) { return this.repo.find(ctx.params.id); }
 * }
 * ```
 */
export function Controller(prefix = '/', options: ControllerOptions = {}) {
  if (prefix !== '/') parseRoutePath(prefix);
  const source = captureSource();
  return <C extends ControllerClass>(value: C, context: ClassDecoratorContext<C>): void => {
    if ((context as { kind: string }).kind !== 'class') {
      throw new E_INVALID_ROUTE(String(context.name), '@Controller goes on a class');
    }
    const meta: ClassMetadata = { prefix, options, source };
    Object.defineProperty(value, CONTROLLER, { value: meta, configurable: true });
  };
}

/** Middleware for a whole controller (on the class) or one action (on a method), in reading order. */
export function Middleware(...refs: MiddlewareRef[]): ClassOrMethodDecorator {
  const checked = checkMiddleware('@Middleware', refs);
  return ((value: unknown, context: ClassDecoratorContext | ClassMethodDecoratorContext) => {
    if (context.kind === 'class') {
      const carrier = value as Carrier;
      const list = Object.hasOwn(carrier, CLASS_MIDDLEWARE)
        ? (carrier[CLASS_MIDDLEWARE] as MiddlewareRef[])
        : [];
      Object.defineProperty(carrier, CLASS_MIDDLEWARE, {
        value: [...checked, ...list],
        configurable: true,
      });
      return;
    }
    const meta = actionOf('Middleware', value, context);
    meta.middleware = [...checked, ...meta.middleware];
  }) as ClassOrMethodDecorator;
}

/** Name the action's route (prefixed by the controller's `name`). */
export function Name(name: string): RouteMethodDecorator {
  return (value, context) => {
    actionOf('Name', value, context).name = name;
  };
}

/** Validate the action's input with Standard Schemas. */
export function Validate(schemas: RouteSchemas): RouteMethodDecorator {
  return (value, context) => {
    const meta = actionOf('Validate', value, context);
    meta.schemas = { ...meta.schemas, ...schemas };
  };
}

/** Free metadata for the action's route (OpenAPI summary, tags...). */
export function Meta(meta: Record<string, unknown>): RouteMethodDecorator {
  return (value, context) => {
    Object.assign(actionOf('Meta', value, context).meta, meta);
  };
}

/** True when the class carries `@Controller`. */
export function isController(value: unknown): value is ControllerClass {
  return typeof value === 'function' && Object.hasOwn(value, CONTROLLER);
}

/**
 * What the decorators recorded on a controller, or undefined for other classes. Actions
 * come from the class and its base classes (an override without decorators hides the
 * base method's routes).
 */
export function controllerMetadata(controller: ControllerClass): ControllerMetadata | undefined {
  if (!isController(controller)) return undefined;
  const carrier = controller as unknown as Carrier;
  const meta = carrier[CONTROLLER] as ClassMetadata;
  const classMiddleware = Object.hasOwn(carrier, CLASS_MIDDLEWARE)
    ? (carrier[CLASS_MIDDLEWARE] as MiddlewareRef[])
    : [];
  const actions: ControllerMetadata['actions'] = [];
  const seen = new Set<PropertyKey>(['constructor']);
  for (
    let proto = controller.prototype as object | null;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const key of Reflect.ownKeys(proto)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const value = Object.getOwnPropertyDescriptor(proto, key)?.value as Carrier | undefined;
      if (typeof value !== 'function' || !Object.hasOwn(value, ACTION)) continue;
      actions.push({ method: key, ...(value[ACTION] as ActionMetadata) });
    }
  }
  return {
    prefix: meta.prefix,
    middleware: [
      ...checkMiddleware(meta.prefix, meta.options.middleware ?? []),
      ...classMiddleware,
    ],
    name: meta.options.name ?? '',
    groups: [...(meta.options.groups ?? [])],
    source: meta.source,
    actions,
  };
}

/**
 * Declare the routes of decorated controllers on `router`. Instances come from `factory`
 * when given, else from the router's controller factory.
 *
 * @example
 * ```ts
 * registerControllers(router, await discoverControllers('modules/catalog/controllers'));
 * ```
 */
export function registerControllers(
  router: Router,
  controllers: readonly ControllerClass[],
  factory?: ControllerFactory,
): RouteBuilder[] {
  const instances = factory ? new ControllerInstances(() => factory) : undefined;
  const builders: RouteBuilder[] = [];
  for (const controller of controllers) {
    const meta = controllerMetadata(controller);
    if (meta === undefined) {
      throw new E_NOT_A_CONTROLLER(
        typeof controller === 'function'
          ? `Class ${controller.name || '<anonymous>'}`
          : String(controller),
      );
    }
    const group = {
      prefix: meta.prefix,
      middleware: meta.middleware,
      name: meta.name,
      groups: meta.groups,
    };
    router.group(group, (r) => {
      for (const action of meta.actions) {
        for (const declaration of action.routes) {
          const label = `${declaration.methods.join('|')} ${joinPaths(meta.prefix, declaration.path)}`;
          const builder = r.match(
            declaration.methods,
            declaration.path,
            instances
              ? controllerHandler(controller, action.method, instances, label)
              : [controller, action.method as never],
          );
          const source = declaration.source ?? meta.source;
          if (source !== undefined) builder.record.source = source;
          if (action.middleware.length > 0) builder.middleware(action.middleware);
          if (action.name !== undefined) builder.name(action.name);
          if (action.schemas) builder.validate(action.schemas);
          if (action.body) builder.body(action.body);
          builder.meta(action.meta);
          builders.push(builder);
        }
      }
    });
  }
  return builders;
}

const CODE_FILE = /\.[cm]?[jt]s$/;
const SKIPPED_FILE = /\.(?:d|test|spec)\.[cm]?[jt]s$/;

async function codeFiles(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (
        !entry.name.startsWith('.') &&
        !entry.name.startsWith('__') &&
        entry.name !== 'node_modules'
      ) {
        files.push(...(await codeFiles(path)));
      }
    } else if (entry.isFile() && CODE_FILE.test(entry.name) && !SKIPPED_FILE.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

/**
 * Import every code file under a module's `controllers/` folder (recursively, skipping
 * tests and declaration files) and return the exported `@Controller` classes, in file
 * order. A missing folder yields none; a file failing to import throws
 * `E_CONTROLLER_IMPORT_FAILED` naming it.
 *
 * @example
 * ```ts
 * registerControllers(router, await discoverControllers(join(moduleDir, 'controllers')));
 * ```
 */
export async function discoverControllers(dir: string): Promise<ControllerClass[]> {
  const found: ControllerClass[] = [];
  for (const file of await codeFiles(dir)) {
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (error) {
      throw new E_CONTROLLER_IMPORT_FAILED(
        file,
        (error as Error)?.message ?? String(error),
      ).withCause(error);
    }
    for (const value of Object.values(exports)) {
      if (isController(value) && !found.includes(value)) found.push(value);
    }
  }
  return found;
}
