import type { z } from 'zod';
import { suggest } from '../support/index.js';
import { E_INVALID_RULE_OPTIONS, E_RULE_ALREADY_DEFINED, E_UNKNOWN_RULE } from './errors.js';
import { LazyPromise } from './lazy-promise.js';
import {
  createRuleCheck,
  type RuleContext,
  type RuleResult,
  ruleContext,
  verdict,
} from './rule-check.js';

/**
 * Argument lists of the rules an application defines, for typed `rule(name, ...args)` calls.
 * Augment it next to the `defineRule()` call:
 *
 * @example
 * ```ts
 * declare module 'keel/validation' {
 *   interface KeelRules { unique: [table: string, column: string] }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface KeelRules {}

/** Arguments of a registered rule: typed when `KeelRules` names it. */
export type RuleArgs<N extends string> = N extends keyof KeelRules
  ? KeelRules[N] extends unknown[]
    ? KeelRules[N]
    : unknown[]
  : unknown[];

/** How an app-defined rule validates. */
export interface RuleDefinition<T = unknown, A extends unknown[] = unknown[]> {
  /** `true` passes; `false` fails with `message`; a string fails with that string. */
  validate(value: T, args: A, ctx: RuleContext): boolean | string | Promise<boolean | string>;
  /** The rule's message, `{0}`, `{1}`... naming its arguments; message maps may replace it. */
  message?: string | ((args: A) => string);
  /**
   * Set for rules that do I/O. Async functions are detected; set it when `validate` returns a
   * promise without being `async`. Async rules skip values that already failed other checks.
   */
  async?: boolean;
}

/** The check factory defineRule() returns: `z.string().check(even())`. */
export type RuleFactory<T, A extends unknown[]> = (...args: A) => z.core.$ZodCheck<T>;

const RULE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

// biome-ignore lint/suspicious/noExplicitAny: the registry holds rules of every value type
const registry = new Map<string, RuleDefinition<any, any>>();

function normalize<T, A extends unknown[]>(
  definition: RuleDefinition<T, A> | RuleDefinition<T, A>['validate'],
): RuleDefinition<T, A> {
  return typeof definition === 'function' ? { validate: definition } : definition;
}

function isAsync(definition: RuleDefinition<never, never>): boolean {
  return definition.async ?? definition.validate.constructor.name === 'AsyncFunction';
}

function messageOf(
  name: string,
  definition: RuleDefinition<never, never>,
  args: unknown[],
): string {
  const { message } = definition;
  if (typeof message === 'function') return (message as (args: unknown[]) => string)(args);
  return message ?? `The value does not pass the "${name}" rule`;
}

// Arguments become message placeholders {0}, {1}... and travel on the issue's params.
function argParams(args: readonly unknown[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) params[i] = args[i];
  return params;
}

function buildCheck<T>(
  name: string,
  args: unknown[],
  resolve: () => RuleDefinition<T, unknown[]>,
): z.core.$ZodCheck<T> {
  const params = argParams(args);
  const test = (value: T, payload: z.core.ParsePayload<T>): RuleResult | Promise<RuleResult> => {
    const definition = resolve();
    const fail = (outcome: boolean | string): RuleResult => {
      const result = verdict(outcome, messageOf(name, definition as never, args));
      return typeof result === 'string' ? { message: result, params } : result;
    };
    if (isAsync(definition as never)) {
      // I/O rules don't run on a value that already failed (no query for a malformed e-mail),
      // and start only when awaited: see LazyPromise.
      if (payload.issues.length > 0) return undefined;
      return new LazyPromise(async () =>
        fail(await definition.validate(value, args, ruleContext(name))),
      );
    }
    const outcome = definition.validate(value, args, ruleContext(name));
    return outcome instanceof Promise ? outcome.then(fail) : fail(outcome);
  };
  return createRuleCheck<T>(name, test);
}

/**
 * Define an application rule, registered by name (for `rule(name, ...args)`) and returned as
 * a check factory. Names are unique; an `async` validate runs only in async validation.
 *
 * @example
 * ```ts
 * const even = defineRule<number>('even', {
 *   validate: (value) => value % 2 === 0,
 *   message: 'Must be an even number',
 * });
 * z.number().check(even());
 * ```
 */
export function defineRule<T = unknown, A extends unknown[] = []>(
  name: string,
  definition: RuleDefinition<T, A> | RuleDefinition<T, A>['validate'],
): RuleFactory<T, A> {
  if (!RULE_NAME.test(name)) {
    throw new E_INVALID_RULE_OPTIONS(name, 'a rule name is letters, digits and _');
  }
  if (registry.has(name)) throw new E_RULE_ALREADY_DEFINED(name);
  const normalized = normalize(definition);
  if (typeof normalized.validate !== 'function') {
    throw new E_INVALID_RULE_OPTIONS(name, 'the definition needs a validate() function');
  }
  registry.set(name, normalized);
  return (...args: A) => buildCheck<T>(name, args, () => normalized as never);
}

/**
 * A check for a rule registered with defineRule(). A rule not yet defined is looked up when
 * the check first runs, so schemas may be declared before the provider defining the rule
 * boots; it is an E_UNKNOWN_RULE then.
 *
 * @example
 * ```ts
 * z.object({ email: z.email().check(rule('unique', 'users', 'email')) });
 * ```
 */
export function rule<N extends string>(name: N, ...args: RuleArgs<N>): z.core.$ZodCheck<unknown> {
  const known = registry.get(name);
  if (known) return buildCheck(name, args, () => known);
  const resolve = (): RuleDefinition<unknown, unknown[]> => {
    const definition = registry.get(name);
    if (!definition) throw new E_UNKNOWN_RULE(name, suggest(name, registry.keys()));
    return definition;
  };
  return buildCheck(name, args, resolve);
}

/** True when a rule of that name is registered. */
export function hasRule(name: string): boolean {
  return registry.has(name);
}

/** Remove a registered rule (for tests and hot reload); returns whether it existed. */
export function forgetRule(name: string): boolean {
  return registry.delete(name);
}
