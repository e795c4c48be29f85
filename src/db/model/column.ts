/** What a column holds; each kind has one cast per dialect (see column-codec.ts). */
export type ColumnKind =
  | 'id'
  | 'integer'
  | 'number'
  | 'string'
  | 'uuid'
  | 'decimal'
  | 'boolean'
  | 'json'
  | 'date';

/** The runtime description of a column, read by the model layer. */
export interface ColumnSpec {
  readonly kind: ColumnKind;
  /** The column accepts NULL (and may be left out on create). */
  readonly nullable: boolean;
  /** The database fills it when left out on create (a DEFAULT, an auto-increment, a uuid). */
  readonly optional: boolean;
  /** Decimal places a decimal is formatted to where the engine returns a float (SQLite). */
  readonly scale: number | undefined;
}

/**
 * A typed column: the value the model holds (`TValue`), what mass assignment and setters
 * accept (`TInput`), and whether it is nullable or optional on create. The type parameters
 * exist for inference only; `spec` is what runs.
 */
export class Column<
  TValue,
  TInput = TValue,
  TNullable extends boolean = false,
  TOptional extends boolean = false,
> {
  /** Type-level only: never set at run time. */
  declare readonly __types?: {
    value: TValue;
    input: TInput;
    nullable: TNullable;
    optional: TOptional;
  };
  readonly spec: ColumnSpec;

  constructor(spec: ColumnSpec) {
    this.spec = spec;
  }

  /** The column accepts NULL; the attribute is `T | null` and may be left out on create. */
  nullable(): Column<TValue, TInput, true, TOptional> {
    return new Column({ ...this.spec, nullable: true });
  }

  /** The database has a DEFAULT for it: it may be left out on create. */
  optional(): Column<TValue, TInput, TNullable, true> {
    return new Column({ ...this.spec, optional: true });
  }
}

/** Any column, whatever its types. */
export type AnyColumn = Column<unknown, unknown, boolean, boolean>;

/** The columns of a model by name. */
export type ColumnMap = Record<string, AnyColumn>;

function spec(kind: ColumnKind, extra: Partial<ColumnSpec> = {}): ColumnSpec {
  return { kind, nullable: false, optional: false, scale: undefined, ...extra };
}

/**
 * Column builders for `defineModel`. Each decides the attribute's TypeScript type and how
 * the value is written and read on each engine.
 *
 * @example
 * ```ts
 * const Product = defineModel({
 *   table: 'products',
 *   columns: {
 *     id: column.id(),
 *     sku: column.string(),
 *     price: column.decimal({ scale: 2 }),
 *     active: column.boolean().optional(),
 *     meta: column.json<{ tags: string[] }>().nullable(),
 *     placed_at: column.date().nullable(),
 *   },
 * });
 * ```
 */
export const column = {
  /** An auto-increment integer primary key (`serial` / `AUTO_INCREMENT` / `INTEGER PRIMARY KEY`). */
  id: (): Column<number, number | string, false, true> =>
    new Column(spec('id', { optional: true })),
  /** A safe integer; numeric strings (`'42'`) are accepted on input. */
  integer: (): Column<number, number | string> => new Column(spec('integer')),
  /** A floating-point number (use `decimal` for money). */
  number: (): Column<number, number | string> => new Column(spec('number')),
  string: (): Column<string> => new Column(spec('string')),
  /** A UUID string, generated with `crypto.randomUUID()` on create when not given. */
  uuid: (): Column<string, string, false, true> => new Column(spec('uuid', { optional: true })),
  /**
   * An exact decimal, held as a string (`'19.90'`) so no digit is lost to floating point.
   * `scale` formats values SQLite returns as floats to that many places.
   */
  decimal: (options: { scale?: number } = {}): Column<string, string | number> =>
    new Column(spec('decimal', { scale: options.scale })),
  /** A boolean; SQLite and MySQL store 0/1, read back as `false`/`true`. */
  boolean: (): Column<boolean, boolean | 0 | 1> => new Column(spec('boolean')),
  /** A JSON document, stored as text (SQLite, MariaDB) or json/jsonb (PostgreSQL, MySQL). */
  json: <T = unknown>(): Column<T> => new Column(spec('json')),
  /** A timestamp, held as a `Date`; ISO-8601 strings are accepted on input. */
  date: (): Column<Date, Date | string> => new Column(spec('date')),
};
