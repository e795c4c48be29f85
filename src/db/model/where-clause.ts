import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { DialectName } from '../config.js';
import type { AnyDatabase } from '../connection.js';
import { E_MODEL_INVALID_VALUE } from '../errors.js';
import { type ColumnCodec, describeValue } from './column-codec.js';

/** Comparison operators a where clause accepts (others are refused: they may come from input). */
export type WhereOperator =
  | '='
  | '!='
  | '<>'
  | '<'
  | '<='
  | '>'
  | '>='
  | 'like'
  | 'not like'
  | 'in'
  | 'not in'
  | 'LIKE'
  | 'NOT LIKE'
  | 'IN'
  | 'NOT IN';

export const OPERATORS: readonly string[] = [
  '=',
  '!=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  'like',
  'not like',
  'in',
  'not in',
];
export const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
export type Operator = Lowercase<WhereOperator>;

export type AnyBuilder = ExpressionBuilder<AnyDatabase, string>;
export type Build = (eb: AnyBuilder, dialect: DialectName) => Expression<SqlBool>;
export interface Condition {
  readonly or: boolean;
  readonly build: Build;
}

export const TRUE = sql<SqlBool>`1 = 1`;
export const FALSE = sql<SqlBool>`1 = 0`;

/** Join conditions in order, with SQL's precedence. */
export function combine(eb: AnyBuilder, conditions: readonly Condition[], dialect: DialectName) {
  // SQL precedence: AND binds tighter, so `a or b and c` is `a or (b and c)`.
  const groups: Expression<SqlBool>[][] = [[]];
  for (const condition of conditions) {
    if (condition.or && groups.at(-1)!.length > 0) groups.push([]);
    groups.at(-1)!.push(condition.build(eb, dialect));
  }
  const ands = groups.map((group) => (group.length === 1 ? group[0]! : eb.and(group)));
  return ands.length === 1 ? ands[0]! : eb.or(ands);
}

/** One `column <operator> value` test, the value checked against the column now and bound later. */
export function comparison(
  table: string,
  model: string,
  codec: ColumnCodec,
  operator: Operator,
  value: unknown,
): Build {
  const ref = `${table}.${codec.name}`;
  if (operator === 'in' || operator === 'not in') {
    if (!Array.isArray(value))
      throw new E_MODEL_INVALID_VALUE(model, codec.name, 'an array', describeValue(value));
    const values = value.map((v) => codec.input(v));
    if (values.length === 0) return () => (operator === 'in' ? FALSE : TRUE);
    return (eb, dialect) =>
      eb(
        ref,
        operator,
        values.map((v) => codec.write(v, dialect)),
      );
  }
  if (value === null || value === undefined) {
    if (operator === '=') return (eb) => eb(ref, 'is', null);
    if (operator === '!=' || operator === '<>') return (eb) => eb(ref, 'is not', null);
    throw new E_MODEL_INVALID_VALUE(model, codec.name, `a value for ${operator}`, 'null');
  }
  if (operator === 'like' || operator === 'not like') {
    if (typeof value !== 'string')
      throw new E_MODEL_INVALID_VALUE(model, codec.name, 'a string pattern', describeValue(value));
    return (eb) => eb(ref, operator, value);
  }
  const checked = codec.input(value);
  return (eb, dialect) => eb(ref, operator, codec.write(checked, dialect));
}
