import { AsyncSlot } from '../support/async-slot.js';

/**
 * Values a validation run makes available to rules (`ctx.context` in an async rule): the
 * request, the container, the current user... Augment it for typed access:
 *
 * @example
 * ```ts
 * declare module 'keel/validation' {
 *   interface ValidationContext { tenantId?: string }
 * }
 * await validate(schema, input, { context: { tenantId: 't1' } });
 * ```
 */
export interface ValidationContext {
  [key: string]: unknown;
}

const EMPTY: ValidationContext = Object.freeze({});

// Zod checks receive only their payload, not the parse options, so the context reaches the
// rules through async-local storage. It is entered only when a caller passes a context, which
// keeps the common path free of that bookkeeping.
const storage = new AsyncSlot<ValidationContext>();

/** The context of the validation run in progress, or an empty object outside one. */
export function currentValidationContext(): ValidationContext {
  return storage.get() ?? EMPTY;
}

/** Run `fn` with `context` visible to the rules it triggers (also across awaits). */
export function runWithValidationContext<R>(
  context: ValidationContext | undefined,
  fn: () => R,
): R {
  return context === undefined ? fn() : storage.run(context, fn);
}
