import { E_MODEL_DEFINITION_INVALID, E_MODEL_RELATION_NOT_LOADED } from '../errors.js';
import { ModelEvents } from './model-events.js';
import { type CompiledDefinition, DEFINITION, type RowReader, snapshotOf } from './model-meta.js';
import { registerModelTable } from './query-scope.js';
import { probeRelation, type Relation, type RelationDeclaration } from './relations.js';

/** Passed to a model constructor by hydration: skip fill and boot checks. */
export const HYDRATE: unique symbol = Symbol('keel.model.hydrate');

/** The internal view of a model instance (the public fields, loosely typed). */
export interface ModelRecord {
  $attributes: Record<string, unknown>;
  $original: Record<string, unknown>;
  $isPersisted: boolean;
  $isDeleted: boolean;
  $preloaded: Record<string, unknown> | undefined;
  $pivot: Record<string, unknown> | undefined;
  toJSON(): Record<string, unknown>;
}

/** A model class as the runtime sees it. */
export type ModelClassRecord = (abstract new (
  input?: never,
) => ModelRecord) & {
  readonly name: string;
};

/** Per class: what booting found (its name, relations) and its listeners. */
export interface ModelMeta {
  readonly cls: ModelClassRecord;
  readonly definition: CompiledDefinition;
  readonly name: string;
  readonly relations: ReadonlyMap<string, Relation>;
  readonly events: ModelEvents;
}

const META = Symbol('keel.model.meta');

/**
 * Relation getters already replaced by a boot, with their declaration: a subclass and its
 * parent class share the prototype that holds them, and the second boot must see them too.
 */
const replaced = new WeakMap<() => unknown, RelationDeclaration>();

type WithMeta = { [META]?: ModelMeta; [DEFINITION]?: CompiledDefinition };

/** The meta of a model class, booting it on first use. */
export function metaOf(cls: ModelClassRecord): ModelMeta {
  return Object.hasOwn(cls, META) ? (cls as unknown as WithMeta)[META]! : boot(cls);
}

/** The class `defineModel` made, under any subclasses. */
function generatedClass(cls: ModelClassRecord): ModelClassRecord | undefined {
  for (let c: unknown = cls; typeof c === 'function'; c = Object.getPrototypeOf(c))
    if (Object.hasOwn(c, DEFINITION)) return c as ModelClassRecord;
  return undefined;
}

/**
 * Boot a model class once: name it, find its relation getters (each is called once on a
 * probe instance, where `this.hasMany(...)` returns the declaration instead of the loaded
 * models) and replace them with accessors for the loaded value.
 */
function boot(cls: ModelClassRecord): ModelMeta {
  const generated = generatedClass(cls);
  const definition = (cls as unknown as WithMeta)[DEFINITION];
  if (!generated || !definition)
    throw new E_MODEL_DEFINITION_INVALID(
      cls.name || 'Model',
      'the class is not made by defineModel()',
    );
  const owner = definition.owner;
  // A class extending the generated one names the model (class Order extends defineModel(...)).
  if (!owner.explicit && cls !== generated && Object.getPrototypeOf(cls) === generated && cls.name)
    owner.name = cls.name;
  const name = owner.explicit || cls === generated || !cls.name ? owner.name : cls.name;

  const relations = new Map<string, Relation>();
  const probe = Object.create(cls.prototype) as ModelRecord;
  probe.$attributes = {};
  probe.$original = {};
  for (
    let proto: object | null = cls.prototype;
    proto && proto !== generated.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
      if (!descriptor.get || relations.has(key)) continue;
      if (definition.columns.has(key))
        throw new E_MODEL_DEFINITION_INVALID(
          name,
          `getter "${key}" hides the column of the same name; use another name`,
        );
      const known = replaced.get(descriptor.get);
      const declaration = known ?? probeRelation(descriptor.get, probe);
      if (!declaration) continue;
      relations.set(key, declaration.bind(key, cls, name));
      if (known) continue;
      const get = function (this: ModelRecord): unknown {
        const loaded = this.$preloaded;
        if (loaded === undefined || !(key in loaded))
          throw new E_MODEL_RELATION_NOT_LOADED(name, key);
        return loaded[key];
      };
      replaced.set(get, declaration);
      Object.defineProperty(proto, key, {
        configurable: true,
        enumerable: false,
        get,
        set(this: ModelRecord, value: unknown) {
          setRelated(this, key, value);
        },
      });
    }
  }

  // Class fields (`name = ''` instead of `declare name: string`) would shadow the column
  // accessors with own properties on every instance.
  const sample = new (cls as unknown as new (input: symbol) => object)(HYDRATE);
  const shadowing = Object.getOwnPropertyNames(sample).filter(
    (key) => definition.columns.has(key) || relations.has(key),
  );
  if (shadowing.length > 0)
    throw new E_MODEL_DEFINITION_INVALID(
      name,
      `class field ${shadowing.map((k) => `"${k}"`).join(', ')} shadows a column or relation; write \`declare ${shadowing[0]}: ...\` instead`,
    );

  const meta: ModelMeta = { cls, definition, name, relations, events: new ModelEvents() };
  Object.defineProperty(cls, META, { value: meta, enumerable: false });
  registerModelTable(definition.table, name);
  return meta;
}

/** Store a loaded relation on a model. */
export function setRelated(model: ModelRecord, name: string, value: unknown): void {
  if (model.$preloaded === undefined) model.$preloaded = {};
  model.$preloaded[name] = value;
}

/** A model instance from a database row: cast attributes, snapshot, persisted. */
export function hydrate<T>(
  cls: ModelClassRecord,
  definition: CompiledDefinition,
  read: RowReader,
  row: Record<string, unknown>,
): T {
  const model = new (cls as unknown as new (input: symbol) => ModelRecord)(HYDRATE);
  const attributes = read(row);
  model.$attributes = attributes;
  model.$original = snapshotOf(definition, attributes);
  model.$isPersisted = true;
  return model as T;
}
