import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  E_INVALID_SCHEMA,
  E_VALIDATION_ASYNC_SCHEMA,
  E_VALIDATION_FAILED,
  ValidationError,
} from './errors.js';
import { asyncRule } from './rule-check.js';
import { rules } from './rules/index.js';
import { type ValidationResult, validate, validateOrThrow, validateSync } from './validator.js';

/** A minimal hand-written Standard Schema, standing in for Valibot, ArkType... */
function standard<T>(
  check: (value: unknown) => StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>,
): StandardSchemaV1<unknown, T> {
  return { '~standard': { version: 1, vendor: 'test', validate: check } };
}

describe('validate() with Zod', () => {
  const Order = z.object({
    email: z.email(),
    items: z.array(z.object({ sku: z.string(), qty: z.number().int().min(1) })).min(1),
    note: z.string().max(5).optional(),
  });

  it('resolves to the typed value', async () => {
    const result = await validate(Order, { email: 'a@b.co', items: [{ sku: 'A', qty: 2 }] });
    expect(result).toEqual({
      success: true,
      value: { email: 'a@b.co', items: [{ sku: 'A', qty: 2 }] },
    });
    expectTypeOf(result).toEqualTypeOf<ValidationResult<z.output<typeof Order>>>();
    if (result.success) expectTypeOf(result.value.items[0]!.qty).toBeNumber();
  });

  it('lists every field error with dotted paths, rule names and codes', async () => {
    const result = await validate(Order, {
      email: 'nope',
      items: [{ sku: 'A', qty: 0 }, { qty: 1.5 }],
      note: 'too long',
    });
    expect(result.success).toBe(false);
    expect(result.errors?.map(({ path, rule, code }) => ({ path, rule, code }))).toEqual([
      { path: 'email', rule: 'email', code: 'invalid_format' },
      { path: 'items.0.qty', rule: 'min', code: 'too_small' },
      { path: 'items.1.sku', rule: 'required', code: 'invalid_type' },
      { path: 'items.1.qty', rule: 'int', code: 'invalid_type' },
      { path: 'note', rule: 'max', code: 'too_big' },
    ]);
  });

  it('names rules for the other Zod issue codes', () => {
    const schema = z.strictObject({
      kind: z.enum(['a', 'b']),
      code: z.string().length(3),
      step: z.number().multipleOf(5),
      either: z.union([z.string(), z.number()]),
      typed: z.string(),
    });
    const result = validateSync(schema, {
      kind: 'c',
      code: 'ab',
      step: 7,
      either: true,
      typed: 5,
      extra: 1,
    });
    expect(result.errors?.map((e) => [e.path, e.rule])).toEqual([
      ['kind', 'enum'],
      ['code', 'length'],
      ['step', 'multipleOf'],
      ['either', 'union'],
      ['typed', 'string'],
      ['', 'unknownKeys'],
    ]);
  });

  it('returns a promise even when the schema is synchronous', () => {
    expect(validate(z.string(), 'x')).toBeInstanceOf(Promise);
  });

  it('passes through an error thrown by a check (a bug, not invalid input)', async () => {
    const schema = z.string().check(() => {
      throw new TypeError('boom');
    });
    await expect(validate(schema, 'x')).rejects.toThrow('boom');
  });
});

describe('validate() with other Standard Schema libraries', () => {
  it('normalizes issues with path segments, symbols and vendor issue types', async () => {
    const key = Symbol('meta');
    const schema = standard(() => ({
      issues: [
        { message: 'Bad e-mail', path: [{ key: 'user' }, 'email'], type: 'email' },
        { message: 'Odd', path: [key] },
        { message: 'Root problem' },
      ] as StandardSchemaV1.Issue[],
    }));
    const result = await validate(schema, {});
    expect(result.errors).toEqual([
      { path: 'user.email', message: 'Bad e-mail', rule: 'email' },
      { path: 'meta', message: 'Odd' },
      { path: '', message: 'Root problem' },
    ]);
  });

  it('awaits asynchronous schemas, and validateSync() refuses them clearly', async () => {
    const schema = standard(async (value) => ({ value: String(value) }));
    expect(await validate(schema, 4)).toEqual({ success: true, value: '4' });
    expect(() => validateSync(schema, 4)).toThrow(E_VALIDATION_ASYNC_SCHEMA);
  });

  it('does not leak a rejection from an async schema validateSync() gave up on', async () => {
    const schema = standard(() => Promise.reject(new Error('late failure')));
    expect(() => validateSync(schema, 1)).toThrow(/asynchronously/);
    await new Promise((resolve) => setTimeout(resolve, 5)); // an unhandled rejection would fail the run
  });

  it('reports "required" from the input when the vendor gives no input', async () => {
    const schema = standard(() => ({
      issues: [
        { message: 'missing', path: ['a', 'b'], code: 'invalid_type' },
      ] as unknown as StandardSchemaV1.Issue[],
    }));
    expect((await validate(schema, { a: {} })).errors?.[0]?.rule).toBe('required');
    expect((await validate(schema, { a: { b: 1 } })).errors?.[0]?.rule).toBe('type');
  });
});

