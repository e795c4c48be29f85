import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import {
  E_INVALID_SCHEMA,
  E_VALIDATION_ASYNC_SCHEMA,
  type FieldError,
  ValidationError,
} from './errors.js';
import { type MessageLayer, toFieldError } from './field-errors.js';
import { LazyPromise } from './lazy-promise.js';
import {
  globalMessages,
  type MessageBag,
  type MessageMap,
  messagesOf,
  toMessageBag,
} from './message-bag.js';
import { runWithValidationContext, type ValidationContext } from './validation-context.js';

/** The outcome of validate(): the typed value, or every field error. */
export type ValidationResult<T> =
  | { readonly success: true; readonly value: T; readonly errors?: undefined }
  | {
      readonly success: false;
      readonly value?: undefined;
      readonly errors: FieldError[];
      /** Errors beyond `maxErrors`, counted but not listed. */
      readonly omitted?: number;
    };

/** Options of validate(), validateSync() and validateOrThrow(). */
export interface ValidateOptions {
  /** Custom messages for this call (see docs/validation.md for keys and precedence). */
  messages?: MessageMap | MessageBag;
  /** Values for rules (`ctx.context`): the request, the tenant, a database handle... */
  context?: ValidationContext;
  /** List at most this many errors (default 100); hostile input can fail without bound. */
  maxErrors?: number;
}

export const DEFAULT_MAX_ERRORS = 100;

/** @internal A schema run, before issues become FieldErrors. */
export type RawOutcome =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly issues: readonly StandardSchemaV1.Issue[];
      readonly zod: boolean;
    };

// Zod calls the contextual error map only for issues without a message of their own, so this
// marks exactly the issues whose message is Zod's default: message maps may replace those,
// while a message written on the rule (`{ error }`) stays. The flag is copied by Zod into the
// finalized issue; returning undefined lets Zod pick its (possibly localized) default.
function markDefault(issue: z.core.$ZodRawIssue): undefined {
  (issue as { keelDefault?: boolean }).keelDefault = true;
  return undefined;
}

// `reportInput` keeps each issue's input, which tells a missing field ('required') from a
// wrongly typed one. Shared, so a parse allocates no options object of ours.
const ZOD_CONTEXT = {
  error: markDefault,
  reportInput: true,
} as z.core.ParseContext<z.core.$ZodIssue>;

// Zod learns a schema is asynchronous by failing a synchronous parse. Remember those schemas
// so each one pays that failed attempt once per process, not once per request.
const asyncSchemas = new WeakSet<object>();

type ZodResult = z.ZodSafeParseResult<unknown>;

function fromZod(result: ZodResult): RawOutcome {
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: result.error.issues as readonly StandardSchemaV1.Issue[], zod: true };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function fromStandard(result: StandardSchemaV1.Result<unknown>): RawOutcome {
  return result.issues
    ? { ok: false, issues: result.issues, zod: false }
    : { ok: true, value: result.value };
}

/** @internal Throw unless `schema` is a Standard Schema. */
export function assertSchema(schema: unknown, what: string): asserts schema is StandardSchemaV1 {
  const standard =
    schema !== null && (typeof schema === 'object' || typeof schema === 'function')
      ? (schema as Partial<StandardSchemaV1>)['~standard']
      : undefined;
  if (typeof standard?.validate !== 'function') {
    const got = schema === null ? 'null' : Array.isArray(schema) ? 'an array' : typeof schema;
    throw new E_INVALID_SCHEMA(what, got);
  }
}

/**
 * @internal Run a schema: synchronously when it can, else a promise. Zod goes through
 * safeParse (for Keel's message marks), other libraries through `~standard.validate`.
 */
export function runSchema(
  schema: StandardSchemaV1,
  input: unknown,
): RawOutcome | Promise<RawOutcome> {
  if (schema instanceof z.core.$ZodType) {
    if (!asyncSchemas.has(schema)) {
      try {
        // Parse with Zod's default context first: a custom context (our error map,
        // reportInput) switches off its compiled fast path and costs ~5× per parse. Only a
        // failed input is parsed again with the context, to build Keel's field errors.
        const fast = z.core.safeParse(schema, input) as ZodResult;
        if (fast.success) return fromZod(fast);
        return fromZod(z.core.safeParse(schema, input, ZOD_CONTEXT) as ZodResult);
      } catch (error) {
        if (!(error instanceof z.core.$ZodAsyncError)) throw error;
        asyncSchemas.add(schema);
      }
    }
    // Lazy, so a nested run (rules.when) inside a synchronous attempt starts nothing.
    return new LazyPromise(() =>
      z.core.safeParseAsync(schema, input, ZOD_CONTEXT).then((r) => fromZod(r as ZodResult)),
    );
  }
  const result = schema['~standard'].validate(input);
  return isPromiseLike(result) ? Promise.resolve(result).then(fromStandard) : fromStandard(result);
}

