import { describe, expect, it } from 'vitest';
import { KeelError } from '../../support/index.js';
import {
  addQueryPairs,
  defaultQueryLimits,
  parseQuery,
  QueryBuilder,
  type QueryLimits,
} from './query-parser.js';

/** Plain-object copy, so toEqual compares shapes regardless of the null prototype. */
function parse(search: string, limits?: QueryLimits): unknown {
  return JSON.parse(JSON.stringify(parseQuery(search, limits)));
}

function errorOf(run: () => unknown): KeelError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeelError);
    return error as KeelError;
  }
  throw new Error('expected an error');
}

describe('parseQuery: flat parameters', () => {
  it('parses pairs with or without the leading "?"', () => {
    expect(parse('?fields=a,b&page=2')).toEqual({ fields: 'a,b', page: '2' });
    expect(parse('fields=a,b')).toEqual({ fields: 'a,b' });
  });

  it('returns an empty null-prototype object for empty input', () => {
    const result = parseQuery('');
    expect(Object.getPrototypeOf(result)).toBeNull();
    expect(Object.keys(result)).toEqual([]);
    expect(Object.keys(parseQuery('?'))).toEqual([]);
  });

  it('gives keys without "=" an empty value and skips empty keys and pairs', () => {
    expect(parse('flag&=orphan&&x=1&')).toEqual({ flag: '', x: '1' });
  });

  it('keeps "=" inside values', () => {
    expect(parse('token=a=b==')).toEqual({ token: 'a=b==' });
  });

  it('decodes "+" as space and percent-escapes, in keys and values', () => {
    expect(parse('q=hello+world&sum=1%2B1&caf%C3%A9=%E2%9C%93')).toEqual({
      q: 'hello world',
      sum: '1+1',
      café: '✓',
    });
  });

  it('turns repeated keys into arrays, in order', () => {
    expect(parse('a=1&a=2&a=3&b=x')).toEqual({ a: ['1', '2', '3'], b: 'x' });
  });

  it('returns null-prototype objects all the way down', () => {
    const result = parseQuery('a[b][c]=1');
    const a = result.a as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBeNull();
    expect(Object.getPrototypeOf(a)).toBeNull();
    expect(Object.getPrototypeOf(a.b)).toBeNull();
  });
});

describe('parseQuery: brackets', () => {
  it('appends with "[]"', () => {
    expect(parse('tags[]=a&tags[]=b')).toEqual({ tags: ['a', 'b'] });
    expect(parse('tags[]=only')).toEqual({ tags: ['only'] });
  });

  it('nests objects', () => {
    expect(parse('a[b][c]=1&a[b][d]=2&a[e]=3')).toEqual({ a: { b: { c: '1', d: '2' }, e: '3' } });
  });

  it('decodes percent-encoded brackets before splitting', () => {
    expect(parse('a%5Bb%5D=1')).toEqual({ a: { b: '1' } });
  });

  it('builds lists of objects from indexes', () => {
    expect(parse('items[0][name]=x&items[0][qty]=2&items[1][name]=y')).toEqual({
      items: [{ name: 'x', qty: '2' }, { name: 'y' }],
    });
  });

  it('orders by index and compacts sparse indexes', () => {
    expect(parse('a[1]=second&a[0]=first')).toEqual({ a: ['first', 'second'] });
    expect(parse('a[5]=x')).toEqual({ a: ['x'] });
    expect(parse('a[3]=x&a[9]=y&a[]=z')).toEqual({ a: ['x', 'y', 'z'] });
    expect(parse('a[7][b]=x')).toEqual({ a: [{ b: 'x' }] });
  });

  it('lets a repeated index correct the earlier value', () => {
    expect(parse('a[0]=old&a[0]=new')).toEqual({ a: ['new'] });
  });

  it('turns a list into an object when a named key joins it', () => {
    expect(parse('a[0]=x&a[b]=y')).toEqual({ a: { 0: 'x', b: 'y' } });
  });

  it('treats leading zeros and long numbers as names, not indexes', () => {
    expect(parse('a[01]=x')).toEqual({ a: { '01': 'x' } });
    expect(parse('a[1234567890]=x')).toEqual({ a: { 1234567890: 'x' } });
  });

  it('takes badly formed brackets literally', () => {
    expect(parse('a[b=1')).toEqual({ 'a[b': '1' });
    expect(parse('a[b]c=1')).toEqual({ 'a[b]c': '1' });
    expect(parse('[a]=1')).toEqual({ '[a]': '1' });
    expect(parse('a[b[c]]=1')).toEqual({ 'a[b[c]]': '1' });
    expect(parse('a]=1')).toEqual({ 'a]': '1' });
    expect(parse('a[b]c]=1')).toEqual({ 'a[b]c]': '1' });
  });

  it('appends a plain repeat to an indexed list', () => {
    expect(parse('a[0]=x&a=y')).toEqual({ a: ['x', 'y'] });
  });
});

