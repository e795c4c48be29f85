import type { Column, ColumnMap } from './column.js';

/** Expand an intersection into one object type, for readable hovers and exact type tests. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

type TypesOf<C> = C extends { readonly __types?: infer T } ? NonNullable<T> : never;

/** The attribute type of a column: its value, `| null` when nullable. */
export type ValueOf<C> =
  TypesOf<C> extends { value: infer V; nullable: infer N }
    ? N extends true
      ? V | null
      : V
    : never;

/** What mass assignment and setters accept for a column. */
export type InputOf<C> =
  TypesOf<C> extends { input: infer I; nullable: infer N }
    ? N extends true
      ? I | null
      : I
    : never;

type IsOptional<C> =
  TypesOf<C> extends { nullable: infer N; optional: infer O }
    ? N extends true
      ? true
      : O extends true
        ? true
        : false
    : false;

/** Names of the managed timestamp columns, or `false` to leave one out. */
export interface TimestampOptions {
  createdAt?: string | false;
  updatedAt?: string | false;
}

/** The columns Keel manages may be hidden under their default names. */
type ManagedDefaultName = 'created_at' | 'updated_at' | 'deleted_at';

/** What `defineModel` takes besides the columns. */
export interface ModelOptions<K extends string = string> {
  /** The table (a name from code, never from input). */
  table: string;
  columns: ColumnMap;
  /** Default `'id'`. */
  primaryKey?: K;
  /** A connection name from config/database.ts; default: the default connection. */
  connection?: string;
  /** The name in error messages and events; default: the class name, else from the table. */
  name?: string;
  /** The only columns `create`/`fill`/`new Model(input)` accept. */
  fillable?: readonly K[];
  /** Every column except these is fillable (ignored when `fillable` is given). */
  guarded?: readonly K[];
  /** Left out of `toJSON()`. */
  hidden?: readonly (K | ManagedDefaultName)[];
  /** `created_at`/`updated_at` set automatically; default true. */
  timestamps?: boolean | TimestampOptions;
  /** `delete()` sets `deleted_at` (or the named column) instead of deleting the row. */
  softDeletes?: boolean | string;
}

type ManagedDate<N extends boolean> = Column<Date, Date | string, N, true>;

type NamedTimestamp<V, D extends string> = V extends false
  ? {}
  : V extends string
    ? { [K in V]: ManagedDate<false> }
    : { [K in D]: ManagedDate<false> };

type TimestampColumns<O> = O extends { timestamps: infer T }
  ? T extends false
    ? {}
    : T extends TimestampOptions
      ? NamedTimestamp<T['createdAt'], 'created_at'> & NamedTimestamp<T['updatedAt'], 'updated_at'>
      : { created_at: ManagedDate<false>; updated_at: ManagedDate<false> }
  : { created_at: ManagedDate<false>; updated_at: ManagedDate<false> };

type SoftDeleteColumns<O> = O extends { softDeletes: infer S }
  ? S extends true
    ? { deleted_at: ManagedDate<true> }
    : S extends string
      ? { [K in S]: ManagedDate<true> }
      : {}
  : {};

type ManagedColumns<O> = TimestampColumns<O> & SoftDeleteColumns<O>;

/** Declared columns plus the managed ones the model adds (unless declared). */
export type AllColumns<C, O> = Simplify<C & Omit<ManagedColumns<O>, keyof C>>;

type PrimaryKeyOf<O> = O extends { primaryKey: infer P extends string } ? P : 'id';

type FillableOf<C, O> = O extends { fillable: readonly (infer F)[] }
  ? F & keyof C
  : O extends { guarded: readonly (infer G)[] }
    ? Exclude<keyof C, G | keyof ManagedColumns<O>>
    : Exclude<keyof C, PrimaryKeyOf<O> | keyof ManagedColumns<O>>;

/** The attributes of a model: one property per column. */
export type Attributes<Cols> = { -readonly [K in keyof Cols]: ValueOf<Cols[K]> };

