import { type Expression, type SqlBool, sql } from 'kysely';
import type { DialectName } from '../config.js';
import type { Connection } from '../connection.js';
import {
  E_DB_IDENTIFIER_REFUSED,
  E_MODEL_DEFINITION_INVALID,
  E_MODEL_NOT_FOUND,
  E_MODEL_QUERY_INVALID,
} from '../errors.js';
import type { ColumnCodec } from './column-codec.js';
import { bulkDelete, bulkIncrement, bulkRestore, bulkUpdate } from './model-bulk.js';
import { columnOf, connectionOf, rowReader } from './model-meta.js';
import {
  hydrate,
  type ModelClassRecord,
  type ModelMeta,
  type ModelRecord,
  metaOf,
} from './model-runtime.js';
import type {
  AsModel,
  ColumnName,
  InputOf,
  ModelLike,
  NumericColumn,
  PathTarget,
  RelationPath,
  ShapeOfInstance,
} from './model-types.js';
import {
  type CursorPage,
  type CursorPaginateOptions,
  cursorOrders,
  decodeCursor,
  encodeCursor,
  keyset,
  MAX_PAGE_SIZE,
  type OrderColumn,
  type Paginated,
  wholeNumber,
} from './pagination.js';
import { type QueryTag, withQueryTag } from './query-scope.js';
import { addEagerPath, chunks, type EagerNode, eagerNode, loadTree } from './relations.js';
import {
  type AnyBuilder,
  type Build,
  type Condition,
  combine,
  comparison,
  FALSE,
  OPERATOR_SET,
  OPERATORS,
  type Operator,
  TRUE,
  type WhereOperator,
} from './where-clause.js';

/** What a where clause compares column `K` with. */
export type WhereValue<I, K extends ColumnName<I>> = InputOf<
  ShapeOfInstance<I>['columns'][K & keyof ShapeOfInstance<I>['columns']]
> | null;

/** Values for a bulk `update()`: any columns, cast and checked like attributes. */
export type UpdateValues<I> = { [K in ColumnName<I>]?: WhereValue<I, K> };

/** The pivot join of a many-to-many query. */
export interface PivotJoin {
  table: string;
  foreignPivotKey: string;
  relatedPivotKey: string;
  relatedKey: string;
  columns: readonly string[];
}

/** What relations reach inside a query (not part of the public API). */
export interface QueryInternals {
  pivot(join: PivotJoin): void;
  tag(tag: QueryTag): void;
  whereIn(ref: string, values: readonly unknown[]): void;
  fetchIn(ref: string, values: readonly unknown[]): Promise<ModelRecord[]>;
  readonly meta: ModelMeta;
  /** Apply this query's where clause (with the soft-delete scope) to a write. */
  filter<Q>(qb: Q, dialect: DialectName): Q;
}

export const QUERY_INTERNALS = Symbol('keel.model.queryInternals');

const PIVOT_PREFIX = '__keel_pivot_';

/**
 * A query over one model: where/orderBy/limit, eager loading with `with()`, pagination,
 * returning model instances. Column names are checked against the model (names from input
 * are refused with E_DB_IDENTIFIER_REFUSED) and values cast like attributes.
 *
 * @example
 * ```ts
 * const orders = await Order.query()
 *   .where('status', 'paid')
 *   .where('total', '>=', '100.00')
 *   .with('lines.product', 'customer')
 *   .orderBy('placed_at', 'desc')
 *   .limit(20)
 *   .all();
 * ```
 */
export class ModelQuery<I extends ModelLike = ModelLike> {
  readonly #meta: ModelMeta;
  #conditions: Condition[] = [];
  #internal: Build[] = [];
  #orders: Array<{ codec: ColumnCodec; direction: 'asc' | 'desc' }> = [];
  #limit: number | undefined;
  #offset: number | undefined;
  #trashed: 'without' | 'with' | 'only' = 'without';
  #eager: EagerNode | undefined;
  #pivot: PivotJoin | undefined;
  #tag: QueryTag | undefined;

