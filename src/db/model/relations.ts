import type { KeelError } from '../../support/index.js';
import type { DialectName } from '../config.js';
import { E_DB_IDENTIFIER_REFUSED, E_MODEL_DEFINITION_INVALID } from '../errors.js';
import type { ColumnCodec } from './column-codec.js';
import { connectionOf, DEFINITION, singular } from './model-meta.js';
import { ModelQuery, QUERY_INTERNALS } from './model-query.js';
import {
  type ModelClassRecord,
  type ModelMeta,
  type ModelRecord,
  metaOf,
  setRelated,
} from './model-runtime.js';
import type { QueryTag } from './query-scope.js';

export type RelationKind = 'belongsTo' | 'hasOne' | 'hasMany' | 'manyToMany';

export interface BelongsToOptions {
  /** The column on this model; default `<relation>_<target key>` (`customer_id`). */
  foreignKey?: string;
  /** The column on the target it references; default the target's primary key. */
  ownerKey?: string;
}

export interface HasOptions {
  /** The column on the target; default `<this model, snake_case>_<primary key>` (`order_id`). */
  foreignKey?: string;
  /** The column on this model it references; default this model's primary key. */
  localKey?: string;
}

export interface ManyToManyOptions {
  /** Default: both models' snake_case names, sorted, joined by `_` (`product_tag`). */
  pivotTable?: string;
  /** The pivot column pointing at this model; default `<this model>_<its key>`. */
  foreignPivotKey?: string;
  /** The pivot column pointing at the target; default `<target model>_<its key>`. */
  relatedPivotKey?: string;
  /** This model's column the pivot references; default its primary key. */
  parentKey?: string;
  /** The target's column the pivot references; default its primary key. */
  relatedKey?: string;
  /** Pivot columns loaded into each related model's `$pivot`. */
  pivotColumns?: readonly string[];
}

type RelationOptions = BelongsToOptions | HasOptions | ManyToManyOptions;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Keys per IN list: well under every engine's bound-parameter limit. */
export const IN_CHUNK = 1000;

let probing = false;

/** What a relation getter returns while its model boots. */
export class RelationDeclaration {
  readonly kind: RelationKind;
  readonly target: () => unknown;
  readonly options: RelationOptions;

  constructor(kind: RelationKind, target: () => unknown, options: RelationOptions) {
    this.kind = kind;
    this.target = target;
    this.options = options;
  }

  bind(name: string, owner: ModelClassRecord, ownerName: string): Relation {
    return new Relation(name, this, owner, ownerName);
  }
}

/** Called by `this.hasMany(...)` and friends inside a relation getter. */
export function declareRelation(
  kind: RelationKind,
  target: () => unknown,
  options: RelationOptions,
): RelationDeclaration {
  if (!probing || typeof target !== 'function')
    throw new E_MODEL_DEFINITION_INVALID(
      'Model',
      `${kind}() declares a relation: call it only as \`get name() { return this.${kind}(() => Target, ...) }\``,
    );
  return new RelationDeclaration(kind, target, options);
}

/** Run a getter on the probe instance; a relation getter returns its declaration. */
export function probeRelation(
  getter: () => unknown,
  probe: object,
): RelationDeclaration | undefined {
  probing = true;
  try {
    const value = getter.call(probe);
    return value instanceof RelationDeclaration ? value : undefined;
  } catch {
    return undefined;
  } finally {
    probing = false;
  }
}

function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

/** Map key for matching parents and related rows (a pg int8 string meets a number). */
function keyOf(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function distinct(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const value of values) {
    if (value === null || value === undefined) continue;
    const key = keyOf(value);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(value);
  }
  return out;
}

