// biome-ignore-all lint/complexity/noThisInStatic: statics are polymorphic on purpose: `Product.find()` must hydrate `Product`, not the base class.
import type { CompiledQuery } from 'kysely';
import type { Connection } from '../connection.js';
import { E_MODEL_NOT_FOUND } from '../errors.js';
import { describeValue } from './column-codec.js';
import type { ModelEventListener, ModelEventType } from './model-events.js';
import { columnOf, connectionOf, rowReader } from './model-meta.js';
import { saveModel } from './model-persistence.js';
import { ModelQuery } from './model-query.js';
import { hydrate, type ModelClassRecord, type ModelRecord, metaOf } from './model-runtime.js';
import type { ColumnName, ModelLike, RelationPath, ShapeOfInstance } from './model-types.js';
import { addEagerPath, eagerNode, loadTree } from './relations.js';

/** Any model class, for `this`-typed statics. */
export type ModelStatic<I extends ModelLike = ModelLike> = abstract new (...args: never[]) => I;

/** The key `find()` takes for model class `M`. */
export type KeyOf<M extends ModelStatic> = ShapeOfInstance<InstanceType<M>>['key'];

/** What `create()` takes for model class `M`. */
export type CreateInputOf<M extends ModelStatic> = ShapeOfInstance<InstanceType<M>>['createInput'];

function keyLabel(key: unknown): string {
  return typeof key === 'string' || typeof key === 'number' || typeof key === 'bigint'
    ? String(key)
    : describeValue(key);
}

type Definition = ReturnType<typeof metaOf>['definition'];

// `find` is the hottest model query: its SQL is built and compiled once per model and
// connection (object: two apps may both name theirs `default`), then run with the key as its only parameter (Kysely would rebuild and
// recompile the same statement on every call).
const findStatements = new WeakMap<Definition, WeakMap<Connection, CompiledQuery>>();

function findStatement(definition: Definition, connection: Connection): CompiledQuery {
  let byConnection = findStatements.get(definition);
  if (!byConnection) {
    byConnection = new WeakMap();
    findStatements.set(definition, byConnection);
  }
  let compiled = byConnection.get(connection);
  if (!compiled) {
    let qb = connection.kysely
      .selectFrom(definition.table)
      .selectAll()
      .where(definition.primaryKey, '=', null as never);
    if (definition.deletedAt) qb = qb.where(definition.deletedAt, 'is', null);
    // The key is the statement's only bound value (the soft-delete test binds none).
    compiled = qb.compile();
    byConnection.set(connection, compiled);
  }
  return compiled;
}

function record(model: object): ModelRecord {
  return model as unknown as ModelRecord;
}

/**
 * The static face of every model: finders, `create`, `query()`, listeners. Each is typed by
 * `this`, so `Product.find()` returns a `Product` (the class it is called on).
 */
// biome-ignore lint/complexity/noStaticOnlyClass: the static half of BaseModel, which extends it.
export class ModelStatics {
  /** The table name. */
  static get table(): string {
    return metaOf(this as unknown as ModelClassRecord).definition.table;
  }

  /** The primary key column. */
  static get primaryKey(): string {
    return metaOf(this as unknown as ModelClassRecord).definition.primaryKey;
  }

  /** The name in errors and events. */
  static get modelName(): string {
    return metaOf(this as unknown as ModelClassRecord).name;
  }

  /** The connection the model's queries run on (inside the ambient transaction, if any). */
  static connection(): Connection {
    return connectionOf(metaOf(this as unknown as ModelClassRecord).definition);
  }

  /**
   * A typed query returning model instances.
   *
   * @example
   * ```ts
   * const recent = await Order.query().where('status', 'paid').orderBy('id', 'desc').limit(10).all();
   * ```
   */
  static query<M extends ModelStatic>(this: M): ModelQuery<InstanceType<M>> {
    return new ModelQuery(this as unknown as ModelClassRecord);
  }

  /**
   * The model with this primary key, or null (soft-deleted rows excluded). A key of the
   * wrong type (`'abc'` for an integer key) matches nothing.
   *
   * @example
   * ```ts
   * const product = await Product.find(1);
   * ```
   */
  static async find<M extends ModelStatic>(
    this: M,
    key: KeyOf<M>,
  ): Promise<InstanceType<M> | null> {
    const cls = this as unknown as ModelClassRecord;
    const definition = metaOf(cls).definition;
    const pk = definition.primaryKey;
    const codec = definition.columns.get(pk)!;
    let value: unknown;
    try {
      value = codec.input(key);
    } catch {
      return null;
    }
    const connection = connectionOf(definition);
    const dialect = connection.dialect;
    const db = connection.db;
    const compiled = findStatement(definition, connection);
    const { rows } = await db.executeQuery<Record<string, unknown>>({
      ...compiled,
      parameters: [codec.write(value, dialect)],
    });
    const row = rows[0];
    return row ? hydrate(cls, definition, rowReader(definition, dialect), row) : null;
  }

  /** Like `find`, or E_MODEL_NOT_FOUND (404) naming the model and the key. */
  static async findOrFail<M extends ModelStatic>(this: M, key: KeyOf<M>): Promise<InstanceType<M>> {
    const model = await (this as unknown as typeof ModelStatics).find.call(this, key as never);
    if (!model)
      throw new E_MODEL_NOT_FOUND(metaOf(this as unknown as ModelClassRecord).name, keyLabel(key));
    return model as InstanceType<M>;
  }