type CreateInputOf<Cols, F extends keyof Cols> = Simplify<
  { [K in F as IsOptional<Cols[K]> extends true ? never : K]: InputOf<Cols[K]> } & {
    [K in F as IsOptional<Cols[K]> extends true ? K : never]?: InputOf<Cols[K]>;
  }
>;

/** Everything the types know about one model, computed once from its definition. */
export interface ModelShape {
  columns: ColumnMap;
  attributes: object;
  primaryKey: string;
  /** What `find()` takes. */
  key: unknown;
  /** `fill()` and `new Model(input)`: any fillable column. */
  fillInput: object;
  /** `create()`: fillable columns, required where the column has no default. */
  createInput: object;
}

/** The shape of the model `defineModel(definition)` makes. */
export type ShapeOf<C extends ColumnMap, O> = {
  columns: AllColumns<C, O>;
  attributes: Simplify<Attributes<AllColumns<C, O>>>;
  primaryKey: PrimaryKeyOf<O>;
  key: PrimaryKeyOf<O> extends keyof AllColumns<C, O>
    ? Exclude<InputOf<AllColumns<C, O>[PrimaryKeyOf<O>]>, null>
    : never;
  fillInput: Simplify<{
    [K in FillableOf<C, O>]?: InputOf<AllColumns<C, O>[K & keyof AllColumns<C, O>]>;
  }>;
  createInput: CreateInputOf<AllColumns<C, O>, FillableOf<C, O> & keyof AllColumns<C, O>>;
};

/** What every model instance has, structurally (for relation detection). */
export interface ModelLike {
  readonly $isPersisted: boolean;
  readonly $attributes: object;
  readonly $shape: ModelShape;
}

/** The shape of a model instance type. */
export type ShapeOfInstance<I> = I extends { readonly $shape: infer S extends ModelShape }
  ? S
  : never;

/** Column names of a model instance type. */
export type ColumnName<I> = keyof ShapeOfInstance<I>['attributes'] & string;

/** The attribute type of column `K`. */
export type AttributeOf<I, K extends ColumnName<I>> = ShapeOfInstance<I>['attributes'][K &
  keyof ShapeOfInstance<I>['attributes']];

/** Columns that `increment`/`decrement` accept: their input takes a number. */
export type NumericColumn<I> = {
  [K in ColumnName<I>]: number extends InputOf<
    ShapeOfInstance<I>['columns'][K & keyof ShapeOfInstance<I>['columns']]
  >
    ? K
    : never;
}[ColumnName<I>];

/** Getters of a model instance that hold a relation: a model, or an array of models. */
export type RelationName<I> = {
  [K in keyof I]-?: K extends `$${string}`
    ? never
    : NonNullable<I[K]> extends ModelLike | readonly ModelLike[]
      ? K
      : never;
}[keyof I] &
  string;

/** The model a relation holds (the element of a to-many relation). */
export type RelatedOf<I, K extends keyof I> =
  NonNullable<I[K]> extends readonly (infer T)[] ? T : NonNullable<I[K]>;

type Depth = [never, 0, 1, 2, 3];

/** A relation name or a dotted path through nested relations (`'lines.product'`), 4 deep. */
export type RelationPath<I, D extends number = 4> = [D] extends [never]
  ? never
  : {
      [K in RelationName<I>]: K | `${K}.${RelationPath<RelatedOf<I, K>, Depth[D]>}`;
    }[RelationName<I>];

/** The model at the end of a relation path. */
export type PathTarget<I, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends RelationName<I>
    ? PathTarget<RelatedOf<I, H>, R>
    : never
  : P extends RelationName<I>
    ? RelatedOf<I, P>
    : never;

/** `T` when it is a model instance type, else never (for query type parameters). */
export type AsModel<T> = T extends ModelLike ? T : never;

/** `{ field: { before, after } }` for the fields a write changed (before is null on create). */
export type ModelChanges<I = ModelLike> = {
  [K in ColumnName<I>]?: { before: AttributeOf<I, K> | null; after: AttributeOf<I, K> };
};

/** What `toJSON()` returns: attributes (dates as ISO strings) and loaded relations. */
export type SerializedModel = Record<string, unknown>;

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;
