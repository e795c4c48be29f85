import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Connection } from '../connection.js';
import { E_MODEL_NOT_FOUND, E_MODEL_NOT_PERSISTED } from '../errors.js';
import { addExpression, incrementStep } from './model-bulk.js';
import type { ModelEventType } from './model-events.js';
import { columnOf, connectionOf, rowReader, rowWriter, snapshotOf } from './model-meta.js';
import {
  type ModelClassRecord,
  type ModelMeta,
  type ModelRecord,
  metaOf,
} from './model-runtime.js';
import type { ModelLike } from './model-types.js';
import { eagerNode, loadTree } from './relations.js';

/** `{ field: { before, after } }` as the runtime builds it. */
export type Changes = Record<string, { before: unknown; after: unknown }>;

/** The changes of each model's last update, for `getChanges()` / `wasChanged()`. */
const lastChanges = new WeakMap<ModelRecord, Changes>();

export function changesOf(model: ModelRecord): Changes {
  return lastChanges.get(model) ?? {};
}

export function modelMeta(model: ModelRecord): ModelMeta {
  return metaOf(model.constructor as ModelClassRecord);
}

function emit(
  meta: ModelMeta,
  connection: Connection,
  model: ModelRecord,
  type: ModelEventType,
  changes?: Changes,
  soft?: boolean,
): Promise<void> {
  return meta.events.emit({
    type,
    model: model as unknown as ModelLike,
    modelName: meta.name,
    table: meta.definition.table,
    connection: connection.name,
    ...(changes ? { changes } : {}),
    ...(soft === undefined ? {} : { soft }),
  });
}

/**
 * Run a write and its listeners in one transaction: the ambient one, or a new one when
 * listeners are registered (so an audit row commits or rolls back with the change).
 */
function write<T>(meta: ModelMeta, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = connectionOf(meta.definition);
  if (meta.events.active && !connection.inTransaction)
    return connection.transaction(() => fn(connection));
  return fn(connection);
}

/** Names of the columns whose value differs from the original snapshot. */
export function dirtyColumns(meta: ModelMeta, model: ModelRecord): string[] {
  const attributes = model.$attributes;
  const original = model.$original;
  const dirty: string[] = [];
  for (const codec of meta.definition.codecs) {
    const value = attributes[codec.name];
    if (value === undefined) continue;
    if (!codec.equals(original[codec.name], value)) dirty.push(codec.name);
  }
  return dirty;
}

function changesFor(model: ModelRecord, names: readonly string[]): Changes {
  const changes: Changes = {};
  for (const name of names)
    changes[name] = { before: model.$original[name] ?? null, after: model.$attributes[name] };
  return changes;
}

function keyWhere(meta: ModelMeta, model: ModelRecord, connection: Connection) {
  const definition = meta.definition;
  const pk = definition.primaryKey;
  const key = model.$original[pk] ?? model.$attributes[pk];
  return { pk, key, bound: definition.columns.get(pk)!.write(key, connection.dialect) };
}

/** Insert a new model or update the dirty columns of a persisted one. */
export function saveModel(model: ModelRecord): Promise<void> {
  const meta = modelMeta(model);
  return write(meta, (connection) =>
    model.$isPersisted ? update(meta, connection, model) : insert(meta, connection, model),
  );
}

async function insert(meta: ModelMeta, connection: Connection, model: ModelRecord): Promise<void> {
  const definition = meta.definition;
  const events = meta.events.active;
  const attributes = model.$attributes;
  if (events) {
    const planned = changesFor(model, dirtyColumns(meta, model));
    await emit(meta, connection, model, 'saving', planned);
    await emit(meta, connection, model, 'creating', planned);
  }
  const now = new Date();
  if (definition.createdAt && attributes[definition.createdAt] == null)
    attributes[definition.createdAt] = now;
  if (definition.updatedAt && attributes[definition.updatedAt] == null)
    attributes[definition.updatedAt] = now;
  for (const codec of definition.uuids)
    if (attributes[codec.name] == null) attributes[codec.name] = randomUUID();

  const dialect = connection.dialect;
  const row = rowWriter(definition, dialect)(attributes);
  const insert = connection.db.insertInto(definition.table);
  const empty = Object.keys(row).length === 0;
  const query = empty ? insert.defaultValues() : insert.values(row);
  let saved: Record<string, unknown> | undefined;
  if (dialect === 'mysql') {
    // MySQL has no INSERT ... RETURNING: read the generated key, then the row. Nor has it
    // DEFAULT VALUES: an all-default row is `() VALUES ()`.
    const result = empty
      ? await sql`insert into ${sql.table(definition.table)} () values ()`.execute(connection.db)
      : await query.executeTakeFirst();
    const pk = definition.primaryKey;
    const key =
      definition.autoIncrement && attributes[pk] == null ? Number(result.insertId) : attributes[pk];
    saved = (await connection.db
      .selectFrom(definition.table)
      .selectAll()
      .where(pk, '=', definition.columns.get(pk)!.write(key, dialect))
      .executeTakeFirst()) as Record<string, unknown> | undefined;
    if (!saved) throw new E_MODEL_NOT_FOUND(meta.name, String(key));
  } else {
    saved = (await query.returningAll().executeTakeFirstOrThrow()) as Record<string, unknown>;
  }
  const read = rowReader(definition, dialect);
  const fresh = read(saved);
  model.$attributes = fresh;
  model.$original = snapshotOf(definition, fresh);
  model.$isPersisted = true;
  if (model.$isDeleted) {
    model.$isDeleted = false;
    lastChanges.delete(model);
  }
  if (events) {
    const changes: Changes = {};
    for (const codec of definition.codecs)
      changes[codec.name] = { before: null, after: fresh[codec.name] };
    await emit(meta, connection, model, 'created', changes);
    await emit(meta, connection, model, 'saved', changes);
  }
}

