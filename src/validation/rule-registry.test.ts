import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { E_INVALID_RULE_OPTIONS, E_RULE_ALREADY_DEFINED, E_UNKNOWN_RULE } from './errors.js';
import { LazyPromise } from './lazy-promise.js';
import { asyncRule } from './rule-check.js';
import { defineRule, forgetRule, hasRule, rule } from './rule-registry.js';
import { validate, validateSync } from './validator.js';

declare module './rule-registry.js' {
  interface KeelRules {
    divisibleBy: [divisor: number];
    existsIn: [table: string, column: string];
  }
}

const defined: string[] = [];
function define<T, A extends unknown[]>(
  name: string,
  definition: Parameters<typeof defineRule<T, A>>[1],
) {
  defined.push(name);
  return defineRule<T, A>(name, definition);
}

afterEach(() => {
  for (const name of defined.splice(0)) forgetRule(name);
});

describe('defineRule()', () => {
  it('makes a check factory with a default message and placeholders for its arguments', () => {
    const divisibleBy = define<number, [number]>('divisibleBy', {
      validate: (value, [divisor]) => value % divisor === 0,
      message: 'Must be divisible by {0}',
    });
    const schema = z.object({ n: z.number().check(divisibleBy(3)) });
    expect(validateSync(schema, { n: 9 }).success).toBe(true);
    expect(validateSync(schema, { n: 10 }).errors).toEqual([
      { path: 'n', rule: 'divisibleBy', code: 'custom', message: 'Must be divisible by 3' },
    ]);
  });

  it('accepts a bare function, and a string result as the message', () => {
    const even = define<number, []>('evenNumber', (value) => value % 2 === 0 || `${value} is odd`);
    expect(validateSync(z.number().check(even()), 3).errors?.[0]?.message).toBe('3 is odd');
    const plain = define<number, []>('plainRule', () => false);
    expect(validateSync(z.number().check(plain()), 3).errors?.[0]?.message).toBe(
      'The value does not pass the "plainRule" rule',
    );
  });

  it('registers by name for rule(name, ...args), typed through KeelRules', () => {
    define<number, [number]>('divisibleBy', {
      validate: (value, [divisor]) => value % divisor === 0,
      message: (args) => `Not a multiple of ${args[0]}`,
    });
    expect(hasRule('divisibleBy')).toBe(true);
    expect(validateSync(z.number().check(rule('divisibleBy', 5)), 12).errors?.[0]?.message).toBe(
      'Not a multiple of 5',
    );
    expectTypeOf(rule<'divisibleBy'>).parameters.toEqualTypeOf<['divisibleBy', number]>();
    expectTypeOf(rule<'somethingElse'>).parameters.toEqualTypeOf<['somethingElse', ...unknown[]]>();
  });

  it('refuses a duplicate name, a bad name, or no validate()', () => {
    define('onlyOnce', () => true);
    expect(() => defineRule('onlyOnce', () => true)).toThrow(E_RULE_ALREADY_DEFINED);
    expect(() => defineRule('has.dot', () => true)).toThrow(E_INVALID_RULE_OPTIONS);
    expect(() => defineRule('noValidate', {} as never)).toThrow(/needs a validate\(\) function/);
  });

  it('runs async definitions lazily, once, and only on otherwise valid values', async () => {
    let queries = 0;
    const existsIn = define<string, [string, string]>('existsIn', {
      validate: async (value, [table, column], ctx) => {
        queries++;
        expect(ctx).toEqual({ rule: 'existsIn', context: { db: 'main' } });
        return value === 'known' || `No ${table}.${column} "${value}"`;
      },
    });
    const schema = z.object({ ref: z.string().min(3).check(existsIn('users', 'ref')) });
    const miss = await validate(schema, { ref: 'other' }, { context: { db: 'main' } });
    expect(miss.errors?.[0]).toMatchObject({
      path: 'ref',
      rule: 'existsIn',
      message: 'No users.ref "other"',
    });
    expect(queries).toBe(1);
    await validate(schema, { ref: 'x' }, { context: { db: 'main' } }); // fails min(3): no query
    expect(queries).toBe(1);
    expect(() => validateSync(schema, { ref: 'known' })).toThrow(/asynchronously/);
    expect(queries).toBe(1);
  });

  it('treats a non-async function returning a promise as async when told', async () => {
    const later = define<string, []>('later', {
      validate: () => Promise.resolve(false),
      async: true,
    });
    expect((await validate(z.string().check(later()), 'x')).errors?.[0]?.rule).toBe('later');
    const undeclared = define<string, []>('undeclared', () => Promise.resolve(false));
    expect((await validate(z.string().check(undeclared()), 'x')).errors?.[0]?.rule).toBe(
      'undeclared',
    );
  });
});

describe('rule(name) for rules defined later', () => {
  it('resolves at validation time, so schemas may be declared before providers boot', () => {
    const schema = z.number().check(rule('bootedLater'));
    define<number, []>('bootedLater', (n) => n > 0);
    expect(validateSync(schema, -1).errors?.[0]?.rule).toBe('bootedLater');
  });

  it('is an E_UNKNOWN_RULE with a suggestion when still undefined', async () => {
    define('existsIn', () => true);
    const schema = z.string().check(rule('existIn'));
    expect(() => validateSync(schema, 'x')).toThrow(E_UNKNOWN_RULE);
    await expect(validate(schema, 'x')).rejects.toThrow(
      'Unknown validation rule "existIn" (did you mean "existsIn"?)',
    );
  });
});

describe('asyncRule()', () => {
  it('fails with its default message, the per-use error, or the returned string', async () => {
    const no = asyncRule('no', async () => false, { message: 'Not accepted' });
    const explicit = asyncRule('no', async () => false, { error: 'Explicit' });
    const fallback = asyncRule('no', async () => false);
    const results = await Promise.all(
      [no, explicit, fallback].map((check) =>
        validate(z.string().check(check), 'x', { messages: { no: 'Map' } }),
      ),
    );
    expect(results.map((r) => r.errors?.[0]?.message)).toEqual(['Map', 'Explicit', 'Map']);
    const bare = await validate(z.string().check(fallback), 'x');
    expect(bare.errors?.[0]?.message).toBe('The value is not valid');
  });

  it('propagates a failure of the lookup itself', async () => {
    const broken = asyncRule('broken', async () => {
      throw new Error('database down');
    });
    await expect(validate(z.string().check(broken), 'x')).rejects.toThrow('database down');
  });
});

describe('LazyPromise', () => {
  it('starts its work only when awaited, once', async () => {
    let runs = 0;
    const lazy = new LazyPromise(() => ++runs);
    expect(lazy).toBeInstanceOf(Promise);
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect([runs, lazy.started]).toEqual([0, false]);
    expect(await lazy).toBe(1);
    expect(await lazy).toBe(1);
    expect(lazy.started).toBe(true);
    expect(lazy.then(() => 0)).not.toBeInstanceOf(LazyPromise);
  });

  it('rejects when the work throws', async () => {
    const lazy = new LazyPromise(() => {
      throw new Error('nope');
    });
    await expect(lazy).rejects.toThrow('nope');
  });
});
