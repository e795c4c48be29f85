import { suggest } from '../../support/index.js';
import type { Handler, HttpMethod, MiddlewareRef } from '../types.js';
import { type ControllerClass, isClass } from './controller-action.js';
import { E_CONTROLLER_METHOD_MISSING, E_INVALID_ROUTE } from './errors.js';
import type { RouteBuilder } from './route-builder.js';
import type { Router } from './router.js';

/** The conventional actions of a resource controller. */
export type ResourceAction = 'index' | 'create' | 'store' | 'show' | 'edit' | 'update' | 'destroy';

/** A controller class with action methods, or an object of handlers keyed by action. */
export type ResourceController = ControllerClass | Partial<Record<ResourceAction, Handler>>;

export interface ResourceOptions {
  /** Only these actions. */
  only?: ResourceAction[];
  /** All actions but these. */
  except?: ResourceAction[];
  /**
   * Parameter names by resource segment. The resource's own parameter defaults to `id`,
   * a parent's to `<singular>_id`: `{ posts: 'slug' }` → `/posts/:slug`.
   */
  params?: Record<string, string>;
  /** Middleware for every action of the resource (after group middleware). */
  middleware?: MiddlewareRef[];
}

interface ActionSpec {
  readonly action: ResourceAction;
  readonly methods: HttpMethod[];
  /** Path after the collection path; `:` stands for the member parameter. */
  readonly suffix: string;
  readonly form: boolean;
}

// Declaration order matters only for readability of routes:list: find-my-way gives static
// segments (`/create`) precedence over parameters regardless of order.
const ACTIONS: readonly ActionSpec[] = [
  { action: 'index', methods: ['GET'], suffix: '', form: false },
  { action: 'create', methods: ['GET'], suffix: '/create', form: true },
  { action: 'store', methods: ['POST'], suffix: '', form: false },
  { action: 'show', methods: ['GET'], suffix: '/:', form: false },
  { action: 'edit', methods: ['GET'], suffix: '/:/edit', form: true },
  { action: 'update', methods: ['PUT', 'PATCH'], suffix: '/:', form: false },
  { action: 'destroy', methods: ['DELETE'], suffix: '/:', form: false },
];

const ACTION_NAMES = ACTIONS.map((a) => a.action);
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `products` → `product`, `categories` → `category`, `boxes` → `box`: enough for ids. */
export function singular(word: string): string {
  if (/ies$/i.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/i.test(word)) return word.slice(0, -2);
  if (/[^su]s$/i.test(word)) return word.slice(0, -1);
  return word;
}

/**
 * The routes of one resource, to adjust after declaration.
 *
 * @example
 * ```ts
 * router.resource('products', ProductController)
 *   .middleware(['auth'], { except: ['index', 'show'] })
 *   .action('store').validate({ body: productSchema });
 * ```
 */
export class ResourceRoutes {
  /** The declared routes by action (absent when excluded). */
  readonly actions: Readonly<Partial<Record<ResourceAction, RouteBuilder>>>;
  readonly #name: string;

  constructor(name: string, actions: Partial<Record<ResourceAction, RouteBuilder>>) {
    this.#name = name;
    this.actions = actions;
  }

  /** The builder of one action; throws when the action was excluded. */
  action(action: ResourceAction): RouteBuilder {
    const builder = this.actions[action];
    if (!builder) {
      throw new E_INVALID_ROUTE(
        this.#name,
        `the resource has no "${action}" action (excluded or misspelled)`,
      );
    }
    return builder;
  }

  /** Add middleware to some actions (all by default). */
  middleware(
    refs: MiddlewareRef | MiddlewareRef[],
    filter: { only?: ResourceAction[]; except?: ResourceAction[] } = {},
  ): this {
    for (const action of select(this.#name, filter)) this.actions[action]?.middleware(refs);
    return this;
  }
}

function select(
  name: string,
  options: { only?: ResourceAction[]; except?: ResourceAction[] },
): ResourceAction[] {
  for (const action of [...(options.only ?? []), ...(options.except ?? [])]) {
    if (!ACTION_NAMES.includes(action)) {
      const hint = suggest(String(action), ACTION_NAMES);
      throw new E_INVALID_ROUTE(
        name,
        `unknown resource action "${action}"${hint ? ` (did you mean "${hint}"?)` : ''}; actions are ${ACTION_NAMES.join(', ')}`,
      );
    }
  }
  return ACTION_NAMES.filter(
    (a) => (!options.only || options.only.includes(a)) && !options.except?.includes(a),
  );
}

/** Declare a resource's routes on `router`; `api` leaves out the form routes. */
export function resourceRoutes(
  router: Router,
  name: string,
  controller: ResourceController,
  options: ResourceOptions,
  api: boolean,
): ResourceRoutes {
  if (typeof name !== 'string' || !name.split('.').every((s) => SEGMENT.test(s))) {
    throw new E_INVALID_ROUTE(
      String(name),
      'a resource name is dot-separated segments of letters, digits, "-" and "_" ("products", "posts.comments")',
    );
  }
  if (typeof controller !== 'function' && (typeof controller !== 'object' || controller === null)) {
    throw new E_INVALID_ROUTE(name, 'a resource needs a controller class or an object of handlers');
  }
  const segments = name.split('.');
  const params = options.params ?? {};
  let collection = '';
  segments.forEach((segment, index) => {
    collection += `/${segment}`;
    if (index < segments.length - 1) {
      const param = params[segment] ?? `${singular(segment).replace(/-/g, '_')}_id`;
      collection += `/:${param}`;
    }
  });
  const own = params[segments.at(-1)!] ?? 'id';
  const chosen = select(name, options).filter((action) => {
    const spec = ACTIONS.find((a) => a.action === action)!;
    return !(api && spec.form);
  });

  const actions: Partial<Record<ResourceAction, RouteBuilder>> = {};
  for (const spec of ACTIONS) {
    if (!chosen.includes(spec.action)) continue;
    const path = collection + spec.suffix.replace(':', `:${own}`);
    let handler: Handler | readonly [ControllerClass, string];
    if (isClass(controller)) {
      handler = [controller, spec.action];
    } else {
      const fn = (controller as Partial<Record<ResourceAction, Handler>>)[spec.action];
      if (typeof fn !== 'function') {
        throw new E_CONTROLLER_METHOD_MISSING(
          `{ handlers } of resource "${name}"`,
          spec.action,
          `${spec.methods.join('|')} ${path}`,
        );
      }
      handler = fn;
    }
    const builder = router
      .match(spec.methods, path, handler as Handler)
      .name(`${name}.${spec.action}`);
    if (options.middleware) builder.middleware(options.middleware);
    actions[spec.action] = builder;
  }
  return new ResourceRoutes(name, actions);
}
