import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { E_INVALID_RULE_OPTIONS } from '../errors.js';
import { asyncRule } from '../rule-check.js';
import { validate, validateSync } from '../validator.js';
import { rules } from './index.js';

const Customer = z
  .object({
    type: z.enum(['person', 'company']),
    name: z.string().min(1),
    vatId: z.string().optional(),
    companyName: z.string().optional(),
  })
  .check(
    rules.requiredIf('vatId', 'type', 'company'),
    rules.prohibitedUnless('companyName', 'type', 'company'),
  );

describe('cross-field rules', () => {
  it('run even when other fields failed, so every error is listed at once', () => {
    const result = validateSync(Customer, { type: 'company', name: '', companyName: 'ACME' });
    expect(result.errors).toEqual([
      expect.objectContaining({ path: 'name', rule: 'min' }),
      {
        path: 'vatId',
        rule: 'requiredIf',
        code: 'custom',
        message: 'Required when type is company',
      },
    ]);
  });

  it('stay silent about a field that already has its own error', () => {
    const result = validateSync(Customer, { type: 'company', name: 'A', vatId: 42 });
    expect(result.errors?.map((e) => [e.path, e.rule])).toEqual([['vatId', 'string']]);
  });

  it('do not run on a value that is not an object', () => {
    const result = validateSync(Customer, 'not an object');
    expect(result.errors).toEqual([expect.objectContaining({ path: '', rule: 'object' })]);
  });

  it('accept a list of values or a predicate as the condition', () => {
    const schema = z
      .object({ plan: z.string(), seats: z.number().optional(), card: z.string().optional() })
      .check(
        rules.requiredIf('seats', 'plan', ['team', 'enterprise']),
        rules.requiredIf('card', 'plan', (plan, data) => plan !== 'free' && !data.seats),
      );
    expect(validateSync(schema, { plan: 'free' }).success).toBe(true);
    expect(validateSync(schema, { plan: 'team' }).errors?.map((e) => e.path)).toEqual([
      'seats',
      'card',
    ]);
    const predicate = validateSync(schema, { plan: 'pro' }).errors;
    expect(predicate).toEqual([
      expect.objectContaining({
        path: 'card',
        message: 'Required when plan is the required value',
      }),
    ]);
  });

  it('treat null, empty strings and empty arrays as missing', () => {
    const schema = z
      .object({ a: z.unknown().optional(), b: z.unknown().optional() })
      .check(rules.requiredWith('b', ['a']));
    for (const empty of [null, '', [], undefined]) {
      expect(validateSync(schema, { a: 1, b: empty }).success).toBe(false);
      expect(validateSync(schema, { a: empty }).success).toBe(true);
    }
  });

  it('refuse a field list that is empty', () => {
    expect(() => rules.requiredWith('a', [])).toThrow(E_INVALID_RULE_OPTIONS);
    expect(() => rules.requiredWithout('a', [])).toThrow(/at least one other field/);
  });

  it('take a per-use message, as every rule does', () => {
    const schema = z
      .object({ a: z.string(), b: z.string() })
      .check(rules.sameAs('b', 'a', { error: 'The two values differ' }));
    expect(validateSync(schema, { a: 'x', b: 'y' }).errors?.[0]?.message).toBe(
      'The two values differ',
    );
  });

  it('type their field names from the object they check', () => {
    const schema = z.object({ password: z.string(), again: z.string() });
    schema.check(rules.sameAs('again', 'password'));
    // @ts-expect-error 'nope' is not a key of the object
    schema.check(rules.sameAs('nope', 'password'));
    expectTypeOf(rules.sameAs<{ a: string }>)
      .parameter(0)
      .toEqualTypeOf<'a'>();
  });
});

