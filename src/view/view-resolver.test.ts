import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E_VIEW_INVALID_NAME,
  E_VIEW_INVALID_NAMESPACE,
  E_VIEW_NOT_FOUND,
  E_VIEW_UNKNOWN_NAMESPACE,
} from './errors.js';
import { ViewResolver } from './view-resolver.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-view-resolver-'));
  await mkdir(join(dir, 'app', 'pages'), { recursive: true });
  await mkdir(join(dir, 'one'), { recursive: true });
  await mkdir(join(dir, 'two'), { recursive: true });
  await writeFile(join(dir, 'app', 'pages', 'home.eta'), 'home');
  await writeFile(join(dir, 'app', 'mail.txt.tpl'), 'mail');
  await writeFile(join(dir, 'two', 'only-in-two.eta'), 'two');
  await writeFile(join(dir, 'one', 'shared.eta'), 'one');
  await writeFile(join(dir, 'two', 'shared.eta'), 'two');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ViewResolver', () => {
  it('parses names with and without a namespace', () => {
    const resolver = new ViewResolver(join(dir, 'app'));
    expect(resolver.parse('pages/home')).toEqual({ namespace: undefined, path: 'pages/home' });
    expect(resolver.parse('shop-2::cart/show')).toEqual({
      namespace: 'shop-2',
      path: 'cart/show',
    });
  });

  it.each([
    ['', 'non-empty'],
    ['a'.repeat(1025), 'longer than 1024'],
    ['a\0b', 'null byte'],
    ['a\nb', 'control character'],
    ['a::b::c', 'more than one "::"'],
    ['9x::a', 'invalid namespace'],
    ['a\\b', 'use "/"'],
    ['/etc/passwd', 'absolute'],
    ['c:/boot.ini', 'absolute'],
    ['x/../../y', '".." segments'],
    ['./x', '"." segments'],
    ['x/', 'empty path segment'],
  ])('refuses %j (%s)', (name, reason) => {
    const resolver = new ViewResolver(join(dir, 'app'));
    expect(() => resolver.parse(name)).toThrow(E_VIEW_INVALID_NAME);
    expect(() => resolver.parse(name)).toThrow(reason);
  });

  it('refuses a name that is not a string', () => {
    const resolver = new ViewResolver(join(dir, 'app'));
    expect(() => resolver.parse(42 as unknown as string)).toThrow(E_VIEW_INVALID_NAME);
  });

  it('lists candidates: the app override folder first, then the namespace folders in order', () => {
    const resolver = new ViewResolver(join(dir, 'app'));
    resolver.addNamespace('mod', join(dir, 'one'));
    resolver.addNamespace('mod', join(dir, 'two'));
    resolver.addNamespace('mod', join(dir, 'two'));
    expect(resolver.candidates('mod::shared')).toEqual([
      join(dir, 'app', 'vendor', 'mod', 'shared.eta'),
      join(dir, 'one', 'shared.eta'),
      join(dir, 'two', 'shared.eta'),
    ]);
    expect(resolver.resolve('mod::shared')).toBe(join(dir, 'one', 'shared.eta'));
    expect(resolver.resolve('mod::only-in-two')).toBe(join(dir, 'two', 'only-in-two.eta'));
  });

  it('honours a custom extension', () => {
    const resolver = new ViewResolver(join(dir, 'app'), { extension: '.tpl' });
    expect(resolver.resolve('mail.txt')).toBe(join(dir, 'app', 'mail.txt.tpl'));
    expect(resolver.has('pages/home')).toBe(false);
  });

  it('suggests the nearest existing view', () => {
    const resolver = new ViewResolver(join(dir, 'app'));
    expect(() => resolver.resolve('pages/hom')).toThrow('Did you mean "pages/home"?');
    const error = (() => {
      try {
        resolver.resolve('zzzzzzzzzz');
      } catch (e) {
        return e;
      }
    })();
    expect(E_VIEW_NOT_FOUND.is(error)).toBe(true);
    expect((error as Error).message).not.toContain('Did you mean');
  });

  it('resolves relative roots against the working directory', () => {
    const resolver = new ViewResolver('relative/views');
    expect(resolver.candidates('x')).toEqual([resolve('relative/views/x.eta')]);
  });

  it('caches resolutions only when asked to, and forgets them on clearCache', async () => {
    const cached = new ViewResolver(join(dir, 'app'), { cache: true });
    const fresh = new ViewResolver(join(dir, 'app'));
    const file = join(dir, 'app', 'late.eta');
    expect(cached.has('late')).toBe(false);
    await writeFile(file, 'late');
    expect(fresh.has('late')).toBe(true);
    expect(cached.has('late')).toBe(true);
    await rm(file);
    expect(cached.has('late')).toBe(true);
    cached.clearCache();
    expect(cached.has('late')).toBe(false);
  });

  it('refuses invalid namespaces and folders, and names unknown namespaces', () => {
    const resolver = new ViewResolver(join(dir, 'app'));
    expect(() => resolver.addNamespace('bad name', dir)).toThrow(E_VIEW_INVALID_NAMESPACE);
    expect(() => resolver.addNamespace('', dir)).toThrow(E_VIEW_INVALID_NAMESPACE);
    expect(() => resolver.addNamespace('ok', '')).toThrow(E_VIEW_INVALID_NAMESPACE);
    expect(() => resolver.addNamespace('ok', 'a\0b')).toThrow(E_VIEW_INVALID_NAMESPACE);
    expect(() => resolver.resolve('ghost::x')).toThrow(E_VIEW_UNKNOWN_NAMESPACE);
    expect(() => resolver.resolve('ghost::x')).toThrow('none registered');
  });
});
