import type { StandardSchemaV1 } from '@standard-schema/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { E_INVALID_MESSAGES } from './errors.js';
import { MessageBag, messages, setGlobalMessages, withMessages } from './message-bag.js';
import { rules } from './rules/index.js';
import { validate, validateSync } from './validator.js';

const Order = z.object({
  email: z.email(),
  name: z.string({ error: 'Tell us your name' }),
  items: z.array(z.object({ sku: z.string(), qty: z.number().min(1) })),
  iban: rules.iban().optional(),
});

const bad = { email: 'x', items: [{ sku: 'A', qty: 0 }, { qty: 2 }], iban: 'DE00' };

function messagesFor(result: Awaited<ReturnType<typeof validate>>): Record<string, string> {
  return Object.fromEntries((result.errors ?? []).map((e) => [e.path, e.message]));
}

afterEach(() => setGlobalMessages(undefined));

describe('custom messages', () => {
  it('replace defaults by field path, wildcard path, rule and path.rule', async () => {
    const result = await validate(Order, bad, {
      messages: {
        email: 'Please give a valid e-mail',
        'items.*.qty.too_small': 'Quantity must be at least {minimum}',
        'items.*.sku': 'Every line needs a SKU ({field} at {path})',
        iban: 'That IBAN is not right',
      },
    });
    expect(messagesFor(result)).toEqual({
      email: 'Please give a valid e-mail',
      name: 'Tell us your name',
      'items.0.qty': 'Quantity must be at least 1',
      'items.1.sku': 'Every line needs a SKU (sku at items.1.sku)',
      iban: 'That IBAN is not right',
    });
  });

  it('follow the documented precedence', () => {
    const schema = z.object({
      a: z.string().min(3, { error: 'explicit on the rule' }),
      b: z.string().min(3),
    });
    const run = (map: Record<string, string>) =>
      messagesFor(validateSync(schema, { a: 'x', b: 'x' }, { messages: map }));
    // a message written on the rule beats field and rule keys...
    expect(run({ a: 'field', min: 'rule' })).toEqual({ a: 'explicit on the rule', b: 'rule' });
    // ...but not a 'path.rule' key
    expect(run({ 'a.min': 'path and rule' }).a).toBe('path and rule');
    // exact paths beat wildcards, fewer wildcards beat more, field keys beat rule keys
    expect(run({ '*': 'any field', b: 'exact', min: 'rule' }).b).toBe('exact');
    expect(run({ '*': 'any field', min: 'rule' }).b).toBe('any field');
    // code keys work like rule keys
    expect(run({ too_small: 'by code' }).b).toBe('by code');
  });

  it('layer the call, the schema (withMessages) and the global messages', () => {
    setGlobalMessages({ required: 'Global required', min: 'Global min' });
    const schema = withMessages(z.object({ a: z.string(), b: z.string().min(2), c: z.string() }), {
      b: 'Schema b',
      c: 'Schema c',
    });
    const result = validateSync(schema, { b: 'x' }, { messages: { c: 'Call c' } });
    expect(messagesFor(result)).toEqual({ a: 'Global required', b: 'Schema b', c: 'Call c' });
  });

  it('take functions, which receive the error context', () => {
    const result = validateSync(
      z.object({ qty: z.number().max(10) }),
      { qty: 11 },
      {
        messages: {
          max: ({ field, rule, code, params, defaultMessage }) =>
            `${field}/${rule}/${code}/${String(params.maximum)}/${defaultMessage.length > 0}`,
        },
      },
    );
    expect(result.errors?.[0]?.message).toBe('qty/max/too_big/10/true');
  });

  it('leave unknown placeholders as written', () => {
    const result = validateSync(z.string(), 1, {
      messages: { string: 'Wanted {expected}, {nothing}' },
    });
    expect(result.errors?.[0]?.message).toBe('Wanted string, {nothing}');
  });

  it('replace a Keel rule default but not a Keel rule per-use message', () => {
    const schema = z.object({
      a: rules.slug(),
      b: rules.slug({ message: 'Use a slug for b' }),
      c: rules.slug({ error: (issue) => `bad slug ${String(issue.input)}` }),
    });
    const result = validateSync(
      schema,
      { a: 'A', b: 'B', c: 'C' },
      { messages: { slug: 'Map slug' } },
    );
    expect(messagesFor(result)).toEqual({ a: 'Map slug', b: 'Use a slug for b', c: 'bad slug C' });
  });

  it('apply to other Standard Schema libraries too', async () => {
    const schema: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'vendor says no', path: ['x'] }] }),
      },
    };
    const wrapped = withMessages(schema, { x: 'Keel says no' });
    expect((await validate(wrapped, {})).errors?.[0]?.message).toBe('Keel says no');
    expect((await validate(schema, {})).errors?.[0]?.message).toBe('vendor says no');
  });
});

describe('withMessages()', () => {
  it('returns a copy of the same type and leaves the original alone', () => {
    const base = z.object({ a: z.string() });
    const copy = withMessages(base, { a: 'Need a' });
    expect(copy).not.toBe(base);
    expect(copy.shape.a).toBe(base.shape.a);
    expect(validateSync(copy, {}).errors?.[0]?.message).toBe('Need a');
    expect(validateSync(base, {}).errors?.[0]?.message).not.toBe('Need a');
  });

  it('stacks: the outer wrapper wins', () => {
    const inner = withMessages(z.object({ a: z.string(), b: z.string() }), {
      a: 'inner a',
      b: 'inner b',
    });
    const outer = withMessages(inner, { a: 'outer a' });
    expect(messagesFor(validateSync(outer, {}))).toEqual({ a: 'outer a', b: 'inner b' });
  });
});

describe('message maps that are wrong', () => {
  it('are refused with the key named', () => {
    expect(() => messages({ 'a..b': 'x' })).toThrow(E_INVALID_MESSAGES);
    expect(() => messages({ a: 42 as never })).toThrow(
      /Invalid validation message "a": expected a string/,
    );
    expect(() => new MessageBag({ '': 'x' })).toThrow(/empty path segment/);
  });

  it('are compiled once when passed as plain objects', () => {
    const map = { a: 'x' };
    const schema = z.object({ a: z.string() });
    expect(validateSync(schema, {}, { messages: map }).errors?.[0]?.message).toBe('x');
    expect(validateSync(schema, {}, { messages: map }).errors?.[0]?.message).toBe('x');
  });
});