describe('rules.when', () => {
  const Order = z
    .object({
      delivery: z.enum(['ship', 'pickup']),
      country: z.string().optional(),
      zip: z.string().optional(),
      floor: z.unknown().optional(),
    })
    .check(
      rules.when('delivery', 'ship', {
        country: rules.country(),
        zip: z.string().min(3),
        floor: z.coerce.number().int().optional(),
      }),
    );

  it('validates the shape only when the condition holds', () => {
    expect(validateSync(Order, { delivery: 'pickup' }).success).toBe(true);
    const result = validateSync(Order, { delivery: 'ship', country: 'XX' });
    expect(result.errors?.map((e) => [e.path, e.rule])).toEqual([
      ['country', 'country'],
      ['zip', 'required'],
    ]);
  });

  it('keeps the outputs of the conditional schemas (coercion)', () => {
    const result = validateSync(Order, {
      delivery: 'ship',
      country: 'DE',
      zip: '10115',
      floor: '3',
    });
    expect(result.value).toEqual({ delivery: 'ship', country: 'DE', zip: '10115', floor: 3 });
    const without = validateSync(Order, { delivery: 'ship', country: 'DE', zip: '10115' });
    expect(without.value).not.toHaveProperty('floor');
  });

  it('accepts a whole-object schema, with paths under the object', () => {
    const schema = z
      .object({ kind: z.string(), address: z.unknown() })
      .check(
        rules.when(
          'kind',
          (kind) => kind === 'postal',
          z.object({ address: z.object({ street: z.string(), city: z.string() }) }),
        ),
      );
    const result = validateSync(schema, { kind: 'postal', address: { street: 'Main St' } });
    expect(result.errors).toEqual([
      expect.objectContaining({ path: 'address.city', rule: 'required' }),
    ]);
    expect(validateSync(schema, { kind: 'email', address: 1 }).success).toBe(true);
  });

  it('nests inside arrays and reports full paths', async () => {
    const lines = z.array(
      z
        .object({ kind: z.enum(['product', 'text']), sku: z.string().optional() })
        .check(rules.when('kind', 'product', { sku: z.string().regex(/^[A-Z]{3}-\d+$/) })),
    );
    const result = await validate(z.object({ lines }), {
      lines: [{ kind: 'text' }, { kind: 'product', sku: 'bad' }],
    });
    expect(result.errors).toEqual([
      expect.objectContaining({ path: 'lines.1.sku', rule: 'regex', code: 'invalid_format' }),
    ]);
  });

  it('runs async rules inside the branch, lazily', async () => {
    let calls = 0;
    const taken = asyncRule<string>('unique', async (value) => {
      calls++;
      return value !== 'taken';
    });
    const schema = z
      .object({ kind: z.string(), handle: z.string().optional() })
      .check(rules.when('kind', 'named', { handle: z.string().check(taken) }));
    const result = await validate(schema, { kind: 'named', handle: 'taken' });
    expect(result.errors).toEqual([expect.objectContaining({ path: 'handle', rule: 'unique' })]);
    expect(calls).toBe(1);
    expect(await validate(schema, { kind: 'other', handle: 'taken' })).toMatchObject({
      success: true,
    });
    expect(calls).toBe(1);
    expect(() => validateSync(schema, { kind: 'named', handle: 'free' })).toThrow(/asynchronously/);
    expect(calls).toBe(1);
  });
});

describe('rules.distinct', () => {
  it('flags each repeat at its index, by key and case-insensitively', () => {
    const lines = z
      .array(z.object({ sku: z.string() }))
      .check(rules.distinct({ by: 'sku', ignoreCase: true }));
    const result = validateSync(lines, [
      { sku: 'A-1' },
      { sku: 'B-2' },
      { sku: 'a-1' },
      { sku: 'A-1' },
    ]);
    expect(result.errors?.map((e) => e.path)).toEqual(['2.sku', '3.sku']);
  });

  it('compares by a function', () => {
    const schema = z.array(z.number()).check(rules.distinct({ by: (n: number) => Math.floor(n) }));
    expect(validateSync(schema, [1.2, 2.5, 1.9]).errors?.[0]).toMatchObject({
      path: '2',
      rule: 'distinct',
    });
  });
});
