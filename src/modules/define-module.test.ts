import { describe, expect, expectTypeOf, it } from 'vitest';
import { isKeelError } from '../support/index.js';
import { defineModule, isModuleName, resolveLazy, validateManifest } from './define-module.js';
import { E_INVALID_MODULE_MANIFEST } from './errors.js';
import type { Lazy, ModuleHookContext, ModuleHooks, ModuleManifest } from './types.js';

const schema = {
  '~standard': { version: 1, vendor: 'test', validate: (v: unknown) => ({ value: v }) },
};

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('defineModule', () => {
  it('returns a frozen copy of a valid manifest', () => {
    class BillingProvider {}
    const input = {
      name: 'billing',
      version: '1.2.0',
      description: 'Invoices',
      dependsOn: { customers: '^1.0.0', 'tax-rules': '>=2.0.0-beta.1 <3' },
      providers: [BillingProvider],
      config: { currency: 'EUR', nested: { rounding: 2 } },
      configSchema: schema,
      migrations: 'migrations',
      seeders: './database/seeders',
      views: 'views',
      hooks: { onInstall() {} },
      routes: () => import('node:path'),
    };
    const manifest = defineModule(input);
    expect(manifest).not.toBe(input);
    expect(manifest.name).toBe('billing');
    expect(manifest.providers).toEqual([BillingProvider]);
    expect(Object.isFrozen(manifest)).toBe(true);
    expect(Object.isFrozen(manifest.dependsOn)).toBe(true);
    expect(Object.isFrozen(manifest.providers)).toBe(true);
    expect(Object.isFrozen(manifest.hooks)).toBe(true);
    expect(Object.isFrozen((manifest.config as { nested: object }).nested)).toBe(true);
    // The caller's objects are left alone.
    expect(Object.isFrozen(input.dependsOn)).toBe(false);
    expect(Object.isFrozen(input.config)).toBe(false);
    expect(() => {
      (manifest as { version: string }).version = '9.9.9';
    }).toThrow(TypeError);
  });

  it('freezes config it cannot clone in place', () => {
    const config = { resolve: () => 'x', limits: { max: 1 } };
    const manifest = defineModule({ name: 'a', version: '1.0.0', config });
    expect(manifest.config).toBe(config);
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  it('accepts the smallest manifest and prerelease versions', () => {
    expect(defineModule({ name: 'a', version: '0.0.1' }).name).toBe('a');
    for (const version of ['=1.0.0', ' 1.0.0', '1.0', '01.0.0'])
      expect(validateManifest({ name: 'a', version })[0]).toMatch(
        /`version` must be a semantic version/,
      );
    expect(defineModule({ name: 'a2-b3', version: '2.0.0-rc.1+build.5' }).version).toBe(
      '2.0.0-rc.1+build.5',
    );
  });

  it('reports every problem at once, naming the module', () => {
    const error = thrown(() =>
      defineModule({
        name: 'Billing_Module',
        version: 'v1',
        dependsOn: { Customers: '^1', orders: 'not a range', ok: '' },
        providers: 'nope' as never,
      }),
    );
    expect(E_INVALID_MODULE_MANIFEST.is(error)).toBe(true);
    expect(error.message).toContain('module "Billing_Module"');
    expect(error.message).toContain('`name` must be kebab-case');
    expect(error.message).toContain(
      '`version` must be a semantic version such as "1.0.0", got "v1"',
    );
    expect(error.message).toContain('`dependsOn` key "Customers" is not a valid module name');
    expect(error.message).toContain('`dependsOn.orders` must be a semver range');
    expect(error.message).toContain('`dependsOn.ok` must be a semver range');
    expect(error.message).toContain('`providers` must be an array of provider classes');
    if (!isKeelError(error)) throw error;
    expect(error.details?.problems).toHaveLength(6);
    expect(error.help).toMatch(/docs\/modules\.md/);
  });

  it('names defineModule() when the manifest has no usable name', () => {
    const error = thrown(() => defineModule({ version: '1.0.0' } as ModuleManifest));
    expect(error.message).toContain('Invalid module manifest in defineModule()');
    expect(error.message).toContain('`name` is required');
  });

  it('rejects what is not a manifest', () => {
    expect(validateManifest(null)).toEqual(['a manifest must be an object, got null']);
    expect(validateManifest([])).toEqual(['a manifest must be an object, got an array']);
    expect(validateManifest('billing')).toEqual(['a manifest must be an object, got "billing"']);
    expect(validateManifest(new (class Manifest {})())[0]).toMatch(/must be an object/);
  });

  it('suggests the field meant by a typo', () => {
    const problems = validateManifest({ name: 'a', version: '1.0.0', dependOn: {}, hoks: {} });
    expect(problems).toContain('unknown field `dependOn` (did you mean "dependsOn"?)');
    expect(problems).toContain('unknown field `hoks` (did you mean "hooks"?)');
    expect(validateManifest({ name: 'a', version: '1.0.0', zzzzzzzz: 1 })).toEqual([
      'unknown field `zzzzzzzz`',
    ]);
  });

  it('checks hooks by name and kind', () => {
    const problems = validateManifest({
      name: 'a',
      version: '1.0.0',
      hooks: { onInstal() {}, onUpgrade: 'later', beforeSetup() {} },
    });
    expect(problems).toEqual([
      expect.stringContaining('unknown hook `hooks.onInstal` (did you mean "onInstall"?)'),
      '`hooks.onUpgrade` must be a function, got "later"',
    ]);
    expect(validateManifest({ name: 'a', version: '1.0.0', hooks: [] })[0]).toMatch(
      /`hooks` must be/,
    );
    expect(validateManifest({ name: 'a', version: '1.0.0', hooks: () => ({}) })).toEqual([]);
  });

  it('keeps folders inside the module folder', () => {
    const problems = (value: unknown) =>
      validateManifest({ name: 'a', version: '1.0.0', migrations: value });
    expect(problems('/etc/passwd')[0]).toMatch(
      /must be relative to the module folder, got absolute path/,
    );
    expect(problems('C:\\migrations')[0]).toMatch(/absolute path/);
    expect(problems('../other/migrations')[0]).toMatch(/must stay inside the module folder/);
    expect(problems('db/../../x')[0]).toMatch(/must stay inside the module folder/);
    expect(problems('..\\x')[0]).toMatch(/must stay inside the module folder/);
    expect(problems('')[0]).toMatch(/folder path relative/);
    expect(problems('a\0b')[0]).toMatch(/folder path relative/);
    expect(problems(42)[0]).toMatch(/got number/);
    expect(problems('db/migrations')).toEqual([]);
  });

  it('checks the remaining parts', () => {
    const problems = validateManifest({
      name: 'a',
      version: '1.0.0',
      description: 5,
      providers: [class {}, 'x'],
      commands: {},
      config: [],
      configSchema: { parse() {} },
      dependsOn: ['b'],
    });
    expect(problems).toEqual([
      expect.stringContaining(
        '`dependsOn` must be an object of module name → semver range, got an array',
      ),
      '`description` must be a string, got number',
      '`providers[1]` must be a provider class, got "x"',
      '`commands` must be an array or a loader function, got an object',
      '`config` must be an object or a loader function, got an array',
      '`configSchema` must be a Standard Schema (for example a Zod 4 schema)',
    ]);
    expect(validateManifest({ name: 'a', version: '1.0.0', dependsOn: { a: '*' } })).toEqual([
      '`dependsOn` lists the module itself ("a")',
    ]);
  });

  it('refuses hostile and oversized input clearly', () => {
    const poisoned = JSON.parse('{"name":"a","version":"1.0.0","dependsOn":{"__proto__":"*"}}');
    expect(validateManifest(poisoned)).toEqual([
      '`dependsOn` key "__proto__" is not a valid module name',
    ]);
    const long = 'a'.repeat(65);
    expect(validateManifest({ name: long, version: '1.0.0' })[0]).toMatch(
      /at most 64 characters.*"a{40}…"/,
    );
    expect(isModuleName('a'.repeat(64))).toBe(true);
    expect(isModuleName('a--b')).toBe(false);
    expect(isModuleName('-a')).toBe(false);
    expect(isModuleName('1a')).toBe(false);
  });

  it('types hooks with the application type', () => {
    interface App {
      db: { seed(name: string): void };
    }
    const manifest = defineModule<App>({
      name: 'billing',
      version: '1.0.0',
      hooks: {
        onInstall(ctx) {
          expectTypeOf(ctx).toEqualTypeOf<ModuleHookContext<App>>();
          ctx.app.db.seed(ctx.module.name);
        },
        onUpgrade(_ctx, from) {
          expectTypeOf(from).toEqualTypeOf<string>();
        },
      },
    });
    expectTypeOf(manifest).toEqualTypeOf<Readonly<ModuleManifest<App>>>();
    expectTypeOf(manifest.hooks).toEqualTypeOf<Lazy<ModuleHooks<App>> | undefined>();
    expectTypeOf(resolveLazy(manifest.hooks)).resolves.toEqualTypeOf<
      ModuleHooks<App> | undefined
    >();
  });
});

describe('resolveLazy', () => {
  it('returns values as they are', async () => {
    const routes = { get: '/x' };
    expect(await resolveLazy(routes)).toBe(routes);
    expect(await resolveLazy(undefined)).toBeUndefined();
    expect(await resolveLazy([1, 2])).toEqual([1, 2]);
  });

  it('calls loaders and unwraps default exports', async () => {
    expect(await resolveLazy(() => ({ a: 1 }))).toEqual({ a: 1 });
    expect(await resolveLazy(async () => ({ default: [1] }))).toEqual([1]);
    const namespace = await resolveLazy(() => import('./__fixtures__/module-fixtures.js'));
    expect(typeof (namespace as Record<string, unknown>).fakeModule).toBe('function');
  });

  it('unwraps only a default-only object, so config with a `default` key survives', async () => {
    const config = { default: 'sqlite', connections: {} };
    expect(await resolveLazy(() => config)).toBe(config);
  });

  it('keeps functions with parameters and classes as values', async () => {
    const register = (router: unknown) => router;
    class Provider {}
    expect(await resolveLazy<unknown>(register)).toBe(register);
    expect(await resolveLazy<unknown>(Provider)).toBe(Provider);
  });

  it('lets loader errors through', async () => {
    await expect(
      resolveLazy(() => {
        throw new Error('cannot load');
      }),
    ).rejects.toThrow('cannot load');
  });
});