async function update(meta: ModelMeta, connection: Connection, model: ModelRecord): Promise<void> {
  const definition = meta.definition;
  const events = meta.events.active;
  if (events)
    await emit(meta, connection, model, 'saving', changesFor(model, dirtyColumns(meta, model)));
  let dirty = dirtyColumns(meta, model);
  if (dirty.length === 0) {
    if (events) await emit(meta, connection, model, 'saved', {});
    return;
  }
  if (events) {
    await emit(meta, connection, model, 'updating', changesFor(model, dirty));
    // A listener may have changed more fields.
    dirty = dirtyColumns(meta, model);
  }
  const updatedAt = definition.updatedAt;
  if (updatedAt && !dirty.includes(updatedAt)) {
    model.$attributes[updatedAt] = new Date();
    dirty.push(updatedAt);
  }
  const dialect = connection.dialect;
  const row: Record<string, unknown> = {};
  for (const name of dirty)
    row[name] = definition.columns.get(name)!.write(model.$attributes[name], dialect);
  const { pk, bound } = keyWhere(meta, model, connection);
  await connection.db.updateTable(definition.table).set(row).where(pk, '=', bound).execute();
  const changes = changesFor(model, dirty);
  for (const name of dirty) {
    const codec = definition.columns.get(name)!;
    const value = model.$attributes[name];
    model.$original[name] = codec.mutable ? codec.snapshot(value) : value;
  }
  lastChanges.set(model, changes);
  if (events) {
    await emit(meta, connection, model, 'updated', changes);
    await emit(meta, connection, model, 'saved', changes);
  }
}

function requirePersisted(meta: ModelMeta, model: ModelRecord, action: string): void {
  if (!model.$isPersisted) throw new E_MODEL_NOT_PERSISTED(meta.name, action);
}

/** Set columns on the row and on the model as saved (original included). */
async function setColumns(
  meta: ModelMeta,
  connection: Connection,
  model: ModelRecord,
  values: Record<string, unknown>,
): Promise<Changes> {
  const definition = meta.definition;
  const dialect = connection.dialect;
  const row: Record<string, unknown> = {};
  const changes: Changes = {};
  for (const [name, value] of Object.entries(values)) {
    row[name] = definition.columns.get(name)!.write(value, dialect);
    changes[name] = { before: model.$original[name] ?? null, after: value };
  }
  const { pk, bound } = keyWhere(meta, model, connection);
  await connection.db.updateTable(definition.table).set(row).where(pk, '=', bound).execute();
  for (const [name, value] of Object.entries(values)) {
    model.$attributes[name] = value;
    model.$original[name] = definition.columns.get(name)!.snapshot(value);
  }
  return changes;
}

/** Delete a model: soft (set `deleted_at`) when the model uses soft deletes, unless forced. */
export function deleteModel(model: ModelRecord, force: boolean): Promise<void> {
  const meta = modelMeta(model);
  requirePersisted(meta, model, force ? 'force-delete' : 'delete');
  const definition = meta.definition;
  const deletedAt = definition.deletedAt;
  return write(meta, async (connection) => {
    if (deletedAt && !force) {
      const now = new Date();
      const values: Record<string, unknown> = { [deletedAt]: now };
      if (definition.updatedAt) values[definition.updatedAt] = now;
      const planned: Changes = {
        [deletedAt]: { before: model.$original[deletedAt] ?? null, after: now },
      };
      await emit(meta, connection, model, 'deleting', planned, true);
      const changes = await setColumns(meta, connection, model, values);
      await emit(meta, connection, model, 'deleted', changes, true);
      return;
    }
    await emit(meta, connection, model, 'deleting', undefined, false);
    const { pk, bound } = keyWhere(meta, model, connection);
    await connection.db.deleteFrom(definition.table).where(pk, '=', bound).execute();
    model.$isPersisted = false;
    model.$isDeleted = true;
    await emit(meta, connection, model, 'deleted', undefined, false);
  });
}

