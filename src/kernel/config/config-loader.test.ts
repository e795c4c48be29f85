import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { defineConfig, loadConfigDir } from './config-loader.js';
import { env, isEnvRef } from './env-ref.js';
import { E_CONFIG_FILE_INVALID } from './errors.js';

describe('defineConfig', () => {
  it('returns its argument, typed', () => {
    const config = { pageSize: 20, port: env('PORT', 3000), tags: ['a'] };
    const defined = defineConfig(config);
    expect(defined).toBe(config);
    expectTypeOf(defined).toEqualTypeOf<{ pageSize: number; port: number; tags: string[] }>();
  });
});

describe('loadConfigDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = (name: string, content: string) => writeFile(join(dir, name), content);

  it('imports each file as a namespace from its default export', async () => {
    await write(
      'app.js',
      "export default { name: 'erp', port: { $env: 'PORT', default: 3000, cast: 'number' } };",
    );
    await write('catalog.mjs', 'export default { pageSize: 20, tags: ["a", "b"] };');
    await write(
      'mail-server.ts',
      "const from: string = 'noreply@example.com';\nexport default { from };",
    );
    const config = await loadConfigDir(dir);
    expect(Object.keys(config)).toEqual(['app', 'catalog', 'mail-server']);
    expect(config.catalog).toEqual({ pageSize: 20, tags: ['a', 'b'] });
    expect(config['mail-server']).toEqual({ from: 'noreply@example.com' });
    expect(isEnvRef(config.app!.port)).toBe(true);
  });

  it('skips declaration, hidden, test and unrelated files', async () => {
    await write('app.js', 'export default { a: 1 };');
    await write('app.d.ts', 'export declare const x: number;');
    await write('types.d.mts', 'export {};');
    await write('.hidden.js', 'throw new Error("must not load")');
    await write('app.test.js', 'throw new Error("must not load")');
    await write('app.spec.ts', 'throw new Error("must not load")');
    await write('README.md', '# config');
    await write('data.json', '{}');
    await mkdir(join(dir, 'nested.js'));
    expect(await loadConfigDir(dir)).toEqual({ app: { a: 1 } });
  });

  it('returns nothing for a missing directory', async () => {
    expect(await loadConfigDir(join(dir, 'absent'))).toEqual({});
  });

  it('names the directory when it cannot be read', async () => {
    await write('file', '');
    await expect(loadConfigDir(join(dir, 'file'))).rejects.toThrow(
      /cannot read the config directory \(ENOTDIR\)/,
    );
  });

  it.each([
    ['a file that fails to load', 'broken.js', 'export default {', /broken\.js: failed to load: /],
    [
      'a file that throws',
      'throws.js',
      'throw new Error("boom");',
      /throws\.js: failed to load: boom/,
    ],
    ['no default export', 'named.js', 'export const a = 1;', /named\.js: has no default export/],
    ['an array', 'list.js', 'export default [1, 2];', /list\.js: .*plain object, got an array/],
    ['a function', 'fn.js', 'export default () => ({});', /fn\.js: .*plain object, got function/],
    ['null', 'nil.js', 'export default null;', /nil\.js: .*plain object, got null/],
    ['a class instance', 'cls.js', 'export default new (class X {})();', /cls\.js: .*got object/],
  ])('rejects %s, naming the file', async (_label, name, content, message) => {
    await write(name, content);
    const error = await loadConfigDir(dir).catch((caught: unknown) => caught);
    expect(E_CONFIG_FILE_INVALID.is(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(join(dir, name));
  });

  it('rejects a file name that is not a namespace, and duplicate namespaces', async () => {
    await write('db.primary.js', 'export default {};');
    await expect(loadConfigDir(dir)).rejects.toThrow(/"db\.primary" is not a valid namespace name/);
    await rm(join(dir, 'db.primary.js'));
    await write('db.js', 'export default {};');
    await write('db.ts', 'export default {};');
    await expect(loadConfigDir(dir)).rejects.toThrow(
      /db\.ts: namespace "db" is also defined by db\.js; keep one of them/,
    );
  });
});
