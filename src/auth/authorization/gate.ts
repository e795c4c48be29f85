import { E_FORBIDDEN } from '../../http/index.js';
import { permits } from './roles.js';

/** A gate's check: true allows; anything else (false, undefined, a throw) denies. */
export type GateCallback<User = unknown> = (
  user: User,
  // biome-ignore lint/suspicious/noExplicitAny: a gate's arguments are whatever its callers pass
  ...args: any[]
) => boolean | Promise<boolean>;

/** Runs before every check: true or false decides, undefined lets the check go on. */
export type BeforeHook<User = unknown> = (
  user: User,
  ability: string,
  args: readonly unknown[],
) => boolean | undefined | Promise<boolean | undefined>;

/**
 * A policy: one class per model, a method per ability (`view`, `update`, `delete`, ...)
 * taking `(user, model, ...rest)`, and an optional `before(user, ability, model)` that
 * decides alone when it returns a boolean.
 */
export interface Policy<User = unknown> {
  before?(
    user: User,
    ability: string,
    ...args: unknown[]
  ): boolean | undefined | Promise<boolean | undefined>;
}

/** Why a check was denied, for the `auth.authorization.denied` event. */
export interface DeniedCheck {
  ability: string;
  user: unknown;
  /** `policy`, `gate`, `permission`, `before` or `none` (nothing defined: denied). */
  by: 'policy' | 'gate' | 'permission' | 'before' | 'none' | 'error' | 'guest';
}

export interface GateOptions<User> {
  /** The permissions a user holds (roles): a check nothing else defines falls back on them. */
  permissions?: (user: User) => Promise<ReadonlySet<string>>;
  /** A policy, gate or hook threw: the check is denied and the error reported here. */
  onError?: (error: unknown, ability: string) => void;
  /** `authorize()` denied a check (emits `auth.authorization.denied`). */
  onDenied?: (denied: DeniedCheck) => void | Promise<void>;
}

interface Definitions {
  readonly gates: Map<string, GateCallback<never>>;
  readonly policies: Map<Function, { policy: unknown; instance?: Policy<never> }>;
  readonly before: BeforeHook<never>[];
}

type Constructor = abstract new (...args: never[]) => unknown;

/**
 * Authorization: abilities defined as gates, per-model policies, global `before` hooks,
 * and the user's permissions (roles) as the fallback. A check that throws is denied (and
 * reported), never allowed, and its error never reaches the client.
 *
 * @example
 * ```ts
 * gate.define('orders.update', (user, order) => order.ownerId === user.id);
 * gate.policy(Invoice, InvoicePolicy);
 * await gate.allows(user, 'orders.update', order);
 * await gate.authorize(user, 'update', invoice); // throws E_FORBIDDEN (403) when denied
 * ```
 */
export class Gate<User = unknown> {
  readonly #defs: Definitions;
  readonly #options: GateOptions<User>;

  constructor(options: GateOptions<User> = {}, defs?: Definitions) {
    this.#options = options;
    this.#defs = defs ?? { gates: new Map(), policies: new Map(), before: [] };
  }

  /** Define (or replace) the check of an ability. */
  define(ability: string, callback: GateCallback<User>): this {
    if (typeof ability !== 'string' || ability === '')
      throw new TypeError('gate.define: the ability must be a non-empty string');
    if (typeof callback !== 'function')
      throw new TypeError(`gate.define("${ability}"): the check must be a function`);
    this.#defs.gates.set(ability, callback as GateCallback<never>);
    return this;
  }

  /** Register the policy of a model class: its methods are the abilities on its instances. */
  policy(model: Constructor, policy: Policy<User> | (new () => Policy<User>)): this {
    this.#defs.policies.set(model, { policy });
    return this;
  }

  /** A hook run before every check (an administrator who may do everything). */
  before(hook: BeforeHook<User>): this {
    this.#defs.before.push(hook as BeforeHook<never>);
    return this;
  }

  /** True when a gate is defined for `ability`. */
  has(ability: string): boolean {
    return this.#defs.gates.has(ability);
  }

  /** The same definitions with another permission lookup (`ctx.auth`'s per-request cache). */
  withPermissions(permissions: (user: User) => Promise<ReadonlySet<string>>): Gate<User> {
    return new Gate<User>({ ...this.#options, permissions }, this.#defs);
  }

  /** True when `user` may do `ability` (on `args`: a model instance for its policy). */
  async allows(
    user: User | null | undefined,
    ability: string,
    ...args: unknown[]
  ): Promise<boolean> {
    return (await this.#check(user, ability, args)).allowed;
  }

  async denies(
    user: User | null | undefined,
    ability: string,
    ...args: unknown[]
  ): Promise<boolean> {
    return !(await this.allows(user, ability, ...args));
  }

  /** Throws E_FORBIDDEN (403) unless `user` may do `ability`. */
  async authorize(
    user: User | null | undefined,
    ability: string,
    ...args: unknown[]
  ): Promise<void> {
    const result = await this.#check(user, ability, args);
    if (result.allowed) return;
    try {
      await this.#options.onDenied?.({ ability, user, by: result.by });
    } catch (error) {
      this.#options.onError?.(error, ability);
    }
    throw new E_FORBIDDEN(`This action is unauthorized: ${ability.slice(0, 200)}`);
  }

  async #check(
    user: User | null | undefined,
    ability: string,
    args: readonly unknown[],
  ): Promise<{ allowed: boolean; by: DeniedCheck['by'] }> {
    if (user === null || user === undefined) return { allowed: false, by: 'guest' };
    try {
      for (const hook of this.#defs.before as unknown as BeforeHook<User>[]) {
        const verdict = await hook(user, ability, args);
        if (verdict !== undefined) return { allowed: verdict === true, by: 'before' };
      }
      const policy = this.#policyFor(args[0]);
      if (policy) {
        if (typeof policy.before === 'function') {
          const verdict = await policy.before(user, ability, ...args);
          if (verdict !== undefined) return { allowed: verdict === true, by: 'before' };
        }
        const method = (policy as Record<string, unknown>)[ability];
        if (typeof method === 'function' && !Object.hasOwn(Object.prototype, ability))
          return {
            allowed: (await method.call(policy, user, ...args)) === true,
            by: 'policy',
          };
      }
      const gate = this.#defs.gates.get(ability) as GateCallback<User> | undefined;
      if (gate) return { allowed: (await gate(user, ...args)) === true, by: 'gate' };
      const permissions = this.#options.permissions;
      if (permissions)
        return { allowed: permits(await permissions(user), ability), by: 'permission' };
      return { allowed: false, by: 'none' };
    } catch (error) {
      try {
        this.#options.onError?.(error, ability);
      } catch {}
      return { allowed: false, by: 'error' };
    }
  }

  /** The policy of a model instance's class (or of the class itself), nearest first. */
  #policyFor(subject: unknown): Policy<User> | undefined {
    if (this.#defs.policies.size === 0 || subject === null) return undefined;
    let current: unknown =
      typeof subject === 'function'
        ? subject
        : typeof subject === 'object'
          ? (subject as object).constructor
          : undefined;
    while (typeof current === 'function') {
      const entry = this.#defs.policies.get(current);
      if (entry) {
        entry.instance ??=
          typeof entry.policy === 'function'
            ? (new (entry.policy as new () => Policy<never>)() as Policy<never>)
            : (entry.policy as Policy<never>);
        return entry.instance as Policy<User>;
      }
      current = Object.getPrototypeOf(current);
    }
    return undefined;
  }
}
