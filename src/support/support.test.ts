import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  deepFreeze,
  deepMerge,
  defineError,
  deprecate,
  E_INVALID_DURATION,
  editDistance,
  getPath,
  isKeelError,
  isPlainObject,
  KeelError,
  parseDuration,
  resetDeprecations,
  setPath,
  suggest,
} from './index.js';

describe('defineError', () => {
  const E_SAMPLE = defineError('E_SAMPLE', (name: string) => `Sample ${name} failed`, {
    status: 409,
    help: 'Do the other thing.',
    details: (name) => ({ name }),
  });

  it('builds errors carrying code, status, help and details', () => {
    const error = new E_SAMPLE('x');
    expect(error).toBeInstanceOf(KeelError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('E_SAMPLE');
    expect(error.name).toBe('E_SAMPLE');
    expect(error.message).toBe('Sample x failed');
    expect(error.status).toBe(409);
    expect(error.help).toBe('Do the other thing.');
    expect(error.details).toEqual({ name: 'x' });
    expect(E_SAMPLE.code).toBe('E_SAMPLE');
    expect(E_SAMPLE.status).toBe(409);
    expect(E_SAMPLE.is(error)).toBe(true);
    expect(E_SAMPLE.is(new Error('x'))).toBe(false);
    expect(isKeelError(error, 'E_SAMPLE')).toBe(true);
    expect(isKeelError(error, 'E_OTHER')).toBe(false);
    expect(error.toJSON()).toEqual({
      code: 'E_SAMPLE',
      message: 'Sample x failed',
      status: 409,
      help: 'Do the other thing.',
      details: { name: 'x' },
    });
  });

  it('attaches a cause without making it enumerable', () => {
    const cause = new Error('root');
    const error = new E_SAMPLE('y').withCause(cause);
    expect(error.cause).toBe(cause);
    expect(Object.keys(error)).not.toContain('cause');
  });

  it('defaults status to 500', () => {
    const E_X = defineError('E_X', () => 'x', { help: 'h' });
    expect(new E_X().status).toBe(500);
    expect(new KeelError('E_Y', 'y', { cause: 1 }).cause).toBe(1);
  });
});

describe('parseDuration', () => {
  it.each([
    [1500, 1500],
    ['250', 250],
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('parses %s', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each(['', 'abc', '10 parsecs', '5m garbage', '-1s'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(E_INVALID_DURATION);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-1)).toThrow(E_INVALID_DURATION);
    expect(() => parseDuration(Number.NaN)).toThrow(E_INVALID_DURATION);
  });
});

describe('objects', () => {
  it('deep merges plain objects, later wins, arrays replaced, poisoning keys dropped', () => {
    const merged = deepMerge<Record<string, unknown>>(
      { a: { b: 1, c: [1, 2] }, d: 1 },
      { a: { c: [3], e: 2 } },
      JSON.parse('{"__proto__": {"polluted": true}, "a": {"constructor": 1}}'),
      undefined,
    );
    expect(merged).toEqual({ a: { b: 1, c: [3], e: 2 }, d: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not share nested objects with its sources', () => {
    const source = { a: { b: 1 } };
    const merged = deepMerge<{ a: { b: number } }>(source);
    merged.a.b = 2;
    expect(source.a.b).toBe(1);
  });

  it('reads and writes dot paths', () => {
    const target: Record<string, unknown> = {};
    setPath(target, 'a.b.c', 1);
    setPath(target, '__proto__.x', 1);
    setPath(target, 'a.__proto__', 1);
    expect(target).toEqual({ a: { b: { c: 1 } } });
    expect(getPath(target, 'a.b.c')).toBe(1);
    expect(getPath(target, 'a.x.c')).toBeUndefined();
    expect(getPath(target, 'a.b.c.d')).toBeUndefined();
    expect(getPath(target, 'toString')).toBeUndefined();
  });

  it('freezes deeply and recognises plain objects', () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject(null)).toBe(false);
  });
});

describe('suggest', () => {
  it('finds the nearest candidate within a typo distance', () => {
    expect(suggest('confgi', ['config', 'logger', 'events'])).toBe('config');
    expect(suggest('LOGGER', ['config', 'logger'])).toBe('logger');
    expect(suggest('zzzzzz', ['config', 'logger'])).toBeUndefined();
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('deprecate', () => {
  afterEach(() => resetDeprecations());

  it('warns once per code with since/removeIn/replacement', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect(
      deprecate('KEEL_DEP_0001', 'old thing', {
        since: '1.0.0',
        removeIn: '2.0.0',
        replacement: 'new thing',
      }),
    ).toBe(true);
    expect(deprecate('KEEL_DEP_0001', 'old thing', { since: '1.0.0', removeIn: '2.0.0' })).toBe(
      false,
    );
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![1]).toMatchObject({
      type: 'DeprecationWarning',
      code: 'KEEL_DEP_0001',
      detail: 'Deprecated since 1.0.0, removed in 2.0.0. Use new thing instead.',
    });
    spy.mockRestore();
  });

  it('refuses malformed codes', () => {
    expect(() => deprecate('DEP1', 'x', { since: '1', removeIn: '2' })).toThrow(TypeError);
  });
});
