import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import * as validation from './index.js';
import {
  type FieldError,
  rules,
  type ValidatedRequestParts,
  type ValidationResult,
  validate,
  validateRequestParts,
  validateSync,
} from './index.js';

describe('keel/validation', () => {
  it('exposes the API the HTTP kernel and the database layer build on', () => {
    for (const name of [
      'validate',
      'validateSync',
      'validateOrThrow',
      'validateRequestParts',
      'createRequestValidator',
      'ValidationError',
      'E_VALIDATION_FAILED',
      'messages',
      'withMessages',
      'setGlobalMessages',
      'defineRule',
      'rule',
      'asyncRule',
      'rules',
    ]) {
      expect(validation, name).toHaveProperty(name);
    }
    expect(rules.async).toBe(validation.asyncRule);
  });

  it('types results from the schema', () => {
    const schema = z.object({ id: z.coerce.number(), tags: z.array(z.string()).default([]) });
    expectTypeOf(validateSync(schema, {})).toEqualTypeOf<
      ValidationResult<{ id: number; tags: string[] }>
    >();
    expectTypeOf(validate(rules.iban(), '')).resolves.toEqualTypeOf<ValidationResult<string>>();
    expectTypeOf(rules.latitude()).toEqualTypeOf<z.ZodNumber>();
    expectTypeOf<FieldError>().toEqualTypeOf<{
      path: string;
      message: string;
      rule?: string;
      code?: string;
    }>();
  });

  it('types validated request parts from the route schemas', () => {
    const schemas = {
      params: z.object({ id: z.coerce.number() }),
      body: z.object({ lines: z.array(z.object({ sku: z.string(), qty: z.int() })) }),
    };
    type Input = {
      params: Record<string, string>;
      query: URLSearchParams;
      body: unknown;
      headers: Record<string, string>;
    };
    expectTypeOf<ValidatedRequestParts<typeof schemas, Input>>().toEqualTypeOf<{
      params: { id: number };
      query: URLSearchParams;
      body: { lines: { sku: string; qty: number }[] };
      headers: Record<string, string>;
    }>();
    const other: StandardSchemaV1<unknown, { q: string }> = {
      '~standard': { version: 1, vendor: 'x', validate: () => ({ value: { q: '' } }) },
    };
    expectTypeOf(
      validateRequestParts({ query: other }, { params: {}, query: {}, body: null, headers: {} }),
    ).resolves.toEqualTypeOf<{ params: {}; query: { q: string }; body: null; headers: {} }>();
  });
});