describe('parseQuery: limits', () => {
  it('has the documented defaults', () => {
    expect(defaultQueryLimits).toMatchObject({ maxKeys: 1000, maxDepth: 5, maxArrayLength: 100 });
  });

  it('allows maxDepth levels and refuses one more with E_QUERY_TOO_DEEP', () => {
    expect(parse('a[b][c][d][e][f]=x')).toEqual({ a: { b: { c: { d: { e: { f: 'x' } } } } } });
    const error = errorOf(() => parseQuery('a[b][c][d][e][f][g]=x'));
    expect(error.code).toBe('E_QUERY_TOO_DEEP');
    expect(error.status).toBe(400);
    expect(error.message).toContain('a[b][c][d][e][f][g]');
    expect(errorOf(() => parseQuery('a[b][c]=1', { maxDepth: 1 })).code).toBe('E_QUERY_TOO_DEEP');
  });

  it('refuses more than maxKeys pairs with E_QUERY_TOO_MANY_PARAMS', () => {
    const thousand = Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join('&');
    expect(Object.keys(parseQuery(thousand))).toHaveLength(1000);
    const error = errorOf(() => parseQuery(`${thousand}&one=more`));
    expect(error.code).toBe('E_QUERY_TOO_MANY_PARAMS');
    expect(error.status).toBe(400);
    expect(errorOf(() => parseQuery('a=1&b=2&c=3', { maxKeys: 2 })).details).toEqual({
      maxKeys: 2,
    });
  });

  it('counts dropped and repeated keys against maxKeys too', () => {
    expect(() => parseQuery('__proto__=1&__proto__=2&a=1', { maxKeys: 2 })).toThrow(
      /More than 2 parameters/,
    );
  });

  it('refuses arrays longer than maxArrayLength with E_QUERY_ARRAY_TOO_LONG', () => {
    const limits = { maxArrayLength: 3 };
    expect(parse('a=1&a=2&a=3', limits)).toEqual({ a: ['1', '2', '3'] });
    for (const search of ['a=1&a=2&a=3&a=4', 'a[]=1&a[]=2&a[]=3&a[]=4', 'a[3]=x', 'a[3][b]=x']) {
      const error = errorOf(() => parseQuery(search, limits));
      expect(error.code).toBe('E_QUERY_ARRAY_TOO_LONG');
      expect(error.status).toBe(400);
    }
    expect(errorOf(() => parseQuery('a=1&a=2', { maxArrayLength: 1 })).code).toBe(
      'E_QUERY_ARRAY_TOO_LONG',
    );
  });

  it('refuses strings longer than maxLength with a 414', () => {
    const error = errorOf(() => parseQuery('a=12345', { maxLength: 5 }));
    expect(error.code).toBe('E_QUERY_TOO_LONG');
    expect(error.status).toBe(414);
    expect(parse('a=1', { maxLength: 5 })).toEqual({ a: '1' });
  });
});