  constructor(model: ModelClassRecord) {
    this.#meta = metaOf(model);
  }

  /** Add `column = value`, `column <op> value`, or a group `(q) => q.where(...).orWhere(...)`. */
  where<K extends ColumnName<I>>(column: K, value: WhereValue<I, K>): this;
  where<K extends ColumnName<I>>(
    column: K,
    operator: WhereOperator,
    value: WhereValue<I, K> | readonly WhereValue<I, K>[],
  ): this;
  where(group: (query: ModelQuery<I>) => unknown): this;
  where(...args: unknown[]): this {
    this.#conditions.push(this.#condition(false, args));
    return this;
  }

  /** Like `where`, joined with OR (AND binds tighter, as in SQL). */
  orWhere<K extends ColumnName<I>>(column: K, value: WhereValue<I, K>): this;
  orWhere<K extends ColumnName<I>>(
    column: K,
    operator: WhereOperator,
    value: WhereValue<I, K> | readonly WhereValue<I, K>[],
  ): this;
  orWhere(group: (query: ModelQuery<I>) => unknown): this;
  orWhere(...args: unknown[]): this {
    this.#conditions.push(this.#condition(true, args));
    return this;
  }

  whereIn<K extends ColumnName<I>>(column: K, values: readonly WhereValue<I, K>[]): this {
    return this.where(column, 'in', values);
  }

  whereNotIn<K extends ColumnName<I>>(column: K, values: readonly WhereValue<I, K>[]): this {
    return this.where(column, 'not in', values);
  }

  whereNull(column: ColumnName<I>): this {
    return this.where(column, '=', null as never);
  }

  whereNotNull(column: ColumnName<I>): this {
    return this.where(column, '!=', null as never);
  }

