import type { Awaitable, Constructor } from '../support/index.js';
import { type BindingDescription, isClass } from './binding.js';
import { E_ALIAS_CYCLE, E_INVALID_BINDING } from './errors.js';
import { prepareCall } from './inject.js';
import { newShared, Resolver } from './resolver.js';
import { type BindingKey, isBindingKey, keyName, type Token } from './token.js';

/**
 * The map of string keys to service types. Empty here; each subsystem and application adds
 * its keys by declaration merging, which types `make('key')` without casts.
 *
 * @example
 * ```ts
 * declare module 'keel/container' {
 *   interface ContainerBindings {
 *     mailer: Mailer;
 *   }
 * }
 * const mailer = container.make('mailer'); // Mailer
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface ContainerBindings {}

/** Builds a service. Receives the container to resolve its own dependencies from. */
export type Factory<T> = (container: Container) => T;

export type { BindingDescription, Lifetime } from './binding.js';

/** Asked for a key nobody bound; returns true when it bound it (deferred providers). */
export type MissingResolver = (key: BindingKey) => boolean | Promise<boolean>;

/** What a missing resolver can tell without resolving anything. */
export interface MissingResolverOptions {
  has?: (key: BindingKey) => boolean;
  keys?: () => Iterable<BindingKey>;
}

/** Keys of `T` whose values are methods, for `call(instance, 'method')`. */
export type MethodKey<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T];

type MethodReturn<T, M extends keyof T> = T[M] extends (...args: never[]) => infer R ? R : never;
type Known = keyof ContainerBindings;
type Bindings = ContainerBindings;
/** What swap() accepts: a value, a factory, or a class to construct. */
type Replacement<T> = T | Factory<Awaitable<T>> | Constructor<T>;
/** A string or symbol key that is not in ContainerBindings: typed keys must use their type. */
type Untyped<S> = S extends Known ? never : S;

/**
 * Keel's dependency injection container: bindings with lifetimes, typed keys, class
 * construction from inject lists, async factories, scopes and test swaps.
 *
 * @example
 * ```ts
 * const container = new Container();
 * container.singleton('config', () => loadConfig());
 * container.singleton(UserService); // built from UserService.inject
 * const users = container.make(UserService);
 * ```
 */
export class Container {
  #r: Resolver;

  constructor() {
    this.#r = new Resolver(this, undefined, newShared(), 'root');
  }

  /** `root` for the application container, the label given to createScope() otherwise. */
  get label(): string {
    return this.#r.label;
  }

  /** True for a container made by createScope(). */
  get isScope(): boolean {
    return this.#r.parent !== undefined;
  }

  /**
   * Bind a transient: the factory runs on every resolution.
   *
   * @example
   * ```ts
   * container.bind('clock', () => new Date());
   * ```
   */
  bind<K extends Known>(key: K, factory: Factory<Awaitable<Bindings[K]>>): this;
  bind<T>(key: Token<T> | Constructor<T>, factory: Factory<Awaitable<T>>): this;
  bind<S extends string | symbol>(key: Untyped<S>, factory: Factory<unknown>): this;
  bind(key: BindingKey, factory?: Factory<unknown>): this {
    this.#r.register(key, 'transient', factory, undefined);
    return this;
  }

  /**
   * Bind a singleton: built once, on first resolution, and shared by every scope. Without a
   * factory, a class key is constructed from its inject list. An async factory runs once
   * even under concurrent `makeAsync` calls; if it rejects, the next call retries.
   *
   * @example
   * ```ts
   * container.singleton(Database, async () => Database.connect(url));
   * container.singleton(UserRepository);
   * ```
   */
  singleton<K extends Known>(key: K, factory: Factory<Awaitable<Bindings[K]>>): this;
  singleton<T>(key: Token<T>, factory: Factory<Awaitable<T>>): this;
  singleton<T>(key: Constructor<T>, factory?: Factory<Awaitable<T>>): this;
  singleton<S extends string | symbol>(key: Untyped<S>, factory: Factory<unknown>): this;
  singleton(key: BindingKey, factory?: Factory<unknown>): this {
    this.#r.register(key, 'singleton', factory, undefined);
    return this;
  }

  /**
   * Bind a scoped service: one instance per scope (request, job), disposed with the scope.
   * Resolving it from the root container throws E_SCOPE_REQUIRED.
   *
   * @example
   * ```ts
   * container.scoped(UnitOfWork);
   * const scope = container.createScope('request');
   * scope.make(UnitOfWork) === scope.make(UnitOfWork); // true
   * ```
   */
  scoped<K extends Known>(key: K, factory: Factory<Awaitable<Bindings[K]>>): this;
  scoped<T>(key: Token<T>, factory: Factory<Awaitable<T>>): this;
  scoped<T>(key: Constructor<T>, factory?: Factory<Awaitable<T>>): this;
  scoped<S extends string | symbol>(key: Untyped<S>, factory: Factory<unknown>): this;
  scoped(key: BindingKey, factory?: Factory<unknown>): this {
    this.#r.register(key, 'scoped', factory, undefined);
    return this;
  }