describe('parseQuery: hostile input', () => {
  it('drops prototype-poisoning keys at any depth and pollutes nothing', () => {
    const result = parse(
      '__proto__[polluted]=1&constructor[prototype][polluted]=1&prototype=1&a[__proto__][x]=1&a[ok]=2&b[constructor]=3',
    );
    expect(result).toEqual({ a: { ok: '2' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('treats names of Object.prototype members as ordinary keys', () => {
    expect(parse('toString=1&toString=2&hasOwnProperty=x&a[valueOf]=1&a[valueOf]=2')).toEqual({
      toString: ['1', '2'],
      hasOwnProperty: 'x',
      a: { valueOf: ['1', '2'] },
    });
    expect(parse('a[0]=x&a[toString]=y')).toEqual({ a: { 0: 'x', toString: 'y' } });
  });

  it('drops a plain "__proto__" key', () => {
    const result = parseQuery('__proto__=x&a=1');
    expect(Object.keys(result)).toEqual(['a']);
  });

  it('answers bad percent-encoding with E_MALFORMED_QUERY, never a URIError', () => {
    for (const search of ['a=%E0%A4%A', 'a=%', 'a=%zz', '%E0=1', 'a=%C3%28']) {
      const error = errorOf(() => parseQuery(search));
      expect(error.code).toBe('E_MALFORMED_QUERY');
      expect(error.status).toBe(400);
      expect(error).not.toBeInstanceOf(URIError);
    }
  });

  it('shortens a long badly encoded key in the message', () => {
    const error = errorOf(() => parseQuery(`${'k'.repeat(60)}%ZZ=1`));
    expect(error.message).toContain(`"${'k'.repeat(40)}…"`);
  });

  it('names the key but not the value when a value is badly encoded', () => {
    const error = errorOf(() => parseQuery('secret=s3cr3t%ZZ'));
    expect(error.message).toContain('"secret"');
    expect(error.message).not.toContain('s3cr3t');
  });

  it('refuses a key used both as a value and as an object', () => {
    for (const search of ['a=1&a[b]=2', 'a[b]=1&a=2', 'a[b]=1&a[]=2', 'a[0][b]=1&a[0]=2']) {
      const error = errorOf(() => parseQuery(search));
      expect(error.code).toBe('E_MALFORMED_QUERY');
      expect(error.message).toContain('mixes');
    }
  });

  it('refuses "[]" before the end of a key and explains the alternative', () => {
    const error = errorOf(() => parseQuery('items[][name]=x'));
    expect(error.code).toBe('E_MALFORMED_QUERY');
    expect(error.message).toContain('items[0][name]');
  });

  it('handles a long flat query with many distinct keys', () => {
    const search = Array.from({ length: 500 }, (_, i) => `field${i}=${'x'.repeat(50)}`).join('&');
    const result = parseQuery(search);
    expect(Object.keys(result)).toHaveLength(500);
    expect(result.field499).toBe('x'.repeat(50));
  });
});

describe('parseQuery: flat strings take a shorter path with the same outcome', () => {
  /** The tree builder's answer, which every string got before the flat path existed. */
  function viaBuilder(search: string, limits?: QueryLimits): unknown {
    const builder = new QueryBuilder(limits);
    addQueryPairs(builder, search);
    return builder.result();
  }

  function outcome(run: () => unknown): unknown {
    try {
      const value = run();
      return { prototype: Object.getPrototypeOf(value), value: JSON.stringify(value) };
    } catch (error) {
      return { code: (error as KeelError).code, message: (error as Error).message };
    }
  }

  const cases: Array<[string, QueryLimits?]> = [
    ['fields=name,email'],
    ['?page=2&per_page=50'],
    ['a=1&a=2&a=3&b=&c'],
    ['q=hello+world&x=%C3%A9t%C3%A9&=skipped&&'],
    ['toString=1&hasOwnProperty=2&valueOf=3'],
    ['__proto__=x&constructor=y&prototype=z&a=1'],
    ['a%5Bb%5D=1&c=2'],
    ['k%ZZ=1'],
    ['key=v%ZZ'],
    ['a=1&b=2&c=3', { maxKeys: 2 }],
    ['a=1&a=2&a=3', { maxArrayLength: 2 }],
    ['a=1&a=2', { maxArrayLength: 1 }],
  ];

  it.each(cases)('%s', (search, limits) => {
    expect(outcome(() => parseQuery(search, limits))).toEqual(
      outcome(() => viaBuilder(search, limits)),
    );
  });
});