  #condition(or: boolean, args: unknown[]): Condition {
    if (args.length === 1 && typeof args[0] === 'function') {
      const group = new ModelQuery<I>(this.#meta.cls);
      (args[0] as (query: ModelQuery<I>) => unknown)(group);
      const inner = group.#conditions;
      return {
        or,
        build: (eb, dialect) => (inner.length === 0 ? TRUE : combine(eb, inner, dialect)),
      };
    }
    if (args.length !== 2 && args.length !== 3)
      throw new TypeError('where() takes (column, value), (column, operator, value) or (group)');
    const codec = columnOf(this.#meta.definition, args[0]);
    const operator = args.length === 2 ? '=' : String(args[1]).toLowerCase();
    if (!OPERATOR_SET.has(operator))
      throw new E_DB_IDENTIFIER_REFUSED('operator', String(args[1]), OPERATORS);
    const { table } = this.#meta.definition;
    return {
      or,
      build: comparison(table, this.#meta.name, codec, operator as Operator, args.at(-1)),
    };
  }

  /** Order by a column (a name from input is checked) and `asc`/`desc`. */
  orderBy(column: OrderColumn<I>, direction: 'asc' | 'desc' | (string & {}) = 'asc'): this {
    const codec = columnOf(this.#meta.definition, column);
    const dir = typeof direction === 'string' ? direction.toLowerCase() : '';
    if (dir !== 'asc' && dir !== 'desc')
      throw new E_DB_IDENTIFIER_REFUSED('direction', String(direction), ['asc', 'desc']);
    this.#orders.push({ codec, direction: dir });
    return this;
  }

  limit(count: number): this {
    this.#limit = wholeNumber('limit', count, 0, Number.MAX_SAFE_INTEGER);
    return this;
  }

  offset(count: number): this {
    this.#offset = wholeNumber('offset', count, 0, Number.MAX_SAFE_INTEGER);
    return this;
  }

  /**
   * Eager load relations, one query per relation whatever the number of rows: names,
   * dotted paths (`'lines.product'`), or one path with a constraint on its query.
   */
  with(...paths: RelationPath<I>[]): this;
  with<P extends RelationPath<I>>(
    path: P,
    constrain: (query: ModelQuery<AsModel<PathTarget<I, P>>>) => unknown,
  ): this;
  with(...args: unknown[]): this {
    this.#eager ??= eagerNode();
    if (args.length === 2 && typeof args[1] === 'function') {
      addEagerPath(this.#eager, this.#meta, args[0], args[1] as (query: ModelQuery) => unknown);
      return this;
    }
    for (const path of args) addEagerPath(this.#eager, this.#meta, path);
    return this;
  }

  #softDeletes(): string {
    const column = this.#meta.definition.deletedAt;
    if (!column)
      throw new E_MODEL_DEFINITION_INVALID(this.#meta.name, 'it does not use soft deletes');
    return column;
  }

  /** Include soft-deleted rows. */
  withTrashed(): this {
    this.#softDeletes();
    this.#trashed = 'with';
    return this;
  }

  /** Only soft-deleted rows. */
  onlyTrashed(): this {
    this.#softDeletes();
    this.#trashed = 'only';
    return this;
  }

  /** An independent copy of this query. */
  clone(): ModelQuery<I> {
    const copy = new ModelQuery<I>(this.#meta.cls);
    copy.#conditions = [...this.#conditions];
    copy.#internal = [...this.#internal];
    copy.#orders = [...this.#orders];
    copy.#limit = this.#limit;
    copy.#offset = this.#offset;
    copy.#trashed = this.#trashed;
    copy.#eager = this.#eager;
    copy.#pivot = this.#pivot;
    copy.#tag = this.#tag;
    return copy;
  }

  #where(eb: AnyBuilder, dialect: DialectName): Expression<SqlBool> | undefined {
    const parts: Expression<SqlBool>[] = [];
    if (this.#conditions.length > 0) parts.push(combine(eb, this.#conditions, dialect));
    for (const build of this.#internal) parts.push(build(eb, dialect));
    const deletedAt = this.#meta.definition.deletedAt;
    if (deletedAt && this.#trashed !== 'with') {
      const ref = `${this.#meta.definition.table}.${deletedAt}`;
      parts.push(eb(ref, this.#trashed === 'only' ? 'is not' : 'is', null));
    }
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : eb.and(parts);
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's builders over an untyped database.
  #filtered<Q extends { where: any }>(qb: Q, dialect: DialectName): Q {
    const hasWhere =
      this.#conditions.length > 0 ||
      this.#internal.length > 0 ||
      (this.#meta.definition.deletedAt !== undefined && this.#trashed !== 'with');
    if (!hasWhere) return qb;
    return qb.where((eb: AnyBuilder) => this.#where(eb, dialect)!) as Q;
  }

  #from(connection: Connection) {
    const table = this.#meta.definition.table;
    const pivot = this.#pivot;
    const from = connection.db.selectFrom(table);
    if (!pivot) return from;
    return from.innerJoin(
      pivot.table,
      `${pivot.table}.${pivot.relatedPivotKey}`,
      `${table}.${pivot.relatedKey}`,
    );
  }

  #select(connection: Connection) {
    const dialect = connection.dialect;
    const pivot = this.#pivot;
    let qb = pivot
      ? this.#from(connection)
          .selectAll(this.#meta.definition.table)
          .select(
            [pivot.foreignPivotKey, ...pivot.columns].map(
              (column) => `${pivot.table}.${column} as ${PIVOT_PREFIX}${column}`,
            ),
          )
      : this.#from(connection).selectAll();
    qb = this.#filtered(qb, dialect);
    for (const order of this.#orders)
      qb = qb.orderBy(`${this.#meta.definition.table}.${order.codec.name}`, order.direction);
    // SQLite and MySQL have no OFFSET without LIMIT.
    const limit =
      this.#limit ??
      (this.#offset !== undefined && dialect !== 'postgres' ? Number.MAX_SAFE_INTEGER : undefined);
    if (limit !== undefined) qb = qb.limit(limit);
    if (this.#offset !== undefined) qb = qb.offset(this.#offset);
    return qb;
  }

  async #fetch(): Promise<I[]> {
    const definition = this.#meta.definition;
    const connection = connectionOf(definition);
    const qb = this.#select(connection);
    const rows = (
      this.#tag ? await withQueryTag(this.#tag, () => qb.execute()) : await qb.execute()
    ) as Record<string, unknown>[];
    const read = rowReader(definition, connection.dialect);
    const cls = this.#meta.cls;
    const pivot = this.#pivot;
    const models = new Array<I>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const model = hydrate<ModelRecord>(cls, definition, read, row);
      if (pivot) {
        const values: Record<string, unknown> = {};
        for (const column of [pivot.foreignPivotKey, ...pivot.columns])
          values[column] = row[`${PIVOT_PREFIX}${column}`];
        model.$pivot = values;
      }
      models[i] = model as unknown as I;
    }
    return models;
  }

  /** Every matching model, with the eager loads applied. */
  async all(): Promise<I[]> {
    const models = await this.#fetch();
    if (this.#eager && models.length > 0)
      await loadTree(this.#meta, models as unknown as ModelRecord[], this.#eager, false);
    return models;
  }

  /** The first matching model, or null. */
  async first(): Promise<I | null> {
    this.#limit = 1;
    const [model] = await this.all();
    return model ?? null;
  }

  /** The first matching model, or E_MODEL_NOT_FOUND (404). */
  async firstOrFail(): Promise<I> {
    const model = await this.first();
    if (!model) throw new E_MODEL_NOT_FOUND(this.#meta.name, undefined);
    return model;
  }

  /** How many rows match (limit, offset and ordering are ignored). */
  async count(): Promise<number> {
    const connection = connectionOf(this.#meta.definition);
    const qb = this.#filtered(
      this.#from(connection).select((eb) => eb.fn.countAll().as('aggregate')),
      connection.dialect,
    );
    const row = (await this.#run(() => qb.executeTakeFirst())) as { aggregate?: unknown };
    return Number(row?.aggregate ?? 0);
  }

  /** True when at least one row matches. */
  async exists(): Promise<boolean> {
    const connection = connectionOf(this.#meta.definition);
    const qb = this.#filtered(
      this.#from(connection).select(sql<number>`1`.as('one')).limit(1),
      connection.dialect,
    );
    return (await this.#run(() => qb.executeTakeFirst())) !== undefined;
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#tag ? withQueryTag(this.#tag, fn) : fn();
  }

  #stableOrder(): void {
    const pk = this.#meta.definition.primaryKey;
    if (!this.#orders.some((order) => order.codec.name === pk))
      this.#orders.push({ codec: this.#meta.definition.columns.get(pk)!, direction: 'asc' });
  }

  /**
   * One page by offset, with the total. Ordered by the primary key after any `orderBy`, so
   * pages never overlap. `page` and `perPage` may be strings from a query string.
   *
   * @example
   * ```ts
   * const { data, meta } = await Product.query().where('active', true).paginate(ctx.query.page, 25);
   * ```
   */
  async paginate(page: number | string = 1, perPage: number | string = 20): Promise<Paginated<I>> {
    const current = wholeNumber('page', page, 1, Number.MAX_SAFE_INTEGER);
    const size = wholeNumber('perPage', perPage, 1, MAX_PAGE_SIZE);
    const total = await this.count();
    const lastPage = Math.max(1, Math.ceil(total / size));
    const offset = (current - 1) * size;
    let data: I[] = [];
    if (offset < total) {
      const query = this.clone();
      query.#stableOrder();
      data = await query.limit(size).offset(offset).all();
    }
    return { data, meta: { total, perPage: size, currentPage: current, lastPage } };
  }

  /**
   * One page by keyset: rows after the cursor in `orderBy` order (the primary key breaks
   * ties). The cursor is opaque base64url; garbage or a cursor for another ordering is
   * E_MODEL_CURSOR_INVALID (400). Ordering columns must not be nullable.
   *
   * @example
   * ```ts
   * const page = await Order.query().cursorPaginate({ cursor: ctx.query.cursor, limit: 50, orderBy: { column: 'placed_at', direction: 'desc' } });
   * ```
   */
  async cursorPaginate(options: CursorPaginateOptions<I> = {}): Promise<CursorPage<I>> {
    const limit = wholeNumber('limit', options.limit ?? 20, 1, MAX_PAGE_SIZE);
    const orders = cursorOrders(this.#meta.definition, options.orderBy);
    const query = this.clone();
    query.#orders = orders.map((o) => ({ codec: o.codec, direction: o.direction }));
    if (options.cursor !== undefined && options.cursor !== null && options.cursor !== '') {
      const values = decodeCursor(options.cursor, orders);
      query.#internal.push(keyset(this.#meta.definition.table, orders, values));
    }
    query.#limit = limit + 1;
    query.#offset = undefined;
    const rows = await query.#fetch();
    const data = rows.slice(0, limit);
    if (this.#eager && data.length > 0)
      await loadTree(this.#meta, data as unknown as ModelRecord[], this.#eager, false);
    const last = data.at(-1) as unknown as ModelRecord | undefined;
    const nextCursor =
      rows.length > limit && last
        ? encodeCursor(
            orders,
            orders.map((o) => last.$attributes[o.codec.name]),
          )
        : null;
    return { data, nextCursor };
  }

  /** The SQL and parameters this query would run (for logs and tests). */
  toSQL(): { sql: string; parameters: readonly unknown[] } {
    const compiled = this.#select(connectionOf(this.#meta.definition)).compile();
    return { sql: compiled.sql, parameters: compiled.parameters };
  }

  /** @internal Hooks for relations; the symbol is not exported from `keel/db`. */
  [QUERY_INTERNALS](): QueryInternals {
    return {
      pivot: (join) => {
        this.#pivot = join;
      },
      tag: (tag) => {
        this.#tag = tag;
      },
      whereIn: (ref, values) => {
        this.#internal.push((eb) => (values.length === 0 ? FALSE : eb(ref, 'in', [...values])));
      },
      meta: this.#meta,
      filter: (qb, dialect) => {
        if (this.#pivot)
          throw new E_MODEL_QUERY_INVALID(
            'bulk write',
            'a many-to-many relation query cannot write; use attach/detach/sync',
          );
        return this.#filtered(qb as never, dialect);
      },
      fetchIn: async (ref, values) => {
        const out: ModelRecord[] = [];
        for (const chunk of chunks(values)) {
          const query = this.clone();
          query.#internal.push((eb) => eb(ref, 'in', chunk));
          out.push(...((await query.#fetch()) as unknown as ModelRecord[]));
        }
        return out;
      },
    };
  }

  /**
   * Update every matching row (soft-deleted ones excluded unless asked) and return how many
   * changed. Bulk writes run no model events; `updated_at` is set when the model has it.
   *
   * @example
   * ```ts
   * await Product.query().where('category_id', id).update({ active: false });
   * ```
   */
  update(values: UpdateValues<I>): Promise<number> {
    return bulkUpdate(this[QUERY_INTERNALS](), values as Record<string, unknown>);
  }

  /** Add `by` to a numeric column of every matching row in one statement. */
  increment(column: NumericColumn<I>, by: number = 1): Promise<number> {
    return bulkIncrement(this[QUERY_INTERNALS](), column, by);
  }

  decrement(column: NumericColumn<I>, by: number = 1): Promise<number> {
    return bulkIncrement(this[QUERY_INTERNALS](), column, -by);
  }

  /** Delete the matching rows: soft when the model uses soft deletes. No model events. */
  delete(): Promise<number> {
    return bulkDelete(this[QUERY_INTERNALS](), false);
  }

  /** Delete the matching rows for good, soft deletes or not. */
  forceDelete(): Promise<number> {
    return bulkDelete(this[QUERY_INTERNALS](), true);
  }

  /** Clear `deleted_at` on the matching rows (use with `onlyTrashed()`). */
  restore(): Promise<number> {
    this.#softDeletes();
    return bulkRestore(this[QUERY_INTERNALS]());
  }
}
