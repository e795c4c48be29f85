import { z } from 'zod';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { LazyPromise } from '../lazy-promise.js';
import {
  createRuleCheck,
  type RuleFailure,
  type RuleOptions,
  type RuleResult,
} from '../rule-check.js';
import { type RawOutcome, runSchema } from '../validator.js';

/**
 * Cross-field rules. They sit on the object (`z.object({...}).check(rules.sameAs(...))`), run
 * even when other fields failed (so every error is listed at once), and stay silent about a
 * field that already has an error of its own.
 */

type Data = Record<string, unknown>;

type Primitive = string | number | boolean | bigint | null | undefined;

/** A value to compare with, a list of accepted values, or a predicate of the value and object. */
export type Condition<T = Data> =
  | Primitive
  | readonly Primitive[]
  | ((value: unknown, data: T) => boolean);

/** Keys of the object a cross-field rule checks (any string when it cannot be inferred). */
type Key<T> = keyof T & string;

const isObject = (payload: z.core.ParsePayload): boolean =>
  payload.value !== null && typeof payload.value === 'object' && !Array.isArray(payload.value);

function hasIssueAt(payload: z.core.ParsePayload, field: string): boolean {
  return payload.issues.some((issue) => issue.path?.[0] === field);
}

/** Empty as Laravel means it: missing, null, '' or []. */
export function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  );
}

function holds(condition: Condition<never>, value: unknown, data: Data): boolean {
  if (typeof condition === 'function')
    return Boolean((condition as (v: unknown, d: Data) => boolean)(value, data));
  if (Array.isArray(condition)) return (condition as readonly unknown[]).includes(value);
  return Object.is(condition, value);
}

function describe(condition: Condition<never>): string {
  if (typeof condition === 'function') return 'the required value';
  return Array.isArray(condition) ? condition.map(String).join(', ') : String(condition);
}

/** An object-level rule that reports on `field`. */
function fieldCheck<T>(
  rule: string,
  field: string,
  test: (data: Data) => Omit<RuleFailure, 'path' | 'input'> | undefined,
  options: RuleOptions,
): z.core.$ZodCheck<T> {
  return createRuleCheck<T>(
    rule,
    (value, payload) => {
      if (hasIssueAt(payload as z.core.ParsePayload, field)) return undefined;
      const data = value as Data;
      const failure = test(data);
      return failure && { ...failure, path: [field], input: data[field] };
    },
    { ...options, when: isObject },
  );
}

/**
 * `field` must equal `other` (e.g. an e-mail confirmation).
 *
 * @example
 * ```ts
 * z.object({ email: z.email(), emailAgain: z.string() }).check(rules.sameAs('emailAgain', 'email'));
 * ```
 */
export function sameAs<T extends object = Data>(
  field: Key<T>,
  other: Key<T>,
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  return fieldCheck<T>(
    'sameAs',
    field,
    (data) =>
      Object.is(data[field], data[other])
        ? undefined
        : { message: 'Must match {other}', params: { other } },
    options,
  );
}

/**
 * `field` must differ from `other` (a new password unlike the current one).
 *
 * @example
 * ```ts
 * schema.check(rules.different('newPassword', 'currentPassword'));
 * ```
 */
export function different<T extends object = Data>(
  field: Key<T>,
  other: Key<T>,
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  return fieldCheck<T>(
    'different',
    field,
    (data) =>
      isEmpty(data[field]) || !Object.is(data[field], data[other])
        ? undefined
        : { message: 'Must be different from {other}', params: { other } },
    options,
  );
}

/**
 * `<field>Confirmation` (or `confirmation`) must equal `field`; the error sits on the
 * confirmation field.
 *
 * @example
 * ```ts
 * z.object({ password: rules.password(), passwordConfirmation: z.string() })
 *   .check(rules.confirmed('password'));
 * ```
 */
export function confirmed<T extends object = Data>(
  field: Key<T>,
  options: RuleOptions & { confirmation?: Key<T> } = {},
): z.core.$ZodCheck<T> {
  const confirmation = options.confirmation ?? `${field}Confirmation`;
  return fieldCheck<T>(
    'confirmed',
    confirmation,
    (data) =>
      Object.is(data[field], data[confirmation])
        ? undefined
        : { message: 'Does not match {other}', params: { other: field } },
    options,
  );
}

