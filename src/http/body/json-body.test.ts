import { describe, expect, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import { locateJsonError, parseJsonText } from './json-body.js';

function errorOf(text: string): KeelError {
  try {
    parseJsonText(text);
  } catch (error) {
    expect(error).toBeInstanceOf(KeelError);
    return error as KeelError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('parseJsonText', () => {
  it('parses any JSON value', () => {
    expect(parseJsonText('{"a":[1,2,{"b":null}]}')).toEqual({ a: [1, 2, { b: null }] });
    expect(parseJsonText('[true,false]')).toEqual([true, false]);
    expect(parseJsonText('"text"')).toBe('text');
    expect(parseJsonText(' 42 ')).toBe(42);
  });

  it('ignores a leading byte-order mark', () => {
    expect(parseJsonText('\ufeff{"a":1}')).toEqual({ a: 1 });
  });

  it('refuses "__proto__" keys with E_PROTOTYPE_POISONING', () => {
    for (const text of [
      '{"__proto__":{"x":1}}',
      '{"a":{"b":[{"__proto__":{"admin":true}}]}}',
      '{"\\u005f_proto__":{"x":1}}',
    ]) {
      const error = errorOf(text);
      expect(error.code).toBe('E_PROTOTYPE_POISONING');
      expect(error.status).toBe(400);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses "constructor.prototype" with E_PROTOTYPE_POISONING', () => {
    expect(errorOf('{"constructor":{"prototype":{}}}').code).toBe('E_PROTOTYPE_POISONING');
    expect(errorOf('[{"constructor":{"prototype":{"x":1}}}]').code).toBe('E_PROTOTYPE_POISONING');
  });

  it('accepts a harmless "constructor" key', () => {
    expect(parseJsonText('{"constructor":"Car","prototype":1}')).toEqual({
      constructor: 'Car',
      prototype: 1,
    });
  });

  it('reports malformed JSON with line, column and reason, without echoing the body', () => {
    const error = errorOf('{\n  "password": "hunter2",\n  "a": }');
    expect(error.code).toBe('E_MALFORMED_JSON');
    expect(error.status).toBe(400);
    expect(error.details).toEqual({
      position: 34,
      line: 3,
      column: 8,
      reason: 'unexpected character "}"',
    });
    expect(error.message).toBe(
      'Malformed JSON body at line 3, column 8 (position 34): unexpected character "}"',
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('reports the end of input for truncated bodies', () => {
    expect(errorOf('{"a":1').details).toMatchObject({
      position: 6,
      reason: 'unexpected end of input',
    });
    expect(errorOf('').details).toMatchObject({ position: 0, reason: 'unexpected end of input' });
  });
});

describe('locateJsonError', () => {
  it('returns undefined for valid JSON', () => {
    for (const text of [
      '{}',
      '[]',
      ' { "a" : [ 1 , -2.5e+3 , 0 , "\\u00e9\\n" , true , false , null ] } ',
      '"x"',
      '0.5E-2',
      '[[[]]]',
    ]) {
      expect(locateJsonError(text), text).toBeUndefined();
    }
  });

  const cases: Array<[string, number, string]> = [
    ['{"a" 1}', 5, 'expected ":", got "1"'],
    ['{a:1}', 1, 'expected a double-quoted property name, got "a"'],
    ['{"a":1,}', 7, 'expected a double-quoted property name, got "}"'],
    ['[1,2,]', 5, 'unexpected character "]"'],
    ['[1 2]', 3, 'expected "," or "]", got "2"'],
    ['{"a":1 "b":2}', 7, 'expected "," or "}", got """'],
    ['{"a":1}x', 7, 'unexpected "x" after the JSON value'],
    ['"abc', 4, 'unterminated string'],
    ['"a\u0001"', 2, 'control character U+0001 in a string'],
    ['"\\x"', 1, 'invalid escape sequence'],
    ['"\\u12G4"', 1, 'invalid \\u escape'],
    ['01', 1, 'unexpected "1" after the JSON value'],
    ['-', 1, 'invalid number'],
    ['1.', 2, 'invalid number'],
    ['1e', 2, 'invalid number'],
    ['tru', 0, 'unexpected character "t"'],
    ["{'a':1}", 1, `expected a double-quoted property name, got "'"`],
    ['[', 1, 'unexpected end of input'],
  ];
  it.each(cases)('locates the error in %j', (text, position, reason) => {
    expect(locateJsonError(text)).toMatchObject({ position, reason });
  });

  it('survives nesting far deeper than the call stack', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(199_999)}`;
    expect(locateJsonError(deep)).toMatchObject({ reason: 'unexpected end of input' });
  });
});
