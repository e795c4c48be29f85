import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { E_INVALID_SCHEMA, ValidationError } from './errors.js';
import { withMessages } from './message-bag.js';
import {
  createRequestValidator,
  type RequestParts,
  validateRequestParts,
} from './request-validator.js';
import { asyncRule } from './rule-check.js';

const schemas = {
  params: z.object({ id: z.coerce.number().int().positive() }),
  query: z.object({ page: z.coerce.number().int().min(1).default(1) }),
  body: z.object({
    customer: z.email(),
    items: z.array(z.object({ sku: z.string().min(1), qty: z.number().int().min(1) })).min(1),
  }),
  headers: z.looseObject({ 'x-tenant': z.string() }),
};

const good = {
  params: { id: '7' },
  query: {},
  body: { customer: 'ada@example.com', items: [{ sku: 'A-1', qty: 2 }] },
  headers: { 'x-tenant': 'acme', accept: '*/*' },
};

async function failure(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ValidationError))
    throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error;
}

describe('validateRequestParts()', () => {
  it('returns the validated, typed parts', async () => {
    const parts = await validateRequestParts(schemas, good);
    expect(parts).toEqual({
      params: { id: 7 },
      query: { page: 1 },
      body: good.body,
      headers: { 'x-tenant': 'acme', accept: '*/*' },
    });
    expectTypeOf(parts.params.id).toBeNumber();
    expectTypeOf(parts.query).toEqualTypeOf<{ page: number }>();
    expectTypeOf(parts.body.items).toEqualTypeOf<{ sku: string; qty: number }[]>();
    expectTypeOf(parts.headers['x-tenant']).toBeString();
  });

  it('passes parts without a schema through, typed as given', async () => {
    const input = { params: { id: '1' }, query: { q: 'x' }, body: undefined, headers: { a: 'b' } };
    const parts = await validateRequestParts({ query: z.object({ q: z.string().trim() }) }, input);
    expect(parts).toEqual(input);
    expectTypeOf(parts.params).toEqualTypeOf<{ id: string }>();
    expectTypeOf(parts.query).toEqualTypeOf<{ q: string }>();
    expectTypeOf(parts.body).toBeUndefined();
  });

  it('validates every part and throws ONE error listing all, prefixed by part', async () => {
    const error = await failure(
      validateRequestParts(schemas, {
        params: { id: '-1' },
        query: { page: '0' },
        body: { customer: 'nope', items: [{ sku: '', qty: 1 }, { qty: 0 }] },
        headers: {},
      }),
    );
    expect(error.status).toBe(422);
    expect(error.code).toBe('E_VALIDATION_FAILED');
    expect(error.errors.map((e) => `${e.path}:${e.rule}`)).toEqual([
      'params.id:min',
      'query.page:min',
      'body.customer:email',
      'body.items.0.sku:min',
      'body.items.1.sku:required',
      'body.items.1.qty:min',
      'headers.x-tenant:required',
    ]);
    expect(error.details?.errors).toBe(error.errors);
    expect(error.message).toMatch(/^Validation failed \(7 errors\): params\.id: .+; and 4 more$/);
  });

  it('keeps part order when async parts finish out of order', async () => {
    const slow = asyncRule<string>('slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return false;
    });
    const error = await failure(
      validateRequestParts(
        { params: z.object({ a: z.string().check(slow) }), body: z.object({ b: z.string() }) },
        { params: { a: 'x' }, query: {}, body: {}, headers: {} },
      ),
    );
    expect(error.errors.map((e) => e.path)).toEqual(['params.a', 'body.b']);
  });

  it('mixes async and sync parts', async () => {
    const parts = await validateRequestParts(
      {
        body: z.object({ email: z.email().check(asyncRule('free', async () => true)) }),
        query: z.object({}),
      },
      { params: {}, query: {}, body: { email: 'a@b.co' }, headers: {} },
    );
    expect(parts.body).toEqual({ email: 'a@b.co' });
  });

  it('applies messages keyed by prefixed paths, and the part schemas own messages', async () => {
    const error = await failure(
      validateRequestParts(
        {
          query: z.object({ page: z.coerce.number().min(1) }),
          body: withMessages(z.object({ name: z.string() }), { name: 'Give a name' }),
        },
        { params: {}, query: { page: '0' }, body: {}, headers: {} },
        { messages: { 'query.page.min': 'Pages start at {minimum}' } },
      ),
    );
    expect(error.fields).toEqual({
      'query.page': ['Pages start at 1'],
      'body.name': ['Give a name'],
    });
  });

  it('caps the listed errors across parts', async () => {
    const error = await failure(
      validateRequestParts(
        { query: z.object({ a: z.string(), b: z.string() }), body: z.object({ c: z.string() }) },
        { params: {}, query: {}, body: {}, headers: {} },
        { maxErrors: 2 },
      ),
    );
    expect(error.errors).toHaveLength(2);
    expect(error.details).toMatchObject({ omitted: 1 });
    expect(error.message).toContain('(3 errors)');
  });

  it('passes the context to rules', async () => {
    const seen: unknown[] = [];
    const body = z.object({
      a: z.string().check(
        asyncRule('ctx', async (_value, ctx) => {
          seen.push(ctx.context.user);
          return true;
        }),
      ),
    });
    await validateRequestParts(
      { body },
      { params: {}, query: {}, body: { a: 'x' }, headers: {} },
      {
        context: { user: 42 },
      },
    );
    expect(seen).toEqual([42]);
  });

  it('rejects (does not throw) when a part is not a schema', async () => {
    const promise = validateRequestParts({ body: {} as StandardSchemaV1 }, good);
    await expect(promise).rejects.toThrow(E_INVALID_SCHEMA);
    await expect(promise).rejects.toThrow('Expected a Standard Schema for the body of a request');
  });
});

describe('createRequestValidator()', () => {
  const input: RequestParts = { params: {}, query: { q: 'keel' }, body: undefined, headers: {} };

  it('answers synchronously when every schema is synchronous', () => {
    const check = createRequestValidator({ query: z.object({ q: z.string() }) });
    const parts = check(input);
    expect(parts).not.toBeInstanceOf(Promise);
    expect(parts).toEqual(input);
  });

  it('throws the ValidationError synchronously then', () => {
    const check = createRequestValidator({ query: z.object({ q: z.number() }) });
    expect(() => check(input)).toThrow(ValidationError);
  });

  it('returns a promise when a schema is asynchronous', async () => {
    const check = createRequestValidator({
      query: z.object({ q: z.string().check(asyncRule('ok', async () => true)) }),
    });
    const parts = check(input);
    expect(parts).toBeInstanceOf(Promise);
    await expect(parts).resolves.toEqual(input);
  });

  it('checks the schemas once, when compiled', () => {
    expect(() => createRequestValidator({ headers: 'nope' as never })).toThrow(E_INVALID_SCHEMA);
  });
});
