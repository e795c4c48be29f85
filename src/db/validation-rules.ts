import type { z } from 'zod';
import { asyncRule, type RuleContext, type RuleMessage } from '../validation/index.js';
import { db } from './database-manager.js';

type ContextValue<T> = T | ((ctx: RuleContext) => T);

/** Options shared by {@link unique} and {@link exists}. */
export interface DatabaseRuleOptions {
  /** The connection to look in; the default connection when absent. */
  connection?: string;
  /** Extra equality conditions (`{ tenant_id: 7 }`, or a function of the rule context). */
  where?: ContextValue<Record<string, unknown>>;
  /** Rows with a set `deleted_at` count as absent (soft-deleted). */
  withoutTrashed?: boolean | string;
  /** The rule's own message, replaceable by message maps. */
  message?: string;
  /** A message for this use that outranks message maps. */
  error?: RuleMessage;
}

export interface UniqueOptions extends DatabaseRuleOptions {
  /**
   * The row being updated, which may keep its own value: its key, or a function of the
   * rule context (`(ctx) => ctx.context.userId`).
   */
  ignore?: ContextValue<unknown>;
  /** The column `ignore` matches; default `id`. */
  ignoreColumn?: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/**
 * Table and column names are written by the developer, never taken from input; checking
 * them when the schema is built turns a typo or an interpolated value into an error at once.
 */
function identifier(kind: string, name: string): string {
  if (!IDENTIFIER.test(name))
    throw new TypeError(`${kind} must be a plain SQL identifier, got ${JSON.stringify(name)}`);
  return name;
}

function resolve<T>(value: ContextValue<T>, ctx: RuleContext): T {
  return typeof value === 'function' ? (value as (ctx: RuleContext) => T)(ctx) : value;
}

async function countMatching(
  table: string,
  column: string,
  value: unknown,
  options: UniqueOptions,
  ctx: RuleContext,
): Promise<boolean> {
  let query = db(options.connection).selectFrom(table).select(column).where(column, '=', value);
  const where = options.where === undefined ? {} : resolve(options.where, ctx);
  for (const [key, expected] of Object.entries(where))
    query = query.where(identifier('where column', key), '=', expected as never);
  if (options.withoutTrashed) {
    const deleted =
      typeof options.withoutTrashed === 'string' ? options.withoutTrashed : 'deleted_at';
    query = query.where(identifier('soft delete column', deleted), 'is', null);
  }
  if (options.ignore !== undefined) {
    const ignored = resolve(options.ignore, ctx);
    if (ignored !== undefined && ignored !== null)
      query = query.where(
        identifier('ignoreColumn', options.ignoreColumn ?? 'id'),
        '<>',
        ignored as never,
      );
  }
  return (await query.limit(1).executeTakeFirst()) !== undefined;
}

/** Values a lookup can bind; anything else (objects, arrays) fails the rule without a query. */
function bindable(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'bigint' ||
    typeof value === 'boolean'
  );
}

/**
 * An async rule: no row of `table` has this value in `column` (another user's e-mail,
 * an existing SKU). Runs only when the value passed its other checks.
 *
 * @example
 * ```ts
 * const SignUp = z.object({ email: z.email().check(unique('users', 'email')) });
 * const Update = z.object({
 *   email: z.email().check(unique('users', 'email', { ignore: (ctx) => ctx.context.userId })),
 * });
 * ```
 */
export function unique<T = unknown>(
  table: string,
  column: string,
  options: UniqueOptions = {},
): z.core.$ZodCheck<T> {
  identifier('table', table);
  identifier('column', column);
  if (options.ignoreColumn !== undefined) identifier('ignoreColumn', options.ignoreColumn);
  return asyncRule<T>(
    'unique',
    async (value, ctx) =>
      bindable(value) && !(await countMatching(table, column, value, options, ctx)),
    {
      message: options.message ?? 'This value is already taken',
      ...(options.error === undefined ? {} : { error: options.error }),
    },
  );
}

/**
 * An async rule: a row of `table` has this value in `column` (a foreign key given in a
 * request: the category an item goes in, the customer an order is for).
 *
 * @example
 * ```ts
 * const OrderInput = z.object({ customerId: z.number().int().check(exists('customers', 'id')) });
 * ```
 */
export function exists<T = unknown>(
  table: string,
  column: string,
  options: DatabaseRuleOptions = {},
): z.core.$ZodCheck<T> {
  identifier('table', table);
  identifier('column', column);
  return asyncRule<T>(
    'exists',
    async (value, ctx) => bindable(value) && countMatching(table, column, value, options, ctx),
    {
      message: options.message ?? 'The selected value does not exist',
      ...(options.error === undefined ? {} : { error: options.error }),
    },
  );
}
