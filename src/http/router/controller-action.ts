import type { HttpContext } from '../context.js';
import type { Handler } from '../types.js';
import { E_CONTROLLER_METHOD_MISSING } from './errors.js';

/** A controller class: any class whose instances have handler methods. */
export type ControllerClass<T extends object = object> = abstract new (...args: never[]) => T;

/**
 * Builds a controller instance. The kernel passes one that resolves through the container
 * (constructor injection); the default is `new Controller()`.
 */
export type ControllerFactory = (controller: ControllerClass) => unknown;

/** The method names of `T` usable as handlers. */
export type ActionName<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  (string | symbol);

/** `[ProductController, 'index']`: a controller method as a route handler. */
export type ControllerAction<C extends ControllerClass = ControllerClass> = readonly [
  C,
  ActionName<InstanceType<C>>,
];

export const defaultControllerFactory: ControllerFactory = (controller) =>
  new (controller as unknown as new () => object)();

/** True for `[Class, 'method']`. */
export function isControllerAction(value: unknown): value is ControllerAction {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'function' &&
    (typeof value[1] === 'string' || typeof value[1] === 'symbol')
  );
}

/** True when `value` is a class (a function with a prototype carrying methods). */
export function isClass(value: unknown): value is ControllerClass {
  return typeof value === 'function' && value.prototype !== undefined;
}

/**
 * One instance per controller class, made on first use by the factory. Instantiation is
 * lazy so that routes can be declared before the container can build the controller's
 * dependencies; it is cached so that requests do not pay for container resolution.
 */
export class ControllerInstances {
  readonly #instances = new Map<ControllerClass, Record<PropertyKey, unknown>>();
  readonly #factory: () => ControllerFactory;

  constructor(factory: () => ControllerFactory) {
    this.#factory = factory;
  }

  get(controller: ControllerClass): Record<PropertyKey, unknown> {
    let instance = this.#instances.get(controller);
    if (instance === undefined) {
      instance = this.#factory()(controller) as Record<PropertyKey, unknown>;
      this.#instances.set(controller, instance);
    }
    return instance;
  }
}

/**
 * A route handler calling `method` on the controller's instance, with `this` bound. The
 * method's presence is checked now (declaration time), not at the first request.
 *
 * @example
 * ```ts
 * const handler = controllerHandler(ProductController, 'index', instances, 'GET /products');
 * ```
 */
export function controllerHandler(
  controller: ControllerClass,
  method: string | symbol,
  instances: ControllerInstances,
  route: string,
): Handler {
  const label = `${controller.name || '<anonymous>'}.${String(method)}`;
  if (typeof (controller.prototype as Record<PropertyKey, unknown>)[method] !== 'function') {
    throw new E_CONTROLLER_METHOD_MISSING(controller.name || '<anonymous>', String(method), route);
  }
  const handler = (ctx: HttpContext): unknown => {
    const instance = instances.get(controller);
    const fn = instance?.[method];
    if (typeof fn !== 'function') {
      throw new E_CONTROLLER_METHOD_MISSING(label, String(method), route);
    }
    return (fn as Handler).call(instance, ctx);
  };
  Object.defineProperty(handler, 'name', { value: label });
  return handler;
}