/** A bound value for a pivot column (no codec: booleans and dates as the engine needs). */
export function bindLoose(value: unknown, dialect: DialectName): unknown {
  if (typeof value === 'boolean') return dialect === 'postgres' ? value : value ? 1 : 0;
  if (value instanceof Date) return dialect === 'sqlite' ? value.toISOString() : value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** Relations to load below a model: `with('lines.product', 'customer')` as a tree. */
export interface EagerNode {
  readonly children: Map<string, EagerNode>;
  constrain: ((query: ModelQuery) => unknown) | undefined;
}

export function eagerNode(): EagerNode {
  return { children: new Map(), constrain: undefined };
}

/** Add a dotted path to the tree, refusing unknown relation names (they may come from input). */
export function addEagerPath(
  root: EagerNode,
  meta: ModelMeta,
  path: unknown,
  constrain?: (query: ModelQuery) => unknown,
): void {
  if (typeof path !== 'string' || path === '')
    throw new E_DB_IDENTIFIER_REFUSED(`relation of ${meta.name}`, String(path), [
      ...meta.relations.keys(),
    ]);
  let node = root;
  let current = meta;
  for (const part of path.split('.')) {
    const relation = current.relations.get(part);
    if (!relation)
      throw new E_DB_IDENTIFIER_REFUSED(`relation of ${current.name}`, part, [
        ...current.relations.keys(),
      ]);
    let child = node.children.get(part);
    if (!child) {
      child = eagerNode();
      node.children.set(part, child);
    }
    node = child;
    current = relation.targetMeta();
  }
  if (constrain) node.constrain = constrain;
}

/** Load a tree of relations for models of one class: one query per relation (per chunk). */
export async function loadTree(
  meta: ModelMeta,
  models: ModelRecord[],
  node: EagerNode,
  lazy: boolean,
): Promise<void> {
  if (models.length === 0) return;
  for (const [name, child] of node.children) {
    const relation = meta.relations.get(name)!;
    await relation.load(models, child, lazy);
  }
}

interface ResolvedKeys {
  /** The parent's column whose values select the related rows. */
  parentKey: ColumnCodec;
  /** The column those values are compared with (`table.column`), and its codec. */
  matchRef: string;
  matchCodec: ColumnCodec | undefined;
  /** For belongsTo/hasMany: the related model's column matched against parent keys. */
  relatedColumn: string | undefined;
  pivot:
    | {
        table: string;
        foreignPivotKey: string;
        relatedPivotKey: string;
        relatedKey: string;
        columns: readonly string[];
      }
    | undefined;
}

/** One relation of one model class, with its keys resolved on first use. */
export class Relation {
  readonly name: string;
  readonly kind: RelationKind;
  readonly ownerName: string;
  readonly #declaration: RelationDeclaration;
  readonly #owner: ModelClassRecord;
  #keys: ResolvedKeys | undefined;
  #target: ModelMeta | undefined;

  constructor(
    name: string,
    declaration: RelationDeclaration,
    owner: ModelClassRecord,
    ownerName: string,
  ) {
    this.name = name;
    this.kind = declaration.kind;
    this.#declaration = declaration;
    this.#owner = owner;
    this.ownerName = ownerName;
  }

  /** To-many relations hold arrays; the others a model or null. */
  get many(): boolean {
    return this.kind === 'hasMany' || this.kind === 'manyToMany';
  }

  #invalid(reason: string): KeelError {
    return new E_MODEL_DEFINITION_INVALID(this.ownerName, `relation "${this.name}": ${reason}`);
  }

  targetMeta(): ModelMeta {
    if (this.#target) return this.#target;
    const target = this.#declaration.target();
    if (typeof target !== 'function' || !(DEFINITION in target))
      throw this.#invalid('its target is not a model class (is the import circular at load time?)');
    this.#target = metaOf(target as unknown as ModelClassRecord);
    return this.#target;
  }

  /** Resolve and check the relation's keys against both models' columns. */
  keys(): ResolvedKeys {
    if (this.#keys) return this.#keys;
    const owner = metaOf(this.#owner).definition;
    const target = this.targetMeta();
    const related = target.definition;
    const column = (def: typeof owner, name: string, model: string, role: string) => {
      const codec = def.columns.get(name);
      if (!codec) throw this.#invalid(`${role} "${name}" is not a column of ${model}`);
      return codec;
    };
    const options = this.#declaration.options;
    if (this.kind === 'belongsTo') {
      const { foreignKey, ownerKey } = options as BelongsToOptions;
      const fk = column(
        owner,
        foreignKey ?? `${snake(this.name)}_${related.primaryKey}`,
        this.ownerName,
        'foreign key',
      );
      const ok = column(related, ownerKey ?? related.primaryKey, target.name, 'owner key');
      this.#keys = {
        parentKey: fk,
        matchRef: `${related.table}.${ok.name}`,
        matchCodec: ok,
        relatedColumn: ok.name,
        pivot: undefined,
      };
    } else if (this.kind === 'hasOne' || this.kind === 'hasMany') {
      const { foreignKey, localKey } = options as HasOptions;
      const lk = column(owner, localKey ?? owner.primaryKey, this.ownerName, 'local key');
      const fk = column(
        related,
        foreignKey ?? `${snake(this.ownerName)}_${owner.primaryKey}`,
        target.name,
        'foreign key',
      );
      this.#keys = {
        parentKey: lk,
        matchRef: `${related.table}.${fk.name}`,
        matchCodec: fk,
        relatedColumn: fk.name,
        pivot: undefined,
      };
    } else {
      const o = options as ManyToManyOptions;
      const pk = column(owner, o.parentKey ?? owner.primaryKey, this.ownerName, 'parent key');
      const rk = column(related, o.relatedKey ?? related.primaryKey, target.name, 'related key');
      const table =
        o.pivotTable ??
        [snake(singular(this.ownerName)), snake(singular(target.name))].sort().join('_');
      const foreignPivotKey = o.foreignPivotKey ?? `${snake(this.ownerName)}_${owner.primaryKey}`;
      const relatedPivotKey = o.relatedPivotKey ?? `${snake(target.name)}_${related.primaryKey}`;
      const columns = o.pivotColumns ?? [];
      for (const name of [foreignPivotKey, relatedPivotKey, ...columns])
        if (typeof name !== 'string' || !IDENTIFIER.test(name))
          throw this.#invalid(`pivot column "${String(name)}" is not an identifier`);
      if (!/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table))
        throw this.#invalid(`pivot table "${table}" is not a plain table name`);
      this.#keys = {
        parentKey: pk,
        matchRef: `${table}.${foreignPivotKey}`,
        matchCodec: undefined,
        relatedColumn: undefined,
        pivot: { table, foreignPivotKey, relatedPivotKey, relatedKey: rk.name, columns },
      };
    }
    return this.#keys;
  }

  /** A query over the target, joined to the pivot table for many-to-many. */
  #targetQuery(tag: QueryTag | undefined): ModelQuery {
    const target = this.targetMeta();
    const query = new ModelQuery(target.cls);
    const internals = query[QUERY_INTERNALS]();
    const keys = this.keys();
    if (keys.pivot) internals.pivot(keys.pivot);
    if (tag) internals.tag(tag);
    return query;
  }

  /** Bind a parent key value for comparison with the match column. */
  #bindKey(value: unknown, dialect: DialectName): unknown {
    const keys = this.keys();
    return (keys.matchCodec ?? keys.parentKey).write(value, dialect);
  }

  /** Load this relation for `parents` (one query per IN chunk), then the nested ones. */
  async load(parents: ModelRecord[], node: EagerNode, lazy: boolean): Promise<void> {
    const keys = this.keys();
    const tag: QueryTag = lazy ? { model: this.ownerName, relation: this.name } : { eager: true };
    const values = distinct(parents.map((p) => p.$attributes[keys.parentKey.name]));
    let related: ModelRecord[] = [];
    if (values.length > 0) {
      const query = this.#targetQuery(tag);
      node.constrain?.(query);
      const dialect = connectionOf(this.targetMeta().definition).dialect;
      const bound = values.map((value) => this.#bindKey(value, dialect));
      related = await query[QUERY_INTERNALS]().fetchIn(keys.matchRef, bound);
      await loadTree(this.targetMeta(), related, node, lazy);
    }
    this.#match(parents, related);
  }

  #match(parents: ModelRecord[], related: ModelRecord[]): void {
    const keys = this.keys();
    const groups = new Map<string, ModelRecord[]>();
    for (const model of related) {
      const value = keys.pivot
        ? model.$pivot?.[keys.pivot.foreignPivotKey]
        : model.$attributes[keys.relatedColumn!];
      const key = keyOf(value);
      const group = groups.get(key);
      if (group) group.push(model);
      else groups.set(key, [model]);
    }
    for (const parent of parents) {
      const value = parent.$attributes[keys.parentKey.name];
      const group = value === null || value === undefined ? undefined : groups.get(keyOf(value));
      setRelated(parent, this.name, this.many ? (group ?? []) : (group?.[0] ?? null));
    }
  }

  /** The target query constrained to one parent (`model.relatedQuery(name)`). */
  queryFor(parent: ModelRecord): ModelQuery {
    const keys = this.keys();
    const query = this.#targetQuery({ model: this.ownerName, relation: this.name });
    const value = parent.$attributes[keys.parentKey.name];
    const dialect = connectionOf(this.targetMeta().definition).dialect;
    query[QUERY_INTERNALS]().whereIn(
      keys.matchRef,
      value === null || value === undefined ? [] : [this.#bindKey(value, dialect)],
    );
    return query;
  }

  /** The pivot description of a many-to-many relation (attach/detach/sync). */
  pivot(): NonNullable<ResolvedKeys['pivot']> & { parentKey: ColumnCodec; related: ModelMeta } {
    const keys = this.keys();
    if (!keys.pivot)
      throw new E_DB_IDENTIFIER_REFUSED(
        `many-to-many relation of ${this.ownerName}`,
        this.name,
        [...metaOf(this.#owner).relations.values()]
          .filter((r) => r.kind === 'manyToMany')
          .map((r) => r.name),
      );
    return { ...keys.pivot, parentKey: keys.parentKey, related: this.targetMeta() };
  }
}

/** Split values into IN lists of at most `IN_CHUNK`. */
export function chunks<T>(values: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
