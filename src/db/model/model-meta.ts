import type { DialectName } from '../config.js';
import type { Connection } from '../connection.js';
import { db } from '../database-manager.js';
import { E_DB_IDENTIFIER_REFUSED, E_MODEL_DEFINITION_INVALID } from '../errors.js';
import { type AnyColumn, Column } from './column.js';
import { ColumnCodec } from './column-codec.js';
import type { ModelOptions } from './model-types.js';

/** Where `defineModel` stores the compiled definition on the class it makes. */
export const DEFINITION = Symbol.for('keel.model.definition');

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Turns a database row into attributes for one engine; built once per model and dialect. */
export type RowReader = (row: Record<string, unknown>) => Record<string, unknown>;

/**
 * A model definition checked and precomputed once: column codecs, the fillable set, what
 * `toJSON()` shows, the managed columns. Shared by the class `defineModel` returns and any
 * class extending it.
 */
export interface CompiledDefinition {
  /** The name errors use; a subclass's name replaces a derived one at boot. */
  readonly owner: { name: string; explicit: boolean };
  readonly table: string;
  readonly connection: string | undefined;
  readonly primaryKey: string;
  readonly codecs: readonly ColumnCodec[];
  readonly columns: ReadonlyMap<string, ColumnCodec>;
  readonly columnNames: readonly string[];
  readonly fillable: ReadonlySet<string>;
  readonly visible: readonly ColumnCodec[];
  /** Date and JSON columns: copied into `$original` so in-place edits show as dirty. */
  readonly mutable: readonly ColumnCodec[];
  readonly uuids: readonly ColumnCodec[];
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
  readonly deletedAt: string | undefined;
  /** The key is an auto-increment the database assigns (MySQL reads it from insertId). */
  readonly autoIncrement: boolean;
  readonly readers: Partial<Record<DialectName, RowReader>>;
  readonly writers: Partial<Record<DialectName, RowWriter>>;
}

function pascalSingular(table: string): string {
  const base = table.slice(table.lastIndexOf('.') + 1);
  return singular(base)
    .split('_')
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** A naive English singular for default key names (`categories` → `category`). */
export function singular(word: string): string {
  if (word.endsWith('ies') && word.length > 3) return `${word.slice(0, -3)}y`;
  if (/(?:ss|us|is)$/.test(word)) return word;
  if (/(?:xes|ches|shes|sses)$/.test(word)) return word.slice(0, -2);
  return word.endsWith('s') ? word.slice(0, -1) : word;
}

function managedName(
  option: boolean | { createdAt?: string | false; updatedAt?: string | false } | undefined,
  key: 'createdAt' | 'updatedAt',
  fallback: string,
): string | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === true) return fallback;
  const value = option[key];
  if (value === false) return undefined;
  return value ?? fallback;
}

