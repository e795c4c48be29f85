import type { DialectName } from '../config.js';
import { E_MODEL_INVALID_VALUE } from '../errors.js';
import type { ColumnKind, ColumnSpec } from './column.js';

/** Returned by a normalizer for a value it refuses. */
const INVALID: unique symbol = Symbol('keel.invalid');

type Normalize = (value: unknown) => unknown;
/** A database-side conversion; `undefined` means the value passes unchanged. */
type Convert = ((value: unknown) => unknown) | undefined;

const INTEGER_TEXT = /^[+-]?\d{1,16}$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const DECIMAL_TEXT = /^[+-]?\d+(?:\.\d+)?$/;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO-8601 date or date-time, with `T` or a space (SQLite's CURRENT_TIMESTAMP). */
const DATE_TEXT =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** What a refused value was, for the error: its type, never its content. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function toInteger(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : INVALID;
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : INVALID;
  }
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : INVALID;
  }
  return INVALID;
}

function toNumber(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : INVALID;
  if (typeof value === 'string' && NUMBER_TEXT.test(value.trim())) return Number(value);
  return INVALID;
}

function toDecimal(value: unknown): unknown {
  if (typeof value === 'string') return DECIMAL_TEXT.test(value) ? value : INVALID;
  if (typeof value === 'number' && Number.isFinite(value)) {
    const text = String(value);
    return DECIMAL_TEXT.test(text) ? text : INVALID;
  }
  return INVALID;
}

