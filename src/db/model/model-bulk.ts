import type { Expression, ExpressionBuilder } from 'kysely';
import type { DialectName } from '../config.js';
import type { AnyDatabase } from '../connection.js';
import { E_MODEL_INVALID_VALUE } from '../errors.js';
import { type ColumnCodec, describeValue } from './column-codec.js';
import { type CompiledDefinition, columnOf, connectionOf } from './model-meta.js';
import type { QueryInternals } from './model-query.js';

/** `updated_at = now` for a write, when the model keeps it. */
function touch(
  definition: CompiledDefinition,
  row: Record<string, unknown>,
  dialect: DialectName,
  now = new Date(),
): void {
  const column = definition.updatedAt;
  if (column && !(column in row)) row[column] = definition.columns.get(column)!.write(now, dialect);
}

/** Check a step for increment/decrement against its column. */
export function incrementStep(model: string, codec: ColumnCodec, by: unknown): number {
  if (!codec.numeric)
    throw new E_MODEL_INVALID_VALUE(
      model,
      codec.name,
      'a numeric column to increment',
      codec.spec.kind,
    );
  const integer = codec.spec.kind === 'integer' || codec.spec.kind === 'id';
  if (typeof by !== 'number' || !Number.isFinite(by) || (integer && !Number.isInteger(by)))
    throw new E_MODEL_INVALID_VALUE(
      model,
      codec.name,
      integer ? 'a whole-number step' : 'a finite numeric step',
      describeValue(by),
    );
  return by;
}

/** `column = column + by` for an UPDATE's SET. */
export function addExpression(
  column: string,
  by: number,
): (eb: ExpressionBuilder<AnyDatabase, string>) => Expression<unknown> {
  return (eb) => eb(eb.ref(column), '+', by);
}

export async function bulkUpdate(
  internals: QueryInternals,
  values: Record<string, unknown>,
): Promise<number> {
  const { meta } = internals;
  const definition = meta.definition;
  if (values === null || typeof values !== 'object' || Array.isArray(values))
    throw new E_MODEL_INVALID_VALUE(
      meta.name,
      '(update)',
      'an object of column values',
      describeValue(values),
    );
  const connection = connectionOf(definition);
  const dialect = connection.dialect;
  const row: Record<string, unknown> = {};
  // Check every value before writing any: a bad one fails the whole update.
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const codec = columnOf(definition, name);
    row[name] = codec.write(codec.input(value), dialect);
  }
  if (Object.keys(row).length === 0) return 0;
  touch(definition, row, dialect);
  const qb = internals.filter(connection.db.updateTable(definition.table).set(row), dialect);
  const result = await qb.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function bulkIncrement(
  internals: QueryInternals,
  column: unknown,
  by: number,
): Promise<number> {
  const { meta } = internals;
  const definition = meta.definition;
  const codec = columnOf(definition, column);
  const step = incrementStep(meta.name, codec, by);
  const connection = connectionOf(definition);
  const dialect = connection.dialect;
  const row: Record<string, unknown> = {};
  touch(definition, row, dialect);
  const qb = internals.filter(
    connection.db
      .updateTable(definition.table)
      .set((eb) => ({ ...row, [codec.name]: addExpression(codec.name, step)(eb) })),
    dialect,
  );
  const result = await qb.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function bulkDelete(internals: QueryInternals, force: boolean): Promise<number> {
  const definition = internals.meta.definition;
  const connection = connectionOf(definition);
  const dialect = connection.dialect;
  const deletedAt = definition.deletedAt;
  if (deletedAt && !force) {
    const now = new Date();
    const row: Record<string, unknown> = {
      [deletedAt]: definition.columns.get(deletedAt)!.write(now, dialect),
    };
    touch(definition, row, dialect, now);
    const qb = internals.filter(connection.db.updateTable(definition.table).set(row), dialect);
    return Number((await qb.executeTakeFirst()).numUpdatedRows);
  }
  const qb = internals.filter(connection.db.deleteFrom(definition.table), dialect);
  return Number((await qb.executeTakeFirst()).numDeletedRows);
}

export async function bulkRestore(internals: QueryInternals): Promise<number> {
  const definition = internals.meta.definition;
  const connection = connectionOf(definition);
  const dialect = connection.dialect;
  const row: Record<string, unknown> = { [definition.deletedAt!]: null };
  touch(definition, row, dialect);
  const qb = internals.filter(connection.db.updateTable(definition.table).set(row), dialect);
  return Number((await qb.executeTakeFirst()).numUpdatedRows);
}
