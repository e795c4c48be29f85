import { describe, expect, it } from 'vitest';
import { isKeelError, KeelError } from '../support/index.js';
import { E_VALIDATION_FAILED, type FieldError, ValidationError } from './errors.js';

describe('ValidationError', () => {
  const errors: FieldError[] = [
    { path: 'body.email', message: 'Invalid email address', rule: 'email', code: 'invalid_format' },
    { path: 'body.items.0.qty', message: 'Too small', rule: 'min', code: 'too_small' },
    { path: 'body.items.0.qty', message: 'Not even', rule: 'even', code: 'custom' },
    { path: '', message: 'Root problem' },
  ];

  it('is a 422 Keel error carrying every field error', () => {
    const error = new ValidationError(errors);
    expect(error).toBeInstanceOf(KeelError);
    expect(isKeelError(error, 'E_VALIDATION_FAILED')).toBe(true);
    expect(E_VALIDATION_FAILED.is(error)).toBe(true);
    expect(ValidationError.is(new Error('x'))).toBe(false);
    expect(error.status).toBe(422);
    expect(error.errors).toBe(errors);
    expect(error.toJSON()).toMatchObject({
      code: 'E_VALIDATION_FAILED',
      status: 422,
      details: { errors },
    });
  });

  it('summarizes the first errors in its message', () => {
    expect(new ValidationError(errors).message).toBe(
      'Validation failed (4 errors): body.email: Invalid email address; body.items.0.qty: Too small; body.items.0.qty: Not even; and 1 more',
    );
    expect(new ValidationError([errors[3]!]).message).toBe(
      'Validation failed (1 error): Root problem',
    );
    expect(new ValidationError([]).message).toBe('Validation failed');
    expect(new ValidationError([errors[0]!], { omitted: 9 }).message).toMatch(
      /\(10 errors\).*and 9 more$/,
    );
  });

  it('groups messages by path for forms', () => {
    expect(new ValidationError(errors).fields).toEqual({
      'body.email': ['Invalid email address'],
      'body.items.0.qty': ['Too small', 'Not even'],
      '': ['Root problem'],
    });
  });
});
