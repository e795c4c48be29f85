import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type FieldError, ValidationError } from './errors.js';
import type { MessageLayer } from './field-errors.js';
import type { MessageBag, MessageMap } from './message-bag.js';
import { runWithValidationContext, type ValidationContext } from './validation-context.js';
import {
  assertSchema,
  collectErrors,
  DEFAULT_MAX_ERRORS,
  layersFor,
  type RawOutcome,
  runSchema,
} from './validator.js';

/** The parts of a request a route may declare schemas for. */
export type RequestPart = 'params' | 'query' | 'body' | 'headers';

/** A route's schemas, one optional Standard Schema per request part. */
export interface RequestSchemas {
  readonly params?: StandardSchemaV1;
  readonly query?: StandardSchemaV1;
  readonly body?: StandardSchemaV1;
  readonly headers?: StandardSchemaV1;
}

/** The raw parts, as the HTTP kernel parsed them. */
export interface RequestParts {
  params: unknown;
  query: unknown;
  body: unknown;
  headers: unknown;
}

/** The validated parts: a schema's output where one is declared, the raw part otherwise. */
export type ValidatedRequestParts<
  S extends RequestSchemas,
  I extends RequestParts = RequestParts,
> = {
  [K in RequestPart]: K extends keyof S
    ? S[K] extends StandardSchemaV1
      ? StandardSchemaV1.InferOutput<S[K]>
      : I[K]
    : I[K];
};

/** Compile-time options of a request validator. */
export interface RequestValidatorOptions {
  /** Messages keyed by prefixed path: `'body.email'`, `'query.page.min'`, or by rule. */
  messages?: MessageMap | MessageBag;
  /** List at most this many errors across all parts (default 100). */
  maxErrors?: number;
}

/**
 * A route's compiled validator. Returns the validated parts synchronously when every schema
 * is synchronous (throwing a ValidationError on failure), else a promise; `await` it either way.
 */
export type RequestValidator<S extends RequestSchemas> = <I extends RequestParts>(
  input: I,
  context?: ValidationContext,
) => ValidatedRequestParts<S, I> | Promise<ValidatedRequestParts<S, I>>;

const PARTS: readonly RequestPart[] = ['params', 'query', 'body', 'headers'];

interface Entry {
  readonly part: RequestPart;
  readonly schema: StandardSchemaV1;
  readonly layers: readonly MessageLayer[];
}

/**
 * Compile a route's schemas once (at boot) into a per-request validator. Every part is
 * validated, and all their errors come back in ONE ValidationError whose paths start with the
 * part: `body.items.0.sku`, `query.page`. Sync schemas cost no promise.
 *
 * @example
 * ```ts
 * const check = createRequestValidator({ params: z.object({ id: z.coerce.number() }) });
 * const { params } = await check({ params: { id: '7' }, query: {}, body: undefined, headers: {} });
 * ```
 */
export function createRequestValidator<S extends RequestSchemas>(
  schemas: S,
  options: RequestValidatorOptions = {},
): RequestValidator<S> {
  const entries: Entry[] = [];
  for (const part of PARTS) {
    const schema = schemas[part];
    if (schema === undefined) continue;
    assertSchema(schema, `the ${part} of a request`);
    entries.push({ part, schema, layers: layersFor(schema, options.messages, true) });
  }
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;

  const run = (input: RequestParts): RequestParts | Promise<RequestParts> => {
    const out: RequestParts = {
      params: input.params,
      query: input.query,
      body: input.body,
      headers: input.headers,
    };
    // One slot per entry, so errors list in part order even when async parts finish out of order.
    let failed: Array<readonly [Entry, RawOutcome] | undefined> | undefined;
    let pending: Array<Promise<void>> | undefined;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const outcome = runSchema(entry.schema, input[entry.part]);
      if (outcome instanceof Promise) {
        pending ??= [];
        pending.push(
          outcome.then((settled) => {
            if (settled.ok) {
              out[entry.part] = settled.value;
            } else {
              failed ??= [];
              failed[i] = [entry, settled];
            }
          }),
        );
      } else if (outcome.ok) {
        out[entry.part] = outcome.value;
      } else {
        failed ??= [];
        failed[i] = [entry, outcome];
      }
    }
    if (pending) {
      return Promise.all(pending).then(() => finish(out, failed, input));
    }
    return finish(out, failed, input);
  };

  const finish = (
    out: RequestParts,
    failed: Array<readonly [Entry, RawOutcome] | undefined> | undefined,
    input: RequestParts,
  ): RequestParts => {
    if (!failed) return out;
    const errors: FieldError[] = [];
    let omitted = 0;
    for (const slot of failed) {
      if (!slot) continue;
      const [entry, outcome] = slot;
      if (outcome.ok) continue;
      omitted += collectErrors(
        errors,
        outcome.issues,
        { prefix: entry.part, layers: entry.layers, input: input[entry.part], zod: outcome.zod },
        maxErrors,
      );
    }
    throw new ValidationError(errors, { omitted });
  };

  return (<I extends RequestParts>(input: I, context?: ValidationContext) =>
    context === undefined
      ? run(input)
      : runWithValidationContext(context, () => run(input))) as RequestValidator<S>;
}

/** Options of validateRequestParts(). */
export interface ValidateRequestOptions extends RequestValidatorOptions {
  context?: ValidationContext;
}

// Routes hand the same schemas object on every request: compile it once.
const compiled = new WeakMap<RequestSchemas, RequestValidator<RequestSchemas>>();

/**
 * Validate a request's params, query, body and headers against a route's schemas. Resolves
 * to the typed parts; rejects with ONE ValidationError listing every error of every part,
 * with paths prefixed by the part (`body.items.0.sku`, `query.page`).
 *
 * @example
 * ```ts
 * const { body, query } = await validateRequestParts(
 *   { body: z.object({ sku: z.string() }), query: z.object({ page: z.coerce.number().int() }) },
 *   { params: {}, query: { page: '2' }, body: { sku: 'A-1' }, headers: {} },
 * );
 * ```
 */
export function validateRequestParts<S extends RequestSchemas, I extends RequestParts>(
  schemas: S,
  input: I,
  options: ValidateRequestOptions = {},
): Promise<ValidatedRequestParts<S, I>> {
  try {
    let validator: RequestValidator<S> | undefined;
    if (options.messages === undefined && options.maxErrors === undefined) {
      validator = compiled.get(schemas) as RequestValidator<S> | undefined;
      if (!validator) {
        validator = createRequestValidator(schemas);
        compiled.set(schemas, validator as unknown as RequestValidator<RequestSchemas>);
      }
    } else {
      validator = createRequestValidator(schemas, options);
    }
    return Promise.resolve(validator(input, options.context));
  } catch (error) {
    return Promise.reject(error);
  }
}