/**
 * The `required…`/`prohibited…` × `…If`/`…Unless` rules share one shape: the field fails when
 * its emptiness and the condition on `other` are both as given.
 */
function conditionalCheck<T extends object>(
  rule: string,
  field: Key<T>,
  other: Key<T>,
  condition: Condition<T>,
  options: RuleOptions,
  fails: { failsWhenEmpty: boolean; failsWhenHolds: boolean; message: string },
): z.core.$ZodCheck<T> {
  const test = condition as Condition<never>;
  return fieldCheck<T>(
    rule,
    field,
    (data) =>
      isEmpty(data[field]) === fails.failsWhenEmpty &&
      holds(test, data[other], data) === fails.failsWhenHolds
        ? { message: fails.message, params: { other, value: describe(test) } }
        : undefined,
    options,
  );
}

/**
 * `field` is required when `other` matches `condition` (a value, a list, or a predicate).
 *
 * @example
 * ```ts
 * schema.check(rules.requiredIf('vatId', 'customerType', 'company'));
 * ```
 */
export function requiredIf<T extends object = Data>(
  field: Key<T>,
  other: Key<T>,
  condition: Condition<T>,
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  return conditionalCheck<T>('requiredIf', field, other, condition, options, {
    failsWhenEmpty: true,
    failsWhenHolds: true,
    message: 'Required when {other} is {value}',
  });
}

/**
 * `field` is required unless `other` matches `condition`.
 *
 * @example
 * ```ts
 * schema.check(rules.requiredUnless('address', 'delivery', 'pickup'));
 * ```
 */
export function requiredUnless<T extends object = Data>(
  field: Key<T>,
  other: Key<T>,
  condition: Condition<T>,
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  return conditionalCheck<T>('requiredUnless', field, other, condition, options, {
    failsWhenEmpty: true,
    failsWhenHolds: false,
    message: 'Required unless {other} is {value}',
  });
}

function fieldList(rule: string, others: readonly string[]): void {
  if (others.length === 0) throw new E_INVALID_RULE_OPTIONS(rule, 'name at least one other field');
}

/**
 * `field` is required when any of `others` is present (not empty).
 *
 * @example
 * ```ts
 * schema.check(rules.requiredWith('city', ['street', 'zip']));
 * ```
 */
export function requiredWith<T extends object = Data>(
  field: Key<T>,
  others: readonly Key<T>[],
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  fieldList('requiredWith', others);
  return fieldCheck<T>(
    'requiredWith',
    field,
    (data) =>
      isEmpty(data[field]) && others.some((other) => !isEmpty(data[other]))
        ? { message: 'Required when {others} is present', params: { others } }
        : undefined,
    options,
  );
}

/**
 * `field` is required when any of `others` is missing (one of the two contact methods).
 *
 * @example
 * ```ts
 * schema.check(rules.requiredWithout('phone', ['email']));
 * ```
 */
export function requiredWithout<T extends object = Data>(
  field: Key<T>,
  others: readonly Key<T>[],
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  fieldList('requiredWithout', others);
  return fieldCheck<T>(
    'requiredWithout',
    field,
    (data) =>
      isEmpty(data[field]) && others.some((other) => isEmpty(data[other]))
        ? { message: 'Required when {others} is missing', params: { others } }
        : undefined,
    options,
  );
}

/**
 * `field` must be empty when `other` matches `condition`.
 *
 * @example
 * ```ts
 * schema.check(rules.prohibitedIf('discount', 'plan', 'free'));
 * ```
 */
export function prohibitedIf<T extends object = Data>(
  field: Key<T>,
  other: Key<T>,
  condition: Condition<T>,
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  return conditionalCheck<T>('prohibitedIf', field, other, condition, options, {
    failsWhenEmpty: false,
    failsWhenHolds: true,
    message: 'Not allowed when {other} is {value}',
  });
}

/**
 * `field` must be empty unless `other` matches `condition`.
 *
 * @example
 * ```ts
 * schema.check(rules.prohibitedUnless('companyName', 'customerType', 'company'));
 * ```
 */
export function prohibitedUnless<T extends object = Data>(
  field: Key<T>,
  other: Key<T>,
  condition: Condition<T>,
  options: RuleOptions = {},
): z.core.$ZodCheck<T> {
  return conditionalCheck<T>('prohibitedUnless', field, other, condition, options, {
    failsWhenEmpty: false,
    failsWhenHolds: false,
    message: 'Only allowed when {other} is {value}',
  });
}