/** A date string from input or the database; a string without a zone is UTC. */
export function parseDate(text: string): Date | undefined {
  const match = DATE_TEXT.exec(text);
  if (!match) return undefined;
  const [, day, time, zone] = match;
  const iso = time === undefined ? `${day}T00:00:00Z` : `${day}T${time}${zone ?? 'Z'}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function toDate(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? INVALID : value;
  if (typeof value === 'string') return parseDate(value) ?? INVALID;
  return INVALID;
}

function toJsonValue(value: unknown): unknown {
  const type = typeof value;
  if (value === undefined || type === 'function' || type === 'symbol' || type === 'bigint')
    return INVALID;
  return value;
}

const NORMALIZERS: Record<ColumnKind, { expected: string; normalize: Normalize }> = {
  id: { expected: 'an integer', normalize: toInteger },
  integer: { expected: 'an integer', normalize: toInteger },
  number: { expected: 'a finite number', normalize: toNumber },
  string: {
    expected: 'a string',
    normalize: (v) => (typeof v === 'string' ? v : INVALID),
  },
  uuid: {
    expected: 'a UUID string',
    normalize: (v) => (typeof v === 'string' && UUID_TEXT.test(v) ? v : INVALID),
  },
  decimal: { expected: 'a decimal (a string like "19.90" or a number)', normalize: toDecimal },
  boolean: {
    expected: 'a boolean',
    normalize: (v) => (typeof v === 'boolean' ? v : v === 1 ? true : v === 0 ? false : INVALID),
  },
  json: { expected: 'a JSON value', normalize: toJsonValue },
  date: { expected: 'a Date or an ISO-8601 string', normalize: toDate },
};

// Database → attribute. Each engine hands back its own representation; these make the
// attribute the same everywhere (a pg int8 beyond 2^53 stays a string rather than lose digits).
const readInteger: Convert = (v) => {
  if (typeof v === 'number') return v;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};
const readNumber: Convert = (v) => (typeof v === 'number' ? v : Number(v));
const readBoolean: Convert = (v) => (typeof v === 'boolean' ? v : v === 1 || v === '1' || v === 1n);
const readDate: Convert = (v) => {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v);
  const text = String(v);
  // What Keel writes on SQLite (toISOString): parse it without the general pattern.
  if (text.length === 24 && text.charCodeAt(23) === 90 && text.charCodeAt(10) === 84) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return parseDate(text) ?? new Date(text);
};
const parseJson: Convert = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
// MySQL 8 parses JSON columns itself (a JSON string scalar comes back unquoted); MariaDB
// stores JSON as LONGTEXT and returns the text.
const parseJsonLenient: Convert = (v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

function readDecimal(scale: number | undefined): Convert {
  return (v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return scale === undefined ? String(v) : v.toFixed(scale);
    return String(v);
  };
}

function reader(spec: ColumnSpec, dialect: DialectName): Convert {
  switch (spec.kind) {
    case 'id':
    case 'integer':
      return readInteger;
    case 'number':
      return readNumber;
    case 'decimal':
      return readDecimal(spec.scale);
    case 'boolean':
      return dialect === 'postgres' ? undefined : readBoolean;
    case 'json':
      return dialect === 'postgres'
        ? undefined
        : dialect === 'mysql'
          ? parseJsonLenient
          : parseJson;
    case 'date':
      return readDate;
    default:
      return undefined;
  }
}

// Attribute → bound parameter. better-sqlite3 binds neither booleans nor Dates; pg would
// send a JS array as a Postgres array, so JSON is always sent as its text.
function writer(spec: ColumnSpec, dialect: DialectName): Convert {
  switch (spec.kind) {
    case 'boolean':
      return dialect === 'postgres' ? undefined : (v) => (v ? 1 : 0);
    case 'json':
      return (v) => JSON.stringify(v);
    case 'date':
      return dialect === 'sqlite' ? (v) => (v as Date).toISOString() : undefined;
    default:
      return undefined;
  }
}

/** One column of one model: input checks, comparison, and each engine's conversions. */
export class ColumnCodec {
  readonly name: string;
  readonly spec: ColumnSpec;
  /** The model's display name, read when an error is raised (a subclass may rename it). */
  readonly #owner: { readonly name: string };
  readonly #normalize: Normalize;
  readonly #expected: string;
  /** Mutable values (dates, JSON) are copied into the original snapshot. */
  readonly mutable: boolean;
  readonly #readers: Partial<Record<DialectName, Convert>> = {};
  readonly #writers: Partial<Record<DialectName, Convert>> = {};

  constructor(owner: { readonly name: string }, name: string, spec: ColumnSpec) {
    this.#owner = owner;
    this.name = name;
    this.spec = spec;
    const rules = NORMALIZERS[spec.kind];
    this.#normalize = rules.normalize;
    this.#expected = rules.expected;
    this.mutable = spec.kind === 'date' || spec.kind === 'json';
  }

  /** Check and coerce a value from input or a setter; throws E_MODEL_INVALID_VALUE. */
  input(value: unknown): unknown {
    if (value === null) {
      if (this.spec.nullable) return null;
      throw new E_MODEL_INVALID_VALUE(this.#owner.name, this.name, this.#expected, 'null');
    }
    const normalized = this.#normalize(value);
    if (normalized === INVALID)
      throw new E_MODEL_INVALID_VALUE(
        this.#owner.name,
        this.name,
        this.#expected,
        describeValue(value),
      );
    return normalized;
  }

  /** The conversion from this engine's value to the attribute, or undefined for none. */
  reader(dialect: DialectName): Convert {
    if (!(dialect in this.#readers)) this.#readers[dialect] = reader(this.spec, dialect);
    return this.#readers[dialect];
  }

  /** The conversion from the attribute to this engine's parameter, or undefined for none. */
  writer(dialect: DialectName): Convert {
    if (!(dialect in this.#writers)) this.#writers[dialect] = writer(this.spec, dialect);
    return this.#writers[dialect];
  }

  /** The attribute as a bound parameter for this engine. */
  write(value: unknown, dialect: DialectName): unknown {
    if (value === null || value === undefined) return null;
    const convert = this.writer(dialect);
    if (convert === undefined) return value;
    try {
      return convert(value);
    } catch {
      // JSON.stringify on a cycle or a BigInt, toISOString on an invalid Date.
      throw new E_MODEL_INVALID_VALUE(
        this.#owner.name,
        this.name,
        this.#expected,
        describeValue(value),
      );
    }
  }

  /** Input → checked attribute → parameter, for values compared in WHERE clauses. */
  bind(value: unknown, dialect: DialectName): unknown {
    return this.write(this.input(value), dialect);
  }

  equals(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (a === null || b === null || a === undefined || b === undefined) return false;
    if (this.spec.kind === 'date')
      return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
    if (this.spec.kind === 'json') return JSON.stringify(a) === JSON.stringify(b);
    return false;
  }

  /** A copy that in-place edits of the attribute (date.setX, meta.tags.push) cannot reach. */
  snapshot(value: unknown): unknown {
    if (value === null || value === undefined) return value;
    if (value instanceof Date) return new Date(value.getTime());
    return typeof value === 'object' ? JSON.parse(JSON.stringify(value)) : value;
  }

  /** The value in `toJSON()`: dates as ISO-8601 strings, the rest as held. */
  serialize(value: unknown): unknown {
    return value instanceof Date ? value.toISOString() : value;
  }

  /** Numeric columns can be incremented. */
  get numeric(): boolean {
    const kind = this.spec.kind;
    return kind === 'integer' || kind === 'number' || kind === 'decimal' || kind === 'id';
  }
}
