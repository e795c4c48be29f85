import { describe, expect, it } from 'vitest';
import { isKeelError } from '../../support/index.js';
import { APP_ENVS, lookupAppEnv, normalizeAppEnv, parseBooleanString } from './app-env.js';
import { APP_KEY_BYTES, generateAppKey, parseAppKey } from './app-key.js';
import { E_APP_ENV_INVALID, E_APP_KEY_INVALID } from './errors.js';

describe('normalizeAppEnv', () => {
  it.each([
    ['production', 'production'],
    ['prod', 'production'],
    ['PROD', 'production'],
    ['staging', 'staging'],
    ['Stage', 'staging'],
    ['development', 'development'],
    [' dev ', 'development'],
    ['TEST', 'test'],
  ])('%j → %s', (input, expected) => {
    expect(normalizeAppEnv(input)).toBe(expected);
  });

  it('rejects anything else, listing the accepted values and a suggestion', () => {
    let error: unknown;
    try {
      normalizeAppEnv('prodution');
    } catch (caught) {
      error = caught;
    }
    expect(E_APP_ENV_INVALID.is(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Unknown APP_ENV "prodution"; expected one of production, staging, development, test (did you mean "production"?)',
    );
    expect(() => normalizeAppEnv('local')).toThrow(/expected one of production, staging/);
    expect(() => normalizeAppEnv('local')).not.toThrow(/did you mean/);
  });

  it('does not treat Object.prototype keys as environments', () => {
    expect(lookupAppEnv('constructor')).toBeUndefined();
    expect(lookupAppEnv('__proto__')).toBeUndefined();
    expect(() => normalizeAppEnv('toString')).toThrow(E_APP_ENV_INVALID);
  });

  it('lists the canonical names', () => {
    expect(APP_ENVS).toEqual(['production', 'staging', 'development', 'test']);
  });
});

describe('parseBooleanString', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    [' On ', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('%j → %s', (input, expected) => {
    expect(parseBooleanString(input)).toBe(expected);
  });

  it.each(['', 'maybe', '2', 'y', 'truee'])('%j → undefined', (input) => {
    expect(parseBooleanString(input)).toBeUndefined();
  });
});

describe('app keys', () => {
  it('generates distinct base64 keys of 32 bytes that parse back', () => {
    const a = generateAppKey();
    const b = generateAppKey();
    expect(a).toMatch(/^base64:[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    const bytes = parseAppKey(a);
    expect(bytes).toBeInstanceOf(Buffer);
    expect(bytes.length).toBe(APP_KEY_BYTES);
    expect(`base64:${bytes.toString('base64')}`).toBe(a);
    expect(parseAppKey(`  ${a}\n`).equals(bytes)).toBe(true);
  });

  const valid = generateAppKey();
  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    [valid.slice('base64:'.length), 'it must start with "base64:"'],
    ['hex:00112233', 'it must start with "base64:"'],
    ['base64:', 'the part after "base64:" is not valid base64'],
    ['base64:not*base64!', 'the part after "base64:" is not valid base64'],
    ['base64:abc', 'the part after "base64:" is not valid base64'],
    [`base64:${Buffer.alloc(16).toString('base64')}`, 'it decodes to 16 bytes; 32 are required'],
    [`base64:${Buffer.alloc(64).toString('base64')}`, 'it decodes to 64 bytes; 32 are required'],
  ])('rejects %j: %s', (key, reason) => {
    expect(() => parseAppKey(key)).toThrow(`Invalid APP_KEY: ${reason}`);
  });

  it('never puts the key in the error', () => {
    const secret = `base64:${Buffer.from('a-secret-of-the-wrong-size').toString('base64')}`;
    try {
      parseAppKey(secret);
      expect.unreachable();
    } catch (error) {
      expect(isKeelError(error, E_APP_KEY_INVALID.code)).toBe(true);
      expect(JSON.stringify(error)).not.toContain(secret.slice(7));
    }
  });

  it('rejects a non-string at runtime', () => {
    expect(() => parseAppKey(undefined as unknown as string)).toThrow(E_APP_KEY_INVALID);
  });
});