type Nested = z.core.$ZodType | Readonly<Record<string, z.core.$ZodType>>;

function pushNested(
  payload: z.core.ParsePayload,
  outcome: RawOutcome,
  prefix: PropertyKey[],
): unknown {
  if (outcome.ok) return outcome.value;
  for (const issue of outcome.issues) {
    // Zod already finalized these (message and Keel's marks included); re-rooted under the
    // object, they finalize again unchanged with the outer parse.
    payload.issues.push({
      ...(issue as object),
      path: [...prefix, ...(issue.path ?? [])],
      continue: true,
    } as unknown as z.core.$ZodRawIssue);
  }
  return undefined;
}

/**
 * Conditional validation: when `field` matches `condition`, validate the object with `then`,
 * either a schema for the whole object or a shape of field schemas. Field outputs replace the
 * values (so `z.coerce` works); async schemas and rules inside are fine.
 *
 * @example
 * ```ts
 * z.object({ type: z.enum(['person', 'company']), vatId: z.string().optional() })
 *   .check(rules.when('type', 'company', { vatId: rules.vatNumber() }));
 * ```
 */
export function when<T extends object = Data>(
  field: Key<T>,
  condition: Condition<T>,
  then: Nested,
): z.core.$ZodCheck<T> {
  const entries = then instanceof z.core.$ZodType ? undefined : Object.entries(then);
  const check = new z.core.$ZodCheck({ check: 'custom', when: isObject }) as z.core.$ZodCheck<T>;
  check._zod.check = (payload) => {
    const raw = payload as z.core.ParsePayload;
    const data = raw.value as Data;
    if (hasIssueAt(raw, field) || !holds(condition as Condition<never>, data[field], data)) return;
    const runs: Array<[PropertyKey[], string | undefined, RawOutcome | Promise<RawOutcome>]> =
      entries
        ? entries.map(([key, schema]) => [[key], key, runSchema(schema, data[key])])
        : [[[], undefined, runSchema(then as z.core.$ZodType, data)]];
    const apply = (key: string | undefined, prefix: PropertyKey[], outcome: RawOutcome): void => {
      const value = pushNested(raw, outcome, prefix);
      if (!outcome.ok && key === undefined) return;
      if (key !== undefined) {
        // an optional field left out stays out rather than becoming `key: undefined`
        if (outcome.ok && (value !== undefined || Object.hasOwn(data, key))) data[key] = value;
      } else if (value !== null && typeof value === 'object') {
        Object.assign(data, value);
      }
    };
    if (runs.every(([, , outcome]) => !(outcome instanceof Promise))) {
      for (const [prefix, key, outcome] of runs) apply(key, prefix, outcome as RawOutcome);
      return;
    }
    return new LazyPromise(async () => {
      const settled = await Promise.all(runs.map(([, , outcome]) => outcome));
      runs.forEach(([prefix, key], i) => {
        apply(key, prefix, settled[i]!);
      });
    });
  };
  return check;
}

/**
 * Array items must be unique; `by` picks the compared value (a key or a function),
 * `ignoreCase` compares strings case-insensitively. Each repeat gets an error at its index.
 *
 * @example
 * ```ts
 * z.array(line).check(rules.distinct({ by: 'sku' }));
 * ```
 */
export function distinct<T = unknown>(
  options: RuleOptions & { by?: string | ((item: T) => unknown); ignoreCase?: boolean } = {},
): z.core.$ZodCheck<T[]> {
  const { by, ignoreCase } = options;
  const keyOf = (item: T): unknown => {
    const key =
      typeof by === 'function' ? by(item) : typeof by === 'string' ? (item as Data)?.[by] : item;
    return ignoreCase && typeof key === 'string' ? key.toLowerCase() : key;
  };
  return createRuleCheck<T[]>(
    'distinct',
    (items): RuleResult => {
      const seen = new Set<unknown>();
      const failures: RuleFailure[] = [];
      items.forEach((item, index) => {
        const key = keyOf(item);
        if (seen.has(key)) {
          failures.push({
            message: 'Duplicate value',
            path: typeof by === 'string' ? [index, by] : [index],
            input: item,
          });
        } else {
          seen.add(key);
        }
      });
      return failures.length ? failures : undefined;
    },
    options,
  );
}