/** Check a definition and precompute what every query and save needs. */
export function compileDefinition(
  definition: ModelOptions & { columns: Record<string, AnyColumn> },
  reserved: ReadonlySet<string>,
): CompiledDefinition {
  const table = definition.table;
  const label = definition.name ?? (typeof table === 'string' ? pascalSingular(table) : 'Model');
  const invalid = (reason: string) => new E_MODEL_DEFINITION_INVALID(label, reason);
  if (typeof table !== 'string' || !TABLE.test(table))
    throw invalid(`table ${JSON.stringify(table)} is not a plain table name`);
  const declared = definition.columns;
  if (typeof declared !== 'object' || declared === null || Object.keys(declared).length === 0)
    throw invalid('it declares no columns');

  const specs = new Map<string, AnyColumn>();
  for (const [name, col] of Object.entries(declared)) {
    if (!(col instanceof Column)) throw invalid(`column "${name}" is not a column.*() definition`);
    if (!IDENTIFIER.test(name)) throw invalid(`column name "${name}" is not an identifier`);
    if (reserved.has(name) || name.startsWith('$'))
      throw invalid(`column "${name}" clashes with a model method or property; rename the column`);
    specs.set(name, col);
  }

  const createdAt = managedName(definition.timestamps, 'createdAt', 'created_at');
  const updatedAt = managedName(definition.timestamps, 'updatedAt', 'updated_at');
  const soft = definition.softDeletes;
  const deletedAt =
    soft === true ? 'deleted_at' : typeof soft === 'string' && soft !== '' ? soft : undefined;
  const managed = [createdAt, updatedAt, deletedAt].filter((n): n is string => n !== undefined);
  for (const name of managed) {
    if (!IDENTIFIER.test(name)) throw invalid(`managed column name "${name}" is not an identifier`);
    const existing = specs.get(name);
    if (existing && existing.spec.kind !== 'date')
      throw invalid(`managed column "${name}" must be a column.date()`);
    if (!existing) {
      const date = new Column<Date>({
        kind: 'date',
        nullable: false,
        optional: true,
        scale: undefined,
      });
      specs.set(name, name === deletedAt ? date.nullable() : date);
    }
  }
  if (deletedAt && !specs.get(deletedAt)!.spec.nullable)
    throw invalid(`soft-delete column "${deletedAt}" must be nullable`);

  const primaryKey = definition.primaryKey ?? 'id';
  if (!specs.has(primaryKey)) throw invalid(`primary key "${primaryKey}" is not among the columns`);

  const owner = { name: label, explicit: definition.name !== undefined };
  const codecs = [...specs].map(([name, col]) => new ColumnCodec(owner, name, col.spec));
  const columns = new Map(codecs.map((codec) => [codec.name, codec]));
  const names = [...columns.keys()];
  const check = (list: readonly string[] | undefined, what: string, extra: string[] = []) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw invalid(`${what} must be an array of column names`);
    for (const name of list)
      if (!columns.has(name) && !extra.includes(name))
        throw invalid(`${what} names "${name}", which is not a column`);
  };
  check(definition.fillable, 'fillable');
  check(definition.guarded, 'guarded');
  check(definition.hidden, 'hidden');

  // Declared columns only; managed ones are set by Keel, never by mass assignment unless
  // `fillable` names them.
  const ordinary = Object.keys(declared).filter((name) => !managed.includes(name));
  const fillable = definition.fillable
    ? new Set(definition.fillable)
    : new Set(ordinary.filter((name) => !(definition.guarded ?? [primaryKey]).includes(name)));
  const hidden = new Set<string>(definition.hidden ?? []);

  return {
    owner,
    table,
    connection: definition.connection,
    primaryKey,
    codecs,
    columns,
    columnNames: names,
    fillable,
    visible: codecs.filter((codec) => !hidden.has(codec.name)),
    mutable: codecs.filter((codec) => codec.mutable),
    uuids: codecs.filter((codec) => codec.spec.kind === 'uuid'),
    createdAt,
    updatedAt,
    deletedAt,
    autoIncrement: columns.get(primaryKey)!.spec.kind === 'id',
    readers: {},
    writers: {},
  };
}

/** The row reader of a model for one engine: one loop over precomputed casts, no closures per row. */
export function rowReader(definition: CompiledDefinition, dialect: DialectName): RowReader {
  const cached = definition.readers[dialect];
  if (cached) return cached;
  const names = definition.codecs.map((codec) => codec.name);
  const casts = definition.codecs.map((codec) => codec.reader(dialect));
  const count = names.length;
  const reader: RowReader = (row) => {
    const attributes: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const name = names[i]!;
      const value = row[name];
      const cast = casts[i];
      attributes[name] =
        value === null || value === undefined ? null : cast === undefined ? value : cast(value);
    }
    return attributes;
  };
  definition.readers[dialect] = reader;
  return reader;
}

/** Turns attributes into an INSERT row for one engine (undefined attributes left out). */
export type RowWriter = (attributes: Record<string, unknown>) => Record<string, unknown>;

/** The row writer of a model for one engine, precomputed like the reader. */
export function rowWriter(definition: CompiledDefinition, dialect: DialectName): RowWriter {
  const cached = definition.writers[dialect];
  if (cached) return cached;
  const codecs = definition.codecs;
  const names = codecs.map((codec) => codec.name);
  const casts = codecs.map((codec) => codec.writer(dialect));
  const count = names.length;
  const writer: RowWriter = (attributes) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const name = names[i]!;
      const value = attributes[name];
      if (value === undefined) continue;
      const cast = casts[i];
      // The codec's own write names the column when a conversion fails.
      row[name] =
        value === null ? null : cast === undefined ? value : codecs[i]!.write(value, dialect);
    }
    return row;
  };
  definition.writers[dialect] = writer;
  return writer;
}

/** The original snapshot of freshly read attributes (mutable values copied). */
export function snapshotOf(
  definition: CompiledDefinition,
  attributes: Record<string, unknown>,
): Record<string, unknown> {
  const original = { ...attributes };
  for (const codec of definition.mutable) {
    const value = original[codec.name];
    if (value !== null && value !== undefined) original[codec.name] = codec.snapshot(value);
  }
  return original;
}

/** The connection a model's queries run on, joining the ambient transaction. */
export function connectionOf(definition: CompiledDefinition): Connection {
  return db(definition.connection);
}

/** A column by name from code or input; unknown names are refused (E_DB_IDENTIFIER_REFUSED). */
export function columnOf(definition: CompiledDefinition, name: unknown): ColumnCodec {
  const codec = typeof name === 'string' ? definition.columns.get(name) : undefined;
  if (!codec)
    throw new E_DB_IDENTIFIER_REFUSED(
      `column of ${definition.owner.name}`,
      String(name),
      definition.columnNames,
    );
  return codec;
}
