import { z } from 'zod';
import { LazyPromise } from './lazy-promise.js';
import { currentValidationContext, type ValidationContext } from './validation-context.js';

type Payload = z.core.ParsePayload<unknown>;

/** A message given where the rule is used: a string, or a function of the raw issue. */
export type RuleMessage = string | ((issue: z.core.$ZodRawIssue) => string | undefined);

/** Options every Keel rule accepts. */
export interface RuleOptions {
  /**
   * The message for this use of the rule (Zod's `{ error }`). It outranks message maps keyed by
   * field or by rule name, and loses only to a `'path.rule'` key (docs/validation.md).
   */
  error?: RuleMessage;
  /** Zod 3 style alias of `error`. */
  message?: string;
}

/** One failure reported by a rule. */
export interface RuleFailure {
  message: string;
  /** Where, relative to the checked value; object rules name the field (`['vatId']`). */
  path?: PropertyKey[];
  /** The failing value when `path` points inside the checked value. */
  input?: unknown;
  /** Placeholders for messages (`{min}`) and metadata; stored on the issue's `params`. */
  params?: Record<string, unknown>;
}

/** What a rule's test returns: nothing when the value passes, else the failure(s). */
export type RuleResult = undefined | string | RuleFailure | readonly RuleFailure[];

/** What an async or app-defined rule receives besides the value. */
export interface RuleContext {
  /** The rule's name, as reported in `FieldError.rule`. */
  readonly rule: string;
  /** The `context` given to validate() / validateRequestParts(), or `{}`. */
  readonly context: ValidationContext;
}

type Test<T> = (value: T, payload: z.core.ParsePayload<T>) => RuleResult | Promise<RuleResult>;

interface CheckOptions extends RuleOptions {
  /** Run the test only when this holds; also lets object rules run after field errors. */
  when?: (payload: Payload) => boolean;
  /** Defer the test until Zod awaits it (see LazyPromise): for tests that do I/O. */
  lazy?: boolean;
}

function errorMap(options: RuleOptions): z.core.$ZodErrorMap<never> | undefined {
  const error = options.error ?? options.message;
  if (error === undefined) return undefined;
  return typeof error === 'string' ? () => error : (error as z.core.$ZodErrorMap<never>);
}

/**
 * The one way Keel rules report: a Zod check that pushes `custom` issues carrying
 * `params.rule`. Without a per-use message the rule's own message is set on the issue and
 * flagged `params.defaultMessage`, so message maps may replace it; with one, Zod resolves it
 * through the check's error map and Keel treats it as explicit.
 */
export function createRuleCheck<T>(
  rule: string,
  test: Test<T>,
  options: CheckOptions = {},
): z.core.$ZodCheck<T> {
  const explicit = errorMap(options);
  const check = new z.core.$ZodCheck({
    check: 'custom',
    ...(explicit ? { error: explicit } : {}),
    ...(options.when ? { when: options.when } : {}),
  }) as z.core.$ZodCheck<T>;

  const report = (payload: z.core.ParsePayload<T>, result: RuleResult): void => {
    if (result === undefined) return;
    if (typeof result === 'string') {
      push(payload, { message: result });
    } else if (Array.isArray(result)) {
      for (const failure of result as readonly RuleFailure[]) push(payload, failure);
    } else {
      push(payload, result as RuleFailure);
    }
  };

  const push = (payload: z.core.ParsePayload<T>, failure: RuleFailure): void => {
    const params: Record<string, unknown> = { rule, ...failure.params };
    if (!explicit) params.defaultMessage = true;
    const issue: Record<string, unknown> = {
      code: 'custom',
      input: failure.path ? failure.input : payload.value,
      path: failure.path ? [...failure.path] : [],
      inst: check,
      continue: true,
      params,
    };
    if (!explicit) issue.message = interpolate(failure.message, (name) => params[name]);
    payload.issues.push(issue as unknown as z.core.$ZodRawIssue);
  };

  check._zod.check = options.lazy
    ? (payload) =>
        new LazyPromise(async () => {
          report(payload, await test(payload.value, payload));
        })
    : (payload) => {
        const result = test(payload.value, payload);
        if (result instanceof LazyPromise) {
          // keep it lazy: chaining with then() here would start the work
          return new LazyPromise(async () => report(payload, await result));
        }
        if (result instanceof Promise) return result.then((r) => report(payload, r));
        report(payload, result);
      };
  return check;
}

/** Replace `{name}` placeholders; unknown names stay as written. Arrays join with commas. */
export function interpolate(template: string, lookup: (name: string) => unknown): string {
  if (!template.includes('{')) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = lookup(name);
    if (value === undefined) return whole;
    return Array.isArray(value) ? value.join(', ') : String(value);
  });
}

/** A `z.string()` carrying one Keel rule. */
export function stringRule(
  rule: string,
  test: (value: string) => RuleResult,
  options?: RuleOptions,
): z.ZodString {
  return z.string().check(createRuleCheck(rule, test, options));
}

/** A `z.number()` carrying one Keel rule. */
export function numberRule(
  rule: string,
  test: (value: number) => RuleResult,
  options?: RuleOptions,
): z.ZodNumber {
  return z.number().check(createRuleCheck(rule, test, options));
}

/** Turn a rule implementation's verdict (`true`, `false` or a message) into a result. */
export function verdict(outcome: boolean | string, fallback: string): RuleResult {
  if (outcome === true) return undefined;
  return typeof outcome === 'string' && outcome !== '' ? outcome : fallback;
}

/** The context an async or defined rule receives. */
export function ruleContext(rule: string): RuleContext {
  return { rule, context: currentValidationContext() };
}

/** Options of {@link asyncRule}. */
export interface AsyncRuleOptions {
  /** The rule's own message when `fn` resolves to `false`; message maps may replace it. */
  message?: string;
  /** A message for this use that outranks message maps keyed by field or rule. */
  error?: RuleMessage;
}

// Async rules (usually I/O: a database lookup) don't run on a value that already failed its
// other checks: a malformed e-mail needs no uniqueness query.
const onlyWhenValid = (payload: Payload): boolean => payload.issues.length === 0;

/**
 * An asynchronous rule for `.check()`: `fn` resolves to `true` (pass), `false` (fail with the
 * default message) or a string (fail with that message). It runs only when the value passed
 * its other checks, and only in an asynchronous validation (validate(), not validateSync()).
 *
 * @example
 * ```ts
 * const unique = (table: string, column: string) =>
 *   rules.async('unique', async (value, ctx) => !(await exists(table, column, value)));
 * z.object({ email: z.email().check(unique('users', 'email')) });
 * ```
 */
export function asyncRule<T = unknown>(
  name: string,
  fn: (value: T, ctx: RuleContext) => Promise<boolean | string>,
  options: AsyncRuleOptions = {},
): z.core.$ZodCheck<T> {
  const fallback = options.message ?? 'The value is not valid';
  return createRuleCheck<T>(
    name,
    async (value) => verdict(await fn(value, ruleContext(name)), fallback),
    {
      ...(options.error === undefined ? {} : { error: options.error }),
      when: onlyWhenValid,
      lazy: true,
    },
  );
}
