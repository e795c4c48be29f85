import {
  E_DB_IDENTIFIER_REFUSED,
  E_MASS_ASSIGNMENT,
  E_MODEL_DEFINITION_INVALID,
  E_MODEL_INVALID_VALUE,
} from '../errors.js';
import { describeValue } from './column-codec.js';
import type { ChangesOf } from './model-events.js';
import {
  changesOf,
  deleteModel,
  dirtyColumns,
  incrementModel,
  modelMeta,
  refreshModel,
  restoreModel,
  saveModel,
} from './model-persistence.js';
import { attachPivot, detachPivot, syncPivot } from './model-pivot.js';
import type { ModelQuery } from './model-query.js';
import { HYDRATE, type ModelClassRecord, type ModelRecord, metaOf } from './model-runtime.js';
import { type ModelStatic, ModelStatics } from './model-statics.js';
import type {
  AsModel,
  ColumnName,
  ModelShape,
  NumericColumn,
  RelatedOf,
  RelationName,
  RelationPath,
  SerializedModel,
  ShapeOfInstance,
} from './model-types.js';
import {
  addEagerPath,
  type BelongsToOptions,
  declareRelation,
  eagerNode,
  type HasOptions,
  loadTree,
  type ManyToManyOptions,
} from './relations.js';

/** The key of the model a relation holds. */
type RelatedKey<I, K extends RelationName<I>> = ShapeOfInstance<RelatedOf<I, K>>['key'];

function record(model: object): ModelRecord {
  return model as unknown as ModelRecord;
}

/** A loaded relation's value as JSON: models through their `toJSON()`. */
function serialize(value: unknown): unknown {
  return value !== null && typeof (value as ModelRecord | undefined)?.toJSON === 'function'
    ? (value as ModelRecord).toJSON()
    : value;
}

/**
 * The base of every model class (`defineModel` returns a subclass with one accessor per
 * column). Instances are active records; statics find, create and query.
 */
export class BaseModel<S extends ModelShape = ModelShape> extends ModelStatics {
  /** Type-level only: the model's shape, never set at run time. */
  declare readonly $shape: S;
  /** The current attribute values. */
  declare $attributes: S['attributes'];
  /** The values as last read from or written to the database. */
  declare $original: S['attributes'];
  /** True once the row exists (read, or inserted by `save()`). */
  declare $isPersisted: boolean;
  /** True after a hard delete. */
  declare $isDeleted: boolean;
  /** Loaded relations by name. */
  declare $preloaded: Record<string, unknown> | undefined;
  /** Pivot columns, on models loaded through a many-to-many relation. */
  declare $pivot: Record<string, unknown> | undefined;

  constructor(input?: S['fillInput']) {
    super();
    const hydrating = (input as unknown) === HYDRATE;
    // Hydration replaces these at once; a new model starts empty.
    this.$attributes = (hydrating ? undefined : {}) as S['attributes'];
    this.$original = (hydrating ? undefined : {}) as S['attributes'];
    this.$isPersisted = false;
    this.$isDeleted = false;
    this.$preloaded = undefined;
    this.$pivot = undefined;
    if (hydrating) return;
    metaOf(new.target as unknown as ModelClassRecord);
    if (input !== undefined) this.fill(input);
  }

  // ---- instance ------------------------------------------------------------------------