  /**
   * Bind an existing value. The container never disposes values: their creator owns them.
   *
   * @example
   * ```ts
   * container.value('config', config);
   * ```
   */
  value<K extends Known>(key: K, value: Bindings[K]): this;
  value<T>(key: Token<T> | Constructor<T>, value: T): this;
  value<S extends string | symbol>(key: Untyped<S>, value: unknown): this;
  value(key: BindingKey, value: unknown): this {
    this.#r.register(key, 'value', undefined, value);
    return this;
  }

  /**
   * Make `alias` resolve to whatever `target` resolves to. Aliases may chain; a class may
   * be an alias too (`alias(Application, 'app')`), so make(Class) returns the target.
   *
   * @example
   * ```ts
   * container.alias('db', Database);
   * container.make('db') === container.make(Database); // true for a singleton
   * ```
   */
  alias(alias: BindingKey, target: BindingKey): this {
    this.#r.assertUsable();
    this.#r.assertKey(alias);
    if (!isBindingKey(target)) {
      throw new E_INVALID_BINDING(keyName(alias), `alias target ${keyName(target)} is not a key`);
    }
    const chain: BindingKey[] = [alias];
    for (let next: BindingKey | undefined = target; next !== undefined; ) {
      chain.push(next);
      if (next === alias) throw new E_ALIAS_CYCLE(chain.map(keyName));
      next = this.#r.bindingOrAlias(next).alias;
    }
    this.#r.bindings.delete(alias);
    this.#r.aliases.set(alias, target);
    return this;
  }

  /**
   * True when the key has a binding, an alias to one, a swap, or a deferred provider.
   * An unbound class is not "bound" even though make() can construct it.
   */
  bound(key: BindingKey): boolean {
    if (!isBindingKey(key)) return false;
    const { canonical, binding } = this.#r.lookup(key);
    return binding !== undefined || this.#r.shared.resolverHas?.(canonical) === true;
  }

  /**
   * Resolve a key synchronously. Throws E_ASYNC_BINDING for an async factory that has not
   * settled yet, and E_ASYNC_DEFERRED_PROVIDER for a deferred provider with an async boot.
   *
   * @example
   * ```ts
   * const router = container.make('router');
   * const users = container.make(UserService);
   * const mailer = container.make(MAILER_TOKEN);
   * ```
   */
  make<K extends Known>(key: K): Bindings[K];
  make<T>(key: Token<T>): T;
  make<T>(key: Constructor<T>): T;
  make(key: string | symbol): unknown;
  make(key: BindingKey): unknown {
    return this.#r.resolveSync(key);
  }

  /**
   * Resolve a key, awaiting async factories, async dependencies and deferred provider boots.
   *
   * @example
   * ```ts
   * const db = await container.makeAsync(Database);
   * ```
   */
  makeAsync<K extends Known>(key: K): Promise<Awaited<Bindings[K]>>;
  makeAsync<T>(key: Token<T>): Promise<Awaited<T>>;
  makeAsync<T>(key: Constructor<T>): Promise<Awaited<T>>;
  makeAsync(key: string | symbol): Promise<unknown>;
  async makeAsync(key: BindingKey): Promise<unknown> {
    return await this.#r.resolveAsync(key);
  }