describe('refusing what is not a schema', () => {
  it.each([[null], [undefined], ['string'], [{}], [[1]], [{ '~standard': {} }]])(
    '%j',
    async (bad) => {
      await expect(validate(bad as never, 1)).rejects.toThrow(E_INVALID_SCHEMA);
      expect(() => validateSync(bad as never, 1)).toThrow(
        /Expected a Standard Schema for validateSync/,
      );
    },
  );
});

describe('validateSync()', () => {
  it('validates synchronously', () => {
    expect(validateSync(rules.slug(), 'a-b')).toEqual({ success: true, value: 'a-b' });
  });

  it('throws E_VALIDATION_ASYNC_SCHEMA for a Zod schema with an async refinement', () => {
    const schema = z.object({ a: z.string().refine(async () => true) });
    expect(() => validateSync(schema, { a: 'x' })).toThrow(E_VALIDATION_ASYNC_SCHEMA);
    // and again once the schema is known to be async
    expect(() => validateSync(schema, { a: 'x' })).toThrow(E_VALIDATION_ASYNC_SCHEMA);
  });
});

describe('validateOrThrow()', () => {
  it('resolves to the value', async () => {
    await expect(validateOrThrow(z.coerce.number(), '7')).resolves.toBe(7);
  });

  it('rejects with one ValidationError holding every error', async () => {
    const error = await validateOrThrow(z.object({ a: z.string(), b: z.number() }), {}).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(E_VALIDATION_FAILED.is(error)).toBe(true);
    const failure = error as ValidationError;
    expect(failure.status).toBe(422);
    expect(failure.errors.map((e) => e.path)).toEqual(['a', 'b']);
    expect(failure.details).toEqual({ errors: failure.errors });
  });
});

describe('async schemas', () => {
  it('run an eager async refinement twice on first sight only, then go straight to async', async () => {
    let calls = 0;
    const schema = z.string().refine(async () => {
      calls++;
      return true;
    });
    await validate(schema, 'x');
    expect(calls).toBe(2); // Zod's synchronous attempt started it once for nothing
    await validate(schema, 'x');
    expect(calls).toBe(3);
  });

  it('never run a Keel async rule for nothing', async () => {
    let calls = 0;
    const schema = z.object({
      email: z.email().check(
        asyncRule('unique', async () => {
          calls++;
          return true;
        }),
      ),
    });
    await validate(schema, { email: 'a@b.co' });
    expect(calls).toBe(1);
  });

  it('give rules the context of the call, across awaits', async () => {
    const seen: unknown[] = [];
    const schema = z.string().check(
      asyncRule('tenant', async (_value, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(ctx.context.tenant, ctx.rule);
        return true;
      }),
    );
    await Promise.all([
      validate(schema, 'a', { context: { tenant: 't1' } }),
      validate(schema, 'b', { context: { tenant: 't2' } }),
      validate(schema, 'c'),
    ]);
    expect(seen.sort()).toEqual(['t1', 't2', 'tenant', 'tenant', 'tenant', undefined].sort());
  });
});

describe('hostile input', () => {
  it('caps the number of errors and counts the rest', async () => {
    const schema = z.array(z.number());
    const result = await validate(
      schema,
      Array.from({ length: 250 }, () => 'x'),
    );
    expect(result.errors).toHaveLength(100);
    expect(result.success === false && result.omitted).toBe(150);
    const small = await validate(schema, ['x', 'y', 'z'], { maxErrors: 2 });
    expect(small.success === false && [small.errors.length, small.omitted]).toEqual([2, 1]);
  });

  it('bounds paths and messages built from attacker-chosen keys', async () => {
    const key = 'k'.repeat(50_000);
    const result = await validate(z.strictObject({}), { [key]: 1 });
    const error = result.errors?.[0];
    expect(error?.rule).toBe('unknownKeys');
    expect(error?.message.length).toBeLessThanOrEqual(1000);
    const nested = await validate(z.record(z.string(), z.number()), { [key]: 'x' });
    expect(nested.errors?.[0]?.path.length).toBeLessThanOrEqual(100);
  });

  it('does not let a __proto__ key through or pollute prototypes', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": "x"}');
    const result = await validate(z.object({ a: z.string() }), input);
    expect(result).toEqual({ success: true, value: { a: 'x' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const strict = await validate(z.strictObject({ a: z.string() }), input);
    expect(strict.errors?.[0]).toMatchObject({ rule: 'unknownKeys' });
  });

  it('handles deep nesting with full paths', async () => {
    const schema = z.object({ a: z.object({ b: z.array(z.object({ c: z.literal(true) })) }) });
    const result = await validate(schema, { a: { b: [{ c: true }, { c: false }] } });
    expect(result.errors?.[0]).toMatchObject({ path: 'a.b.1.c', rule: 'enum' });
  });
});
