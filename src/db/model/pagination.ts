import type { Expression, SqlBool } from 'kysely';
import {
  E_DB_IDENTIFIER_REFUSED,
  E_MODEL_CURSOR_INVALID,
  E_MODEL_QUERY_INVALID,
} from '../errors.js';
import type { ColumnCodec } from './column-codec.js';
import { type CompiledDefinition, columnOf } from './model-meta.js';
import type { ColumnName } from './model-types.js';
import type { Build } from './where-clause.js';

/** The largest page `paginate` and `cursorPaginate` serve (the bound on a `perPage` from input). */
export const MAX_PAGE_SIZE = 1000;
const MAX_CURSOR_LENGTH = 4096;
const CURSOR_VERSION = 1;

/** A column name checked at run time: from code, or a string from input. */
export type OrderColumn<I> = ColumnName<I> | (string & {});

/** An ordering for `cursorPaginate`: a column, or a column and its direction. */
export type CursorOrderBy<I> =
  | OrderColumn<I>
  | { column: OrderColumn<I>; direction?: 'asc' | 'desc' }
  | ReadonlyArray<OrderColumn<I> | { column: OrderColumn<I>; direction?: 'asc' | 'desc' }>;

export interface CursorPaginateOptions<I> {
  /** The previous page's `nextCursor`; omit (or null) for the first page. */
  cursor?: string | null;
  /** Rows per page (1 to 1000); a string from a query string is accepted. */
  limit?: number | string;
  /** Default: the primary key. The primary key is always added as the last tie-breaker. */
  orderBy?: CursorOrderBy<I>;
}

/** An offset page. */
export interface Paginated<T> {
  data: T[];
  meta: { total: number; perPage: number; currentPage: number; lastPage: number };
}

/** A keyset page: `nextCursor` is null on the last page. */
export interface CursorPage<T> {
  data: T[];
  nextCursor: string | null;
}

/** One ordering column of a cursor, checked. */
export interface CursorOrder {
  readonly codec: ColumnCodec;
  readonly direction: 'asc' | 'desc';
}

/**
 * A whole number from code or a query string (`'2'`), within `[min, max]`; anything else
 * is E_MODEL_QUERY_INVALID naming the parameter.
 */
export function wholeNumber(what: string, value: unknown, min: number, max: number): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,15}$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new E_MODEL_QUERY_INVALID(
      what,
      `expected a whole number from ${min} to ${max}, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 32)) : typeof value === 'number' ? String(value) : typeof value}`,
    );
  return n;
}

/** What the cursor is bound to: the ordering it was made for. */
export function cursorSignature(orders: readonly CursorOrder[]): string {
  return orders.map((o) => `${o.codec.name}:${o.direction}`).join(',');
}

/** An opaque cursor for the row holding `values` (the ordering columns' attributes). */
export function encodeCursor(orders: readonly CursorOrder[], values: readonly unknown[]): string {
  const serialized = values.map((value) => (value instanceof Date ? value.toISOString() : value));
  const payload = JSON.stringify([CURSOR_VERSION, cursorSignature(orders), serialized]);
  return Buffer.from(payload, 'utf8').toString('base64url');
}

/**
 * The attribute values a cursor holds, checked against the ordering and the columns'
 * types. Garbage, a cursor for another ordering and values of the wrong type are all
 * E_MODEL_CURSOR_INVALID (400).
 */
export function decodeCursor(cursor: unknown, orders: readonly CursorOrder[]): unknown[] {
  if (typeof cursor !== 'string') throw new E_MODEL_CURSOR_INVALID('it is not a string');
  if (cursor.length > MAX_CURSOR_LENGTH) throw new E_MODEL_CURSOR_INVALID('it is too long');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor))
    throw new E_MODEL_CURSOR_INVALID('it is not base64url text');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new E_MODEL_CURSOR_INVALID('it does not decode');
  }
  if (
    !Array.isArray(payload) ||
    payload.length !== 3 ||
    payload[0] !== CURSOR_VERSION ||
    typeof payload[1] !== 'string' ||
    !Array.isArray(payload[2])
  )
    throw new E_MODEL_CURSOR_INVALID('it does not have the shape of a Keel cursor');
  if (payload[1] !== cursorSignature(orders))
    throw new E_MODEL_CURSOR_INVALID('it was made for another ordering');
  const values = payload[2] as unknown[];
  if (values.length !== orders.length)
    throw new E_MODEL_CURSOR_INVALID('it does not hold one value per ordering column');
  return orders.map((order, i) => {
    const value = values[i];
    try {
      if (value === null) throw new Error('null');
      return order.codec.input(value);
    } catch {
      throw new E_MODEL_CURSOR_INVALID(`its value for "${order.codec.name}" has the wrong type`);
    }
  });
}

/** The checked ordering of a cursor page, the primary key last. */
export function cursorOrders(definition: CompiledDefinition, orderBy: unknown): CursorOrder[] {
  const list: unknown[] = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  const orders: CursorOrder[] = list.map((entry: unknown) => {
    const spec =
      typeof entry === 'object' && entry !== null
        ? (entry as { column: unknown; direction?: unknown })
        : { column: entry };
    const codec = columnOf(definition, spec.column);
    const direction = String(spec.direction ?? 'asc').toLowerCase();
    if (direction !== 'asc' && direction !== 'desc')
      throw new E_DB_IDENTIFIER_REFUSED('direction', String(spec.direction), ['asc', 'desc']);
    if (codec.spec.nullable)
      throw new E_MODEL_QUERY_INVALID(
        'cursor orderBy',
        `"${codec.name}" is nullable; keyset pagination needs non-null ordering columns`,
      );
    return { codec, direction };
  });
  if (!orders.some((o) => o.codec.name === definition.primaryKey))
    orders.push({
      codec: definition.columns.get(definition.primaryKey)!,
      direction: orders.at(-1)?.direction ?? 'asc',
    });
  return orders;
}

/** The rows strictly after the cursor's row: `(a > x) or (a = x and b > y) ...`. */
export function keyset(
  table: string,
  orders: readonly CursorOrder[],
  values: readonly unknown[],
): Build {
  return (eb, dialect) =>
    eb.or(
      orders.map((order, i) => {
        const parts: Expression<SqlBool>[] = [];
        for (let j = 0; j < i; j++) {
          const previous = orders[j]!;
          parts.push(
            eb(`${table}.${previous.codec.name}`, '=', previous.codec.write(values[j], dialect)),
          );
        }
        parts.push(
          eb(
            `${table}.${order.codec.name}`,
            order.direction === 'asc' ? '>' : '<',
            order.codec.write(values[i], dialect),
          ),
        );
        return parts.length === 1 ? parts[0]! : eb.and(parts);
      }),
    );
}