/** @internal Run a schema synchronously, or throw E_VALIDATION_ASYNC_SCHEMA. */
export function runSchemaSync(schema: StandardSchemaV1, input: unknown, what: string): RawOutcome {
  const outcome = runSchema(schema, input);
  if (outcome instanceof Promise) {
    // Another library's async run has started and its result is dropped: keep a rejection
    // from escaping. (Zod's is a LazyPromise, which never starts.)
    if (!(outcome instanceof LazyPromise)) outcome.catch(() => {});
    throw new E_VALIDATION_ASYNC_SCHEMA(what);
  }
  return outcome;
}

/** @internal Message layers for a schema: the call's, the schema's own, the global ones. */
export function layersFor(
  schema: object,
  callMessages: MessageMap | MessageBag | undefined,
  callPrefixed: boolean,
): MessageLayer[] {
  const layers: MessageLayer[] = [];
  if (callMessages) layers.push({ bag: toMessageBag(callMessages), prefixed: callPrefixed });
  for (const bag of messagesOf(schema) ?? []) layers.push({ bag, prefixed: false });
  return layers;
}

/** @internal Append an outcome's issues as FieldErrors; returns how many did not fit. */
export function collectErrors(
  into: FieldError[],
  issues: readonly StandardSchemaV1.Issue[],
  options: { prefix: string; layers: readonly MessageLayer[]; input: unknown; zod: boolean },
  maxErrors: number,
): number {
  const global = globalMessages();
  const layers = global ? [...options.layers, { bag: global, prefixed: false }] : options.layers;
  const normalize = {
    prefix: options.prefix,
    layers,
    input: options.input,
    marksDefaults: options.zod,
  };
  let omitted = 0;
  for (const issue of issues) {
    if (into.length >= maxErrors) omitted++;
    else into.push(toFieldError(issue, normalize));
  }
  return omitted;
}

function toResult<T>(
  schema: StandardSchemaV1,
  input: unknown,
  outcome: RawOutcome,
  options: ValidateOptions,
): ValidationResult<T> {
  if (outcome.ok) return { success: true, value: outcome.value as T };
  const errors: FieldError[] = [];
  const layers = layersFor(schema, options.messages, false);
  const omitted = collectErrors(
    errors,
    outcome.issues,
    { prefix: '', layers, input, zod: outcome.zod },
    options.maxErrors ?? DEFAULT_MAX_ERRORS,
  );
  return omitted > 0 ? { success: false, errors, omitted } : { success: false, errors };
}

type Output<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>;

/**
 * Validate `input` against any Standard Schema (Zod, Valibot, ArkType...). Resolves to the
 * typed value or to every field error; never rejects for invalid input.
 *
 * @example
 * ```ts
 * const result = await validate(z.object({ email: z.email() }), input);
 * if (!result.success) console.log(result.errors); // [{ path: 'email', rule: 'email', ... }]
 * ```
 */
export function validate<S extends StandardSchemaV1>(
  schema: S,
  input: unknown,
  options: ValidateOptions = {},
): Promise<ValidationResult<Output<S>>> {
  try {
    assertSchema(schema, 'validate()');
    const outcome =
      options.context === undefined
        ? runSchema(schema, input)
        : runWithValidationContext(options.context, () => runSchema(schema, input));
    if (outcome instanceof Promise) {
      return outcome.then((o) => toResult<Output<S>>(schema, input, o, options));
    }
    return Promise.resolve(toResult<Output<S>>(schema, input, outcome, options));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Validate synchronously. Throws E_VALIDATION_ASYNC_SCHEMA when the schema needs to await
 * (an async refinement, an async rule such as `unique`).
 *
 * @example
 * ```ts
 * const result = validateSync(rules.iban(), 'DE89 3704 0044 0532 0130 00'); // success: true
 * ```
 */
export function validateSync<S extends StandardSchemaV1>(
  schema: S,
  input: unknown,
  options: ValidateOptions = {},
): ValidationResult<Output<S>> {
  assertSchema(schema, 'validateSync()');
  const outcome = runWithValidationContext(options.context, () =>
    runSchemaSync(schema, input, 'The schema given to validateSync()'),
  );
  return toResult(schema, input, outcome, options);
}

/**
 * Validate and return the typed value, or reject with a ValidationError (422) listing every
 * field error.
 *
 * @example
 * ```ts
 * const user = await validateOrThrow(UserSchema, body);
 * ```
 */
export async function validateOrThrow<S extends StandardSchemaV1>(
  schema: S,
  input: unknown,
  options: ValidateOptions = {},
): Promise<Output<S>> {
  const result = await validate(schema, input, options);
  if (result.success) return result.value;
  throw new ValidationError(result.errors, { omitted: result.omitted ?? 0 });
}