  /**
   * Assign fields from input: only fillable ones (others are E_MASS_ASSIGNMENT, naming
   * them, and nothing is assigned); each value is checked against its column.
   */
  fill(input: S['fillInput']): this {
    const meta = modelMeta(record(this));
    const definition = meta.definition;
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      throw new E_MODEL_INVALID_VALUE(
        meta.name,
        '(input)',
        'an object of fields',
        describeValue(input),
      );
    const source = input as Record<string, unknown>;
    const keys = Object.keys(source);
    const fillable = definition.fillable;
    let refused: string[] | undefined;
    for (const key of keys) {
      if (fillable.has(key)) continue;
      refused ??= [];
      refused.push(key);
    }
    if (refused) throw new E_MASS_ASSIGNMENT(meta.name, refused, [...fillable]);
    // Check every value before assigning any: a bad one leaves the model unchanged.
    const values = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const value = source[keys[i]!];
      values[i] = value === undefined ? undefined : definition.columns.get(keys[i]!)!.input(value);
    }
    const attributes = record(this).$attributes;
    for (let i = 0; i < keys.length; i++)
      if (values[i] !== undefined) attributes[keys[i]!] = values[i];
    return this;
  }

  /** Insert (new) or update the dirty columns (persisted). Listeners run in its transaction. */
  async save(): Promise<this> {
    await saveModel(record(this));
    return this;
  }

  /** Delete the row: sets `deleted_at` when the model uses soft deletes. */
  async delete(): Promise<void> {
    await deleteModel(record(this), false);
  }

  /** Delete the row for good, soft deletes or not. */
  async forceDelete(): Promise<void> {
    await deleteModel(record(this), true);
  }

  /** Undo a soft delete. */
  async restore(): Promise<this> {
    const meta = modelMeta(record(this));
    if (!meta.definition.deletedAt)
      throw new E_MODEL_DEFINITION_INVALID(meta.name, 'it does not use soft deletes');
    await restoreModel(record(this));
    return this;
  }

  /** True when soft-deleted. */
  isTrashed(): boolean {
    const column = modelMeta(record(this)).definition.deletedAt;
    return column !== undefined && record(this).$attributes[column] != null;
  }

  /** Re-read the row and the relations that were loaded. */
  async refresh(): Promise<this> {
    await refreshModel(record(this));
    return this;
  }

  /** `column = column + by` in one atomic UPDATE; the model gets the stored value. */
  async increment(column: NumericColumn<this>, by = 1): Promise<this> {
    await incrementModel(record(this), column, by);
    return this;
  }

  async decrement(column: NumericColumn<this>, by = 1): Promise<this> {
    await incrementModel(record(this), column, -by);
    return this;
  }

  /** True when `column` (or any column) differs from what the database holds. */
  isDirty(column?: ColumnName<this>): boolean {
    const dirty = dirtyColumns(modelMeta(record(this)), record(this));
    return column === undefined ? dirty.length > 0 : dirty.includes(column);
  }

  /** The unsaved values: `{ column: newValue }`. */
  getDirty(): Partial<S['attributes']> {
    const out: Record<string, unknown> = {};
    const attributes = record(this).$attributes;
    for (const name of dirtyColumns(modelMeta(record(this)), record(this)))
      out[name] = attributes[name];
    return out as Partial<S['attributes']>;
  }

  /** What the last save (or increment) changed: `{ column: { before, after } }`. */
  getChanges(): ChangesOf<this> {
    return { ...changesOf(record(this)) } as ChangesOf<this>;
  }

  /** True when the last save changed `column` (or anything). */
  wasChanged(column?: ColumnName<this>): boolean {
    const changes = changesOf(record(this));
    return column === undefined ? Object.keys(changes).length > 0 : column in changes;
  }

  /** Visible attributes (dates as ISO strings, `hidden` left out) and loaded relations. */
  toJSON(): SerializedModel {
    const meta = modelMeta(record(this));
    const attributes = record(this).$attributes;
    const out: SerializedModel = {};
    for (const codec of meta.definition.visible) {
      const value = attributes[codec.name];
      if (value !== undefined) out[codec.name] = codec.serialize(value);
    }
    const pivot = this.$pivot;
    if (pivot) out.pivot = { ...pivot };
    const loaded = this.$preloaded;
    if (loaded)
      for (const [name, value] of Object.entries(loaded))
        out[name] = Array.isArray(value) ? value.map(serialize) : serialize(value);
    return out;
  }

  /**
   * Load relations for this model (tagged for N+1 detection: in a loop, prefer
   * `Model.query().with(...)` or `Model.load(models, ...)`).
   */
  async load(...paths: RelationPath<this>[]): Promise<this> {
    const meta = modelMeta(record(this));
    const node = eagerNode();
    for (const path of paths) addEagerPath(node, meta, path);
    await loadTree(meta, [record(this)], node, true);
    return this;
  }

  /** A relation's value, loading it first if needed. */
  async related<K extends RelationName<this>>(name: K): Promise<this[K]> {
    if (!this.isLoaded(name)) await this.load(name as never);
    return this.$preloaded![name] as this[K];
  }

  /** True when the relation is loaded. */
  isLoaded(name: RelationName<this>): boolean {
    return this.$preloaded !== undefined && name in this.$preloaded;
  }

  /**
   * A query over a relation of this model, to filter or page it.
   *
   * @example
   * ```ts
   * const big = await order.relatedQuery('lines').where('qty', '>', 10).all();
   * ```
   */
  relatedQuery<K extends RelationName<this>>(name: K): ModelQuery<AsModel<RelatedOf<this, K>>> {
    const meta = modelMeta(record(this));
    const relation = meta.relations.get(name);
    if (!relation)
      throw new E_DB_IDENTIFIER_REFUSED(`relation of ${meta.name}`, String(name), [
        ...meta.relations.keys(),
      ]);
    return relation.queryFor(record(this)) as unknown as ModelQuery<AsModel<RelatedOf<this, K>>>;
  }

  /** Add pivot rows linking this model to the given related keys (many-to-many). */
  attach<K extends RelationName<this>>(
    name: K,
    keys: RelatedKey<this, K> | readonly RelatedKey<this, K>[],
    pivot: Record<string, unknown> = {},
  ): Promise<void> {
    return attachPivot(record(this), name, keys, pivot);
  }

  /** Remove pivot rows (all of this model's, or those of the given keys); returns how many. */
  detach<K extends RelationName<this>>(
    name: K,
    keys?: RelatedKey<this, K> | readonly RelatedKey<this, K>[],
  ): Promise<number> {
    return detachPivot(record(this), name, keys);
  }

  /** Make the pivot rows exactly the given keys. */
  sync<K extends RelationName<this>>(
    name: K,
    keys: readonly RelatedKey<this, K>[],
  ): Promise<{ attached: unknown[]; detached: unknown[] }> {
    return syncPivot(record(this), name, keys);
  }

  // ---- relation declarations (called from relation getters) ------------------------------

  /**
   * This model holds the foreign key (`orders.customer_id` → `customers.id`).
   *
   * @example
   * ```ts
   * class Order extends defineModel({ ... }) {
   *   get customer() { return this.belongsTo(() => Customer, { foreignKey: 'customer_id' }); }
   * }
   * ```
   */
  protected belongsTo<M extends ModelStatic>(
    target: () => M,
    options: string | BelongsToOptions = {},
  ): InstanceType<M> | null {
    return declareRelation(
      'belongsTo',
      target,
      typeof options === 'string' ? { foreignKey: options } : options,
    ) as never;
  }

  /** The target holds a foreign key to this model; at most one row. */
  protected hasOne<M extends ModelStatic>(
    target: () => M,
    options: string | HasOptions = {},
  ): InstanceType<M> | null {
    return declareRelation(
      'hasOne',
      target,
      typeof options === 'string' ? { foreignKey: options } : options,
    ) as never;
  }

  /** The target holds a foreign key to this model (`order_lines.order_id` → `orders.id`). */
  protected hasMany<M extends ModelStatic>(
    target: () => M,
    options: string | HasOptions = {},
  ): InstanceType<M>[] {
    return declareRelation(
      'hasMany',
      target,
      typeof options === 'string' ? { foreignKey: options } : options,
    ) as never;
  }

  /** Linked through a pivot table (`product_tag(product_id, tag_id)`). */
  protected manyToMany<M extends ModelStatic>(
    target: () => M,
    options: string | ManyToManyOptions = {},
  ): InstanceType<M>[] {
    return declareRelation(
      'manyToMany',
      target,
      typeof options === 'string' ? { pivotTable: options } : options,
    ) as never;
  }
}
