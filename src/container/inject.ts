import type { Constructor } from '../support/index.js';
import { isClass } from './binding.js';
import { E_CANNOT_RESOLVE_CLASS, E_INVALID_CALL, E_INVALID_INJECT } from './errors.js';
import { type BindingKey, isBindingKey, keyName } from './token.js';

/**
 * Where `@inject` stores its list. A symbol, not `Symbol.metadata`: the compiled build
 * (tsc) only fills `context.metadata` when `Symbol.metadata` exists, which Node 20 lacks,
 * so metadata would silently vanish in production while working under esbuild.
 */
const INJECT = Symbol.for('keel.container.inject');

/** A function or method that declares its dependencies for `container.call()`. */
export type InjectableFunction<F extends (...args: never[]) => unknown> = F & {
  inject?: readonly BindingKey[];
};

type Decorated = Constructor | ((...args: never[]) => unknown);

/**
 * Declare dependencies with a standard (TC39) decorator: on a class, the constructor's
 * parameters; on a method, the leading parameters `container.call(instance, 'method')`
 * passes. Same as writing `static inject = [...]` on the class.
 *
 * @example
 * ```ts
 * @inject(Database, 'config')
 * class UserService {
 *   constructor(private db: Database, private config: Config) {}
 *
 *   @inject(Mailer)
 *   async invite(mailer: Mailer, email: string) {}
 * }
 * await container.call(container.make(UserService), 'invite', ['ada@example.com']);
 * ```
 */
export function inject(
  ...keys: BindingKey[]
): (value: Decorated, context: ClassDecoratorContext | ClassMethodDecoratorContext) => void {
  return (value, context) => {
    const owner =
      context.kind === 'class'
        ? (context.name ?? '(anonymous class)')
        : `method ${String(context.name)}`;
    if (context.kind !== 'class' && context.kind !== 'method') {
      throw new E_INVALID_INJECT(owner, '@inject goes on a class or a method');
    }
    if (context.kind === 'method' && context.private) {
      throw new E_INVALID_INJECT(owner, 'container.call() cannot reach a #private method');
    }
    Object.defineProperty(value, INJECT, { value: validateInjectList(keys, owner) });
  };
}

/** Check an inject list and return a frozen copy. */
export function validateInjectList(list: unknown, owner: string): readonly BindingKey[] {
  if (!Array.isArray(list)) {
    throw new E_INVALID_INJECT(owner, `expected an array, got ${typeOf(list)}`);
  }
  list.forEach((key, index) => {
    if (!isBindingKey(key)) {
      const hint = key === undefined ? ' (a circular import?)' : '';
      throw new E_INVALID_INJECT(owner, `entry ${index} is ${typeOf(key)}${hint}`);
    }
  });
  return Object.freeze([...list]);
}

/**
 * The dependencies a class or function declares, or undefined when it declares none.
 * Walks the prototype chain of constructors so a subclass without its own list inherits
 * its parent's (its implicit constructor forwards the same arguments), while a subclass's
 * own `static inject` wins over a decorated parent.
 */
export function readInjectList(target: Function): readonly BindingKey[] | undefined {
  for (let current: unknown = target; typeof current === 'function'; ) {
    if (Object.hasOwn(current, INJECT)) {
      return (current as unknown as Record<symbol, readonly BindingKey[]>)[INJECT];
    }
    if (Object.hasOwn(current, 'inject')) {
      const list = (current as { inject?: unknown }).inject;
      if (list === undefined) return undefined;
      return validateInjectList(list, keyName(target));
    }
    current = Object.getPrototypeOf(current);
    if (current === Function.prototype) break;
  }
  return undefined;
}

const classDeps = new WeakMap<Function, readonly BindingKey[]>();

/**
 * The constructor dependencies of a class, checked against its parameter count. A class
 * whose constructor takes parameters must say what they are: guessing from types is not
 * possible at runtime, and passing `undefined` would fail far from the cause.
 */
export function classDependencies(cls: Function): readonly BindingKey[] {
  const cached = classDeps.get(cls);
  if (cached) return cached;
  const name = keyName(cls);
  if (!isClass(cls) && !cls.prototype) {
    throw new E_CANNOT_RESOLVE_CLASS(name, 'it is a function, not a class; bind it with a factory');
  }
  const list = readInjectList(cls);
  if (list === undefined && cls.length > 0) {
    throw new E_CANNOT_RESOLVE_CLASS(
      name,
      `its constructor takes ${cls.length} parameter(s) but it declares no inject list`,
    );
  }
  if (list !== undefined && list.length < cls.length) {
    throw new E_CANNOT_RESOLVE_CLASS(
      name,
      `its constructor takes ${cls.length} parameter(s) but inject lists ${list.length}`,
    );
  }
  const deps = list ?? [];
  classDeps.set(cls, deps);
  return deps;
}

/** What `container.call()` runs: the function, its `this`, its dependencies and extra args. */
export interface PreparedCall {
  fn: Function;
  self: unknown;
  deps: readonly BindingKey[];
  args: readonly unknown[];
}

/** Sort out the two call() forms: `(fn, args?)` and `(instance, method, args?)`. */
export function prepareCall(
  target: unknown,
  methodOrArgs: unknown,
  maybeArgs: unknown,
): PreparedCall {
  const isMethod = typeof methodOrArgs === 'string' || typeof methodOrArgs === 'symbol';
  const args = (isMethod ? maybeArgs : methodOrArgs) ?? [];
  if (!Array.isArray(args)) {
    throw new E_INVALID_CALL(describeTarget(target), 'extra arguments must be an array');
  }
  if (isMethod) {
    if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
      throw new E_INVALID_CALL(describeTarget(target), 'not an object');
    }
    const fn = (target as Record<PropertyKey, unknown>)[methodOrArgs];
    const name = `${describeTarget(target)}.${String(methodOrArgs)}`;
    if (typeof fn !== 'function') throw new E_INVALID_CALL(name, 'not a method');
    return { fn, self: target, deps: readInjectList(fn) ?? [], args };
  }
  if (typeof target !== 'function') {
    throw new E_INVALID_CALL(describeTarget(target), 'not a function');
  }
  if (isClass(target)) throw new E_INVALID_CALL(keyName(target), 'a class; use make() instead');
  return { fn: target, self: undefined, deps: readInjectList(target) ?? [], args };
}

function describeTarget(target: unknown): string {
  if (typeof target === 'function') return target.name || '(anonymous function)';
  if (target === null || typeof target !== 'object') return String(target);
  return target.constructor?.name || 'object';
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value;
}
