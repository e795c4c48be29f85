import { BaseModel } from './base-model.js';
import type { AnyColumn, ColumnMap } from './column.js';
import { compileDefinition, DEFINITION } from './model-meta.js';
import type { ModelRecord } from './model-runtime.js';
import type { ModelOptions, ModelShape, ShapeOf } from './model-types.js';

/** An instance of a model with shape `S`: its attributes and the active-record methods. */
export type ModelInstance<S extends ModelShape> = BaseModel<S> & S['attributes'];

/** The class `defineModel` returns: constructible, extendable, with the static API. */
export interface ModelClass<S extends ModelShape> extends Omit<typeof BaseModel, 'prototype'> {
  new (input?: S['fillInput']): ModelInstance<S>;
  readonly prototype: ModelInstance<S>;
}

/** Names a column may not take: the model's own methods and properties. */
const RESERVED: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(BaseModel.prototype),
  'constructor',
  'pivot',
]);

/**
 * Define a model over a table: typed columns, primary key, connection, mass-assignment
 * rules, hidden fields, timestamps and soft deletes. Extend the result to add relations
 * (getters calling `this.belongsTo(...)` and friends) and your own methods.
 *
 * @example
 * ```ts
 * export class Product extends defineModel({
 *   table: 'products',
 *   columns: {
 *     id: column.id(),
 *     sku: column.string(),
 *     price: column.decimal({ scale: 2 }),
 *     active: column.boolean(),
 *     category_id: column.integer().nullable(),
 *   },
 *   fillable: ['sku', 'price', 'active', 'category_id'],
 * }) {
 *   get category() {
 *     return this.belongsTo(() => Category, 'category_id');
 *   }
 * }
 *
 * const product = await Product.findOrFail(1); // product.price: string
 * ```
 */
export function defineModel<
  const C extends ColumnMap,
  const O extends ModelOptions<keyof C & string>,
>(definition: O & { columns: C }): ModelClass<ShapeOf<C, O>> {
  const compiled = compileDefinition(
    definition as unknown as ModelOptions & { columns: Record<string, AnyColumn> },
    RESERVED,
  );
  // A named class, so stack traces and `constructor.name` say `Product`.
  const generated = {
    [compiled.owner.name]: class extends BaseModel {},
  }[compiled.owner.name]!;
  for (const codec of compiled.codecs) {
    const name = codec.name;
    // One accessor per column on the prototype: instances carry only their attribute
    // object, and a setter checks the value against its column.
    Object.defineProperty(generated.prototype, name, {
      configurable: true,
      enumerable: false,
      get(this: ModelRecord) {
        return this.$attributes[name];
      },
      set(this: ModelRecord, value: unknown) {
        this.$attributes[name] = codec.input(value);
      },
    });
  }
  Object.defineProperty(generated, DEFINITION, { value: compiled, enumerable: false });
  return generated as unknown as ModelClass<ShapeOf<C, O>>;
}
