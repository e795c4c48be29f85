import {
  E_DB_IDENTIFIER_REFUSED,
  E_MODEL_INVALID_VALUE,
  E_MODEL_NOT_PERSISTED,
} from '../errors.js';
import { describeValue } from './column-codec.js';
import { connectionOf } from './model-meta.js';
import { modelMeta } from './model-persistence.js';
import type { ModelRecord } from './model-runtime.js';
import { bindLoose, chunks, type Relation } from './relations.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function manyToMany(model: ModelRecord, name: unknown, action: string) {
  const meta = modelMeta(model);
  if (!model.$isPersisted) throw new E_MODEL_NOT_PERSISTED(meta.name, action);
  const relation: Relation | undefined =
    typeof name === 'string' ? meta.relations.get(name) : undefined;
  if (!relation)
    throw new E_DB_IDENTIFIER_REFUSED(`relation of ${meta.name}`, String(name), [
      ...meta.relations.keys(),
    ]);
  const pivot = relation.pivot();
  const related = pivot.related.definition.columns.get(pivot.relatedKey)!;
  const connection = connectionOf(pivot.related.definition);
  const parentValue = model.$attributes[pivot.parentKey.name];
  return {
    meta,
    relation,
    pivot,
    related,
    connection,
    dialect: connection.dialect,
    parent: pivot.parentKey.write(parentValue, connection.dialect),
    /** Checked related keys, as attribute values. */
    keys: (keys: unknown): unknown[] =>
      (Array.isArray(keys) ? keys : [keys]).map((key) => related.input(key)),
    /** The loaded relation is stale after a pivot write. */
    forget: () => {
      if (model.$preloaded) delete model.$preloaded[relation.name];
    },
  };
}

export async function attachPivot(
  model: ModelRecord,
  name: string,
  keys: unknown,
  extra: Record<string, unknown>,
): Promise<void> {
  const m = manyToMany(model, name, 'attach to');
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra))
    throw new E_MODEL_INVALID_VALUE(
      m.meta.name,
      name,
      'an object of pivot columns',
      describeValue(extra),
    );
  const columns: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(extra)) {
    if (
      !IDENTIFIER.test(column) ||
      column === m.pivot.foreignPivotKey ||
      column === m.pivot.relatedPivotKey
    )
      throw new E_DB_IDENTIFIER_REFUSED('pivot column', column, m.pivot.columns);
    columns[column] = bindLoose(value, m.dialect);
  }
  const values = m.keys(keys);
  if (values.length === 0) return;
  const rows = values.map((key) => ({
    ...columns,
    [m.pivot.foreignPivotKey]: m.parent,
    [m.pivot.relatedPivotKey]: m.related.write(key, m.dialect),
  }));
  for (const chunk of chunks(rows, 500))
    await m.connection.db.insertInto(m.pivot.table).values(chunk).execute();
  m.forget();
}

export async function detachPivot(
  model: ModelRecord,
  name: string,
  keys: unknown,
): Promise<number> {
  const m = manyToMany(model, name, 'detach from');
  let qb = m.connection.db.deleteFrom(m.pivot.table).where(m.pivot.foreignPivotKey, '=', m.parent);
  if (keys !== undefined) {
    const values = m.keys(keys);
    if (values.length === 0) return 0;
    qb = qb.where(
      m.pivot.relatedPivotKey,
      'in',
      values.map((key) => m.related.write(key, m.dialect)),
    );
  }
  const result = await qb.executeTakeFirst();
  m.forget();
  return Number(result.numDeletedRows);
}

export async function syncPivot(
  model: ModelRecord,
  name: string,
  keys: readonly unknown[],
): Promise<{ attached: unknown[]; detached: unknown[] }> {
  const m = manyToMany(model, name, 'sync');
  if (!Array.isArray(keys))
    throw new E_MODEL_INVALID_VALUE(m.meta.name, name, 'an array of keys', describeValue(keys));
  const wanted = m.keys(keys);
  const read = m.related.reader(m.dialect);
  return m.connection.transaction(async () => {
    const rows = (await m.connection.db
      .selectFrom(m.pivot.table)
      .select(m.pivot.relatedPivotKey)
      .where(m.pivot.foreignPivotKey, '=', m.parent)
      .execute()) as Record<string, unknown>[];
    const current = rows.map((row) => {
      const raw = row[m.pivot.relatedPivotKey];
      return read && raw !== null ? read(raw) : raw;
    });
    const has = (list: unknown[], key: unknown) => list.some((k) => String(k) === String(key));
    const detached = current.filter((key) => !has(wanted, key));
    const attached = [...new Map(wanted.map((key) => [String(key), key])).values()].filter(
      (key) => !has(current, key),
    );
    if (detached.length > 0) await detachPivot(model, name, detached);
    if (attached.length > 0) await attachPivot(model, name, attached, {});
    m.forget();
    return { attached, detached };
  });
}