/** Clear `deleted_at` on a soft-deleted model. */
export function restoreModel(model: ModelRecord): Promise<void> {
  const meta = modelMeta(model);
  requirePersisted(meta, model, 'restore');
  const definition = meta.definition;
  const deletedAt = definition.deletedAt!;
  if (model.$attributes[deletedAt] == null) return Promise.resolve();
  return write(meta, async (connection) => {
    const values: Record<string, unknown> = { [deletedAt]: null };
    if (definition.updatedAt) values[definition.updatedAt] = new Date();
    const planned: Changes = { [deletedAt]: { before: model.$original[deletedAt], after: null } };
    await emit(meta, connection, model, 'restoring', planned);
    const changes = await setColumns(meta, connection, model, values);
    await emit(meta, connection, model, 'restored', changes);
  });
}

/** Re-read the row (trashed or not) and reload the relations that were loaded. */
export async function refreshModel(model: ModelRecord): Promise<void> {
  const meta = modelMeta(model);
  requirePersisted(meta, model, 'refresh');
  const definition = meta.definition;
  const connection = connectionOf(definition);
  const { pk, key, bound } = keyWhere(meta, model, connection);
  const row = (await connection.db
    .selectFrom(definition.table)
    .selectAll()
    .where(pk, '=', bound)
    .executeTakeFirst()) as Record<string, unknown> | undefined;
  if (!row) throw new E_MODEL_NOT_FOUND(meta.name, String(key));
  const fresh = rowReader(definition, connection.dialect)(row);
  model.$attributes = fresh;
  model.$original = snapshotOf(definition, fresh);
  const loaded = model.$preloaded ? Object.keys(model.$preloaded) : [];
  model.$preloaded = undefined;
  if (loaded.length > 0) {
    const node = eagerNode();
    for (const name of loaded) node.children.set(name, eagerNode());
    await loadTree(meta, [model], node, true);
  }
}

/** `column = column + by` on the row, in one statement; the model gets the stored value. */
export function incrementModel(model: ModelRecord, column: unknown, by: number): Promise<void> {
  const meta = modelMeta(model);
  requirePersisted(meta, model, 'increment');
  const definition = meta.definition;
  const codec = columnOf(definition, column);
  const step = incrementStep(meta.name, codec, by);
  return write(meta, async (connection) => {
    const dialect = connection.dialect;
    const name = codec.name;
    const before = model.$original[name] ?? null;
    if (meta.events.active) {
      const planned = Number(before ?? 0) + step;
      const after = codec.spec.kind === 'decimal' ? String(planned) : planned;
      await emit(meta, connection, model, 'updating', { [name]: { before, after } });
    }
    const now = new Date();
    const updatedAt = definition.updatedAt;
    const touched: Record<string, unknown> = updatedAt
      ? { [updatedAt]: definition.columns.get(updatedAt)!.write(now, dialect) }
      : {};
    const { pk, bound } = keyWhere(meta, model, connection);
    const qb = connection.db
      .updateTable(definition.table)
      .set((eb) => ({ ...touched, [name]: addExpression(name, step)(eb) }))
      .where(pk, '=', bound);
    let raw: unknown;
    if (dialect === 'mysql') {
      await qb.execute();
      const row = (await connection.db
        .selectFrom(definition.table)
        .select(name)
        .where(pk, '=', bound)
        .executeTakeFirst()) as Record<string, unknown> | undefined;
      raw = row?.[name];
    } else {
      const row = (await qb.returning(name).executeTakeFirst()) as
        | Record<string, unknown>
        | undefined;
      raw = row?.[name];
    }
    const read = codec.reader(dialect);
    const after = raw === null || raw === undefined ? null : read ? read(raw) : raw;
    const changes: Changes = { [name]: { before, after } };
    model.$attributes[name] = after;
    model.$original[name] = after;
    if (updatedAt) {
      changes[updatedAt] = { before: model.$original[updatedAt] ?? null, after: now };
      model.$attributes[updatedAt] = now;
      model.$original[updatedAt] = new Date(now.getTime());
    }
    lastChanges.set(model, changes);
    await emit(meta, connection, model, 'updated', changes);
  });
}
