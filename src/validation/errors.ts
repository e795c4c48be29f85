import { defineError, KeelError, type KeelErrorClass } from '../support/index.js';

/**
 * One failed field. `path` is dotted from the validated root (`'items.0.sku'`), or prefixed
 * by the request part when it comes from route validation (`'body.items.0.sku'`).
 */
export interface FieldError {
  /** Dotted path to the field; `''` for the root value. */
  path: string;
  message: string;
  /** Stable rule name: `'required'`, `'min'`, `'email'`, `'iban'`, `'unique'`... */
  rule?: string;
  /** The schema library's issue code (`'too_small'`, `'invalid_format'`, `'custom'`). */
  code?: string;
}

const VALIDATION_HELP = 'Correct the fields listed in `errors` and send the input again.';

/** How many field errors the summary line names before "and N more". */
const SUMMARY_FIELDS = 3;

function summarize(errors: readonly FieldError[], omitted: number): string {
  const total = errors.length + omitted;
  if (total === 0) return 'Validation failed';
  const named = errors
    .slice(0, SUMMARY_FIELDS)
    .map((error) => (error.path ? `${error.path}: ${error.message}` : error.message));
  const more = total - named.length;
  const tail = more > 0 ? `; and ${more} more` : '';
  return `Validation failed (${total} error${total === 1 ? '' : 's'}): ${named.join('; ')}${tail}`;
}

/**
 * Thrown when input fails validation: HTTP 422, with every field error in `errors` (and in
 * `details.errors`, which the HTTP kernel renders in the problem+json body).
 *
 * @example
 * ```ts
 * try {
 *   await validateOrThrow(schema, input);
 * } catch (error) {
 *   if (ValidationError.is(error)) console.log(error.errors); // [{ path: 'email', ... }]
 * }
 * ```
 */
export class ValidationError extends KeelError {
  static readonly code = 'E_VALIDATION_FAILED';
  static readonly status = 422;
  static readonly help = VALIDATION_HELP;

  /** Every field error, in schema order; capped by `maxErrors` (see `details.omitted`). */
  readonly errors: FieldError[];

  constructor(errors: FieldError[], options: { omitted?: number } = {}) {
    const omitted = options.omitted ?? 0;
    super(ValidationError.code, summarize(errors, omitted), {
      status: ValidationError.status,
      help: VALIDATION_HELP,
      details: omitted > 0 ? { errors, omitted } : { errors },
    });
    this.errors = errors;
  }

  /** Messages grouped by path, the shape form libraries expect: `{ email: ['...'] }`. */
  get fields(): Record<string, string[]> {
    const out: Record<string, string[]> = Object.create(null);
    for (const error of this.errors) {
      const list = out[error.path];
      if (list) list.push(error.message);
      else out[error.path] = [error.message];
    }
    return out;
  }

  /** True when `error` is a validation failure (works across duplicated module copies). */
  static is(error: unknown): error is ValidationError {
    return error instanceof KeelError && error.code === ValidationError.code;
  }
}

export const E_VALIDATION_FAILED: KeelErrorClass<[errors: FieldError[]]> & typeof ValidationError =
  ValidationError;

export const E_VALIDATION_ASYNC_SCHEMA = defineError(
  'E_VALIDATION_ASYNC_SCHEMA',
  (what: string) => `${what} validates asynchronously, so validateSync() cannot run it`,
  {
    status: 500,
    help: 'Call validate() (which returns a promise) instead, or remove the async refinements and async rules from the schema.',
  },
);

export const E_INVALID_SCHEMA = defineError(
  'E_INVALID_SCHEMA',
  (what: string, got: string) => `Expected a Standard Schema for ${what}, got ${got}`,
  {
    status: 500,
    help: 'Pass a Zod schema, or any object implementing Standard Schema v1 (a "~standard" property with validate()).',
  },
);

export const E_RULE_ALREADY_DEFINED = defineError(
  'E_RULE_ALREADY_DEFINED',
  (name: string) => `Validation rule "${name}" is already defined`,
  {
    status: 500,
    help: 'Give the rule another name, or define it once in a provider and import the factory defineRule() returned.',
  },
);

export const E_UNKNOWN_RULE = defineError(
  'E_UNKNOWN_RULE',
  (name: string, suggestion?: string) =>
    `Unknown validation rule "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
  {
    status: 500,
    help: 'Define the rule with defineRule() before input is validated (usually in a provider boot()), or fix the name.',
  },
);

export const E_INVALID_RULE_OPTIONS = defineError(
  'E_INVALID_RULE_OPTIONS',
  (rule: string, reason: string) => `Invalid options for validation rule "${rule}": ${reason}`,
  {
    status: 500,
    help: 'Check the rule in the catalogue of docs/validation.md for the options it accepts.',
  },
);

export const E_INVALID_MESSAGES = defineError(
  'E_INVALID_MESSAGES',
  (key: string, reason: string) => `Invalid validation message "${key}": ${reason}`,
  {
    status: 500,
    help: 'Message keys are a field path (with * wildcards), a rule name, or "path.rule"; values are strings or functions returning a string.',
  },
);
