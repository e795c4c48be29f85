import { describe, expect, it } from 'vitest';
import { E_INVALID_ROUTE } from './errors.js';
import {
  expandOptional,
  joinPaths,
  MAX_ROUTE_PATH_LENGTH,
  parseRoutePath,
  trimTrailingSlash,
  withPattern,
} from './route-path.js';

function reason(path: string): string {
  try {
    parseRoutePath(path);
  } catch (error) {
    expect(E_INVALID_ROUTE.is(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`expected ${path} to be rejected`);
}

describe('parseRoutePath', () => {
  it('splits static parts, parameters, patterns and the wildcard', () => {
    const parsed = parseRoutePath('/users/:id(^\\d+$)/files/*');
    expect(parsed.parts.map((p) => p.kind)).toEqual(['static', 'param', 'static', 'wildcard']);
    expect(parsed.params).toMatchObject([{ name: 'id', pattern: '^\\d+$', optional: false }]);
    expect(parsed.wildcard).toBe(true);
  });

  it('reads several parameters in one segment and a literal colon', () => {
    const parsed = parseRoutePath('/at/:lat-:lng/time::now');
    expect(parsed.params.map((p) => p.name)).toEqual(['lat', 'lng']);
    expect(parsed.parts.at(-1)).toEqual({ kind: 'static', text: '/time:now' });
  });

  it('accepts an optional last parameter', () => {
    const parsed = parseRoutePath('/posts/:slug?');
    expect(parsed.params[0]?.optional).toBe(true);
    expect(expandOptional('/posts/:slug?', parsed)).toEqual(['/posts/:slug', '/posts']);
    const root = '/:lang?';
    expect(expandOptional(root, parseRoutePath(root))).toEqual(['/:lang', '/']);
    const patterned = '/p/:id(^\\d+$)?';
    expect(expandOptional(patterned, parseRoutePath(patterned))).toEqual(['/p/:id(^\\d+$)', '/p']);
    expect(expandOptional('/plain', parseRoutePath('/plain'))).toEqual(['/plain']);
  });

  it('accepts unicode static text', () => {
    expect(parseRoutePath('/café/:id').params).toHaveLength(1);
  });

  it.each([
    ['products', 'must start with "/"'],
    ['', 'must start with "/"'],
    ['/a b', 'space or a control character'],
    ['/a\tb', 'space or a control character'],
    ['/a\u0000b', 'space or a control character'],
    ['/a?x=1', 'contains "?"'],
    ['/a#frag', 'contains "#"'],
    ['/caf%C3%A9', 'contains "%"'],
    ['/a//b', 'empty segment'],
    ['/a/../b', 'a "." or ".." segment'],
    ['/a/./b', 'a "." or ".." segment'],
    ['/a/..', 'a "." or ".." segment'],
    ['/users/:', 'has no name'],
    ['/users/:/x', 'has no name'],
    ['/users/:id/:id', 'appears twice'],
    ['/users/:id(^\\d+$', 'unbalanced "("'],
    ['/users/:id([)', 'not a valid regular expression'],
    ['/users/(x)', 'outside a parameter pattern'],
    ['/users/x)', 'outside a parameter pattern'],
    ['/files/*/x', 'wildcard "*" must be the last'],
    ['/posts/:slug?/more', 'must be the last segment'],
    ['/posts/x-:slug?', 'must fill its segment'],
  ])('rejects %j (%s)', (path, expected) => {
    const message = reason(path);
    expect(message).toContain(expected);
    expect(message).toContain('Invalid route');
  });

  it('rejects non-strings and over-long paths', () => {
    expect(reason(42 as unknown as string)).toContain('must be a string');
    expect(reason(`/${'a'.repeat(MAX_ROUTE_PATH_LENGTH)}`)).toContain('longer than');
  });

  it('names the path in the error details', () => {
    try {
      parseRoutePath('/a b');
    } catch (error) {
      expect((error as InstanceType<typeof E_INVALID_ROUTE>).details).toMatchObject({
        path: '/a b',
      });
      expect((error as InstanceType<typeof E_INVALID_ROUTE>).status).toBe(500);
    }
  });
});

describe('joinPaths and trimTrailingSlash', () => {
  it('joins prefixes without doubling or leaving slashes', () => {
    expect(joinPaths('/api', '/users')).toBe('/api/users');
    expect(joinPaths('/api/', '/users')).toBe('/api/users');
    expect(joinPaths('/api', '/')).toBe('/api');
    expect(joinPaths('', '/')).toBe('/');
    expect(joinPaths('', '')).toBe('/');
    expect(joinPaths('', '/x')).toBe('/x');
  });

  it('trims one trailing slash but keeps the root', () => {
    expect(trimTrailingSlash('/a/')).toBe('/a');
    expect(trimTrailingSlash('/')).toBe('/');
    expect(trimTrailingSlash('/a')).toBe('/a');
  });
});

describe('withPattern', () => {
  it('inserts a pattern after the parameter name', () => {
    expect(withPattern('/u/:id/x', 'id', /^\d+$/)).toBe('/u/:id(^\\d+$)/x');
    expect(withPattern('/u/:id', 'id', '[a-z]+')).toBe('/u/:id([a-z]+)');
    expect(withPattern('/p/:slug?', 'slug', /\w+/)).toBe('/p/:slug(\\w+)?');
  });

  it('refuses unknown parameters, double patterns, flags and broken patterns', () => {
    expect(() => withPattern('/u/:id', 'nope', /x/)).toThrow('no parameter ":nope"');
    expect(() => withPattern('/u/:id(\\d+)', 'id', /x/)).toThrow('already has a pattern');
    expect(() => withPattern('/u/:id', 'id', /x/i)).toThrow('has flags (i)');
    expect(() => withPattern('/u/:id', 'id', '[')).toThrow('not a valid regular expression');
  });
});