  /**
   * Call a function or method with its declared dependencies (`fn.inject`, or `@inject` on
   * the method), followed by `args`.
   *
   * @example
   * ```ts
   * const handler = Object.assign((db: Database, id: string) => db.find(id), { inject: [Database] });
   * container.call(handler, ['42']);
   * container.call(controller, 'show', [ctx]);
   * ```
   */
  call<R>(fn: (...args: never[]) => R, args?: readonly unknown[]): R;
  call<T extends object, M extends MethodKey<T>>(
    instance: T,
    method: M,
    args?: readonly unknown[],
  ): MethodReturn<T, M>;
  call(target: unknown, methodOrArgs?: unknown, maybeArgs?: unknown): unknown {
    this.#r.assertUsable();
    const { fn, self, deps, args } = prepareCall(target, methodOrArgs, maybeArgs);
    return fn.apply(self, [...deps.map((dep) => this.#r.resolveSync(dep)), ...args]);
  }

  /**
   * Like call(), resolving the dependencies with makeAsync and awaiting the result.
   *
   * @example
   * ```ts
   * await container.callAsync(job, 'handle');
   * ```
   */
  callAsync<R>(fn: (...args: never[]) => R, args?: readonly unknown[]): Promise<Awaited<R>>;
  callAsync<T extends object, M extends MethodKey<T>>(
    instance: T,
    method: M,
    args?: readonly unknown[],
  ): Promise<Awaited<MethodReturn<T, M>>>;
  async callAsync(target: unknown, methodOrArgs?: unknown, maybeArgs?: unknown): Promise<unknown> {
    this.#r.assertUsable();
    const { fn, self, deps, args } = prepareCall(target, methodOrArgs, maybeArgs);
    const resolved: unknown[] = [];
    for (const dep of deps) resolved.push(await this.#r.resolveAsync(dep));
    return await fn.apply(self, [...resolved, ...args]);
  }

  /**
   * Replace a binding (in tests) until restore(). A class is constructed, another function
   * is a factory keeping the replaced binding's lifetime, anything else is the value.
   *
   * @example
   * ```ts
   * container.swap(Mailer, new FakeMailer());
   * // ...
   * container.restore(Mailer);
   * ```
   */
  swap<K extends Known>(key: K, replacement: Replacement<Bindings[K]>): this;
  swap<T>(key: Token<T> | Constructor<T>, replacement: Replacement<T>): this;
  swap<S extends string | symbol>(key: Untyped<S>, replacement: unknown): this;
  swap(key: BindingKey, replacement: unknown): this {
    this.#r.assertUsable();
    this.#r.assertKey(key);
    const { canonical, binding } = this.#r.lookup(key, false);
    const kept = binding && binding.lifetime !== 'value' ? binding.lifetime : 'singleton';
    const cls = isClass(replacement) ? (replacement as Function) : undefined;
    const factory =
      !cls && typeof replacement === 'function' ? (replacement as Factory<unknown>) : undefined;
    const lifetime = cls || factory ? kept : 'value';
    this.#r.swaps.set(canonical, this.#r.binding(canonical, lifetime, factory, cls, replacement));
    return this;
  }

  /** Undo swap() for one key. Restoring a key that is not swapped does nothing. */
  restore(key: BindingKey): this {
    if (isBindingKey(key)) this.#r.swaps.delete(this.#r.lookup(key, false).canonical);
    return this;
  }

  /** Undo every swap() made on this container. */
  restoreAll(): this {
    this.#r.swaps.clear();
    return this;
  }

  /**
   * A child container for one unit of work. Scoped bindings are cached per scope;
   * singletons and values are shared with the root; bindings made on the scope are its own.
   * Dispose it (or `await using`) to run the disposers of what it created.
   *
   * @example
   * ```ts
   * await using scope = container.createScope('request');
   * scope.value('request', req);
   * await scope.makeAsync(Handler);
   * ```
   */
  createScope(label = 'scope'): Container {
    this.#r.assertUsable();
    const scope = new Container();
    scope.#r = new Resolver(scope, this.#r, this.#r.shared, String(label));
    return scope;
  }

  /**
   * Run `callback` after each new instance of the key is built (not on cache hits, not for
   * values). Hooks on the root see every scope; hooks on a scope see that scope only.
   *
   * @example
   * ```ts
   * container.resolving(Router, (router) => router.use(logRequests));
   * ```
   */
  resolving<K extends Known>(key: K, callback: (value: Bindings[K], c: Container) => void): this;
  resolving<T>(key: Token<T> | Constructor<T>, callback: (value: T, c: Container) => void): this;
  resolving<S extends string | symbol>(
    key: Untyped<S>,
    callback: (value: unknown, c: Container) => void,
  ): this;
  resolving(key: BindingKey, callback: (value: never, c: Container) => void): this {
    this.#r.assertUsable();
    this.#r.assertKey(key);
    this.#r.hooks.push({ key, callback: callback as (value: unknown, c: Container) => void });
    return this;
  }

  /**
   * A serialisable, sorted map of the bindings visible from this container (swaps left
   * out), for the compiled container map (`var/cache/container.json`).
   */
  describe(): BindingDescription[] {
    return this.#r.describe();
  }

  /**
   * Install the hook asked for keys nobody bound (the provider registry uses it for deferred
   * providers). Optional `has` answers whether it can provide a key without side effects
   * (for bound(), and to skip asking for every unbound class); `keys` lists what it can
   * provide, for "did you mean".
   */
  setMissingResolver(resolver: MissingResolver, options: MissingResolverOptions = {}): void {
    const shared = this.#r.shared;
    shared.resolver = resolver;
    shared.resolverHas = options.has;
    shared.resolverKeys = options.keys;
  }

  /**
   * Run the disposers (`Symbol.asyncDispose`, `Symbol.dispose` or `dispose()`) of the
   * singletons and scoped instances this container built, newest first. Every disposer runs;
   * failures are reported together as E_DISPOSE_FAILED.
   */
  dispose(): Promise<void> {
    return this.#r.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