  /** The models with these keys (keys of the wrong type are skipped). */
  static async findMany<M extends ModelStatic>(
    this: M,
    keys: readonly KeyOf<M>[],
  ): Promise<InstanceType<M>[]> {
    const definition = metaOf(this as unknown as ModelClassRecord).definition;
    const codec = definition.columns.get(definition.primaryKey)!;
    const valid = keys.filter((key) => {
      try {
        return codec.input(key) !== null;
      } catch {
        return false;
      }
    });
    if (valid.length === 0) return [];
    return new ModelQuery<InstanceType<M>>(this as unknown as ModelClassRecord)
      .where(definition.primaryKey as never, 'in', valid as never)
      .all();
  }

  /** The first model whose `column` equals `value`, or null. */
  static findBy<M extends ModelStatic, K extends ColumnName<InstanceType<M>>>(
    this: M,
    column: K,
    value: ShapeOfInstance<InstanceType<M>>['attributes'][K],
  ): Promise<InstanceType<M> | null> {
    return new ModelQuery<InstanceType<M>>(this as unknown as ModelClassRecord)
      .where(column, value as never)
      .first();
  }

  /** Like `findBy`, or E_MODEL_NOT_FOUND (404). */
  static async findByOrFail<M extends ModelStatic, K extends ColumnName<InstanceType<M>>>(
    this: M,
    column: K,
    value: ShapeOfInstance<InstanceType<M>>['attributes'][K],
  ): Promise<InstanceType<M>> {
    const model = await new ModelQuery<InstanceType<M>>(this as unknown as ModelClassRecord)
      .where(column, value as never)
      .first();
    if (!model)
      throw new E_MODEL_NOT_FOUND(
        metaOf(this as unknown as ModelClassRecord).name,
        `${column}=${keyLabel(value)}`,
      );
    return model;
  }

  /** Every model (soft-deleted ones excluded). */
  static all<M extends ModelStatic>(this: M): Promise<InstanceType<M>[]> {
    return new ModelQuery<InstanceType<M>>(this as unknown as ModelClassRecord).all();
  }

  /** The first model by primary key, or null. */
  static first<M extends ModelStatic>(this: M): Promise<InstanceType<M> | null> {
    const cls = this as unknown as ModelClassRecord;
    return new ModelQuery<InstanceType<M>>(cls).orderBy(metaOf(cls).definition.primaryKey).first();
  }

  /**
   * Insert a model from input (mass assignment: only fillable fields; any other field is
   * E_MASS_ASSIGNMENT, 422) and return it as stored, defaults included.
   *
   * @example
   * ```ts
   * const product = await Product.create({ sku: 'A-1', price: '19.90' });
   * ```
   */
  static async create<M extends ModelStatic>(
    this: M,
    input: CreateInputOf<M>,
  ): Promise<InstanceType<M>> {
    const model = new (this as unknown as new (input: unknown) => InstanceType<M>)(input);
    await saveModel(record(model));
    return model;
  }

  /** Create several models in one transaction. */
  static createMany<M extends ModelStatic>(
    this: M,
    inputs: readonly CreateInputOf<M>[],
  ): Promise<InstanceType<M>[]> {
    const cls = this as unknown as typeof ModelStatics;
    return cls.connection().transaction(async () => {
      const models: InstanceType<M>[] = [];
      for (const input of inputs)
        models.push((await cls.create.call(this, input as never)) as InstanceType<M>);
      return models;
    });
  }

  /**
   * A model instance from a row read elsewhere (a raw Kysely query), cast like any other.
   *
   * @example
   * ```ts
   * const rows = await db().selectFrom('products').selectAll().where(...).execute();
   * const products = rows.map((row) => Product.hydrate(row));
   * ```
   */
  static hydrate<M extends ModelStatic>(this: M, row: Record<string, unknown>): InstanceType<M> {
    const cls = this as unknown as ModelClassRecord;
    const definition = metaOf(cls).definition;
    return hydrate(cls, definition, rowReader(definition, connectionOf(definition).dialect), row);
  }

  /** Check a column name from input against the model: the name, or E_DB_IDENTIFIER_REFUSED. */
  static column<M extends ModelStatic>(this: M, name: unknown): ColumnName<InstanceType<M>> {
    return columnOf(metaOf(this as unknown as ModelClassRecord).definition, name)
      .name as ColumnName<InstanceType<M>>;
  }

  /**
   * Listen to one event of this model; returns the unsubscribe function. A listener of a
   * `-ing` event cancels the write by throwing.
   *
   * @example
   * ```ts
   * Product.on('updated', ({ model, changes }) => {
   *   if (changes.price) log.info({ sku: model.sku, price: changes.price }, 'price changed');
   * });
   * ```
   */
  static on<M extends ModelStatic>(
    this: M,
    type: ModelEventType,
    listener: ModelEventListener<InstanceType<M>>,
  ): () => void {
    return metaOf(this as unknown as ModelClassRecord).events.on(
      type,
      listener as ModelEventListener,
    );
  }

  /** Load relations for many models at once: one query per relation. */
  static async load<M extends ModelStatic>(
    this: M,
    models: readonly InstanceType<M>[],
    ...paths: RelationPath<InstanceType<M>>[]
  ): Promise<void> {
    const meta = metaOf(this as unknown as ModelClassRecord);
    const node = eagerNode();
    for (const path of paths) addEagerPath(node, meta, path);
    await loadTree(meta, models.map(record), node, false);
  }
}
