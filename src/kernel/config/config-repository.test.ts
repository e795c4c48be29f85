import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { baseEnvSchema, Env, validateEnv } from '../env/index.js';
import { ConfigRepository, type ConfigValue, type KnownConfigPath } from './config-repository.js';
import { env } from './env-ref.js';
import {
  type ConfigIssue,
  E_CONFIG_INVALID,
  E_CONFIG_LAYER_INVALID,
  E_CONFIG_NAMESPACE_NOT_FOUND,
  E_CONFIG_SCHEMA_ASYNC,
  E_ENV_CAST,
} from './errors.js';

// Namespaces with a test-only prefix, so this augmentation cannot clash with real ones.
declare module './config-repository.js' {
  interface ConfigBindings {
    testOnlyCatalog: {
      pageSize: number;
      sort: 'asc' | 'desc';
      tags: string[];
      db: { pool: number };
    };
    testOnlyFlag: boolean;
  }
}

const catalogSchema = z.object({
  pageSize: z.number().int().positive().default(20),
  sort: z.enum(['asc', 'desc']).default('asc'),
  tags: z.array(z.string()).default([]),
});

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    expect(E_CONFIG_INVALID.is(error)).toBe(true);
    return (error as InstanceType<typeof E_CONFIG_INVALID>).details?.issues as ConfigIssue[];
  }
  throw new Error('expected E_CONFIG_INVALID');
}

describe('ConfigRepository.build', () => {
  it('merges layers by precedence, deeply, replacing arrays', () => {
    const config = ConfigRepository.build({
      layers: [
        { name: 'framework', values: { app: { name: 'Keel', debug: false, hosts: ['a', 'b'] } } },
        { name: 'module:catalog', values: { catalog: { pageSize: 10, sort: 'desc' } } },
        { name: 'app', values: { app: { name: 'ERP', hosts: ['c'] }, catalog: { pageSize: 30 } } },
      ],
      env: {},
    });
    expect(config.all()).toEqual({
      app: { name: 'ERP', debug: false, hosts: ['c'] },
      catalog: { pageSize: 30, sort: 'desc' },
    });
    expect(config.namespaces()).toEqual(['app', 'catalog']);
  });

  it('applies KEEL_CONFIG__ overrides last, as the env layer', () => {
    const config = ConfigRepository.build({
      layers: [
        { name: 'framework', values: { catalog: { pageSize: 10, sort: 'asc' } } },
        { name: 'app', values: { catalog: { pageSize: 30 } } },
      ],
      env: { KEEL_CONFIG__CATALOG__PAGE_SIZE: '50', KEEL_CONFIG__catalog__tags: '["x","y"]' },
    });
    expect(config.get('catalog.pageSize')).toBe(50);
    expect(config.get('catalog.tags')).toEqual(['x', 'y']);
    expect(config.sources('catalog.pageSize')).toEqual(['framework', 'app', 'env']);
    expect(config.sources('catalog.sort')).toEqual(['framework']);
  });

  it('reads overrides from an Env and from processEnv, and can switch them off', () => {
    const variables = { KEEL_CONFIG__catalog__pageSize: '5' };
    const envs = new Env(validateEnv(variables, baseEnvSchema), variables);
    const layers = [{ name: 'app', values: { catalog: { pageSize: 1, sort: 'asc' } } }];
    expect(ConfigRepository.build({ layers, env: envs }).get('catalog.pageSize')).toBe(5);
    expect(
      ConfigRepository.build({
        layers,
        env: {},
        processEnv: { KEEL_CONFIG__catalog__sort: 'desc' },
      }).get('catalog.sort'),
    ).toBe('desc');
    expect(
      ConfigRepository.build({ layers, env: envs, overridePrefix: false }).get('catalog.pageSize'),
    ).toBe(1);
    expect(
      ConfigRepository.build({
        layers,
        env: { MY__catalog__pageSize: '9' },
        overridePrefix: 'MY__',
      }).get('catalog.pageSize'),
    ).toBe(9);
  });

  it('uses an explicit env layer as given, last, and keeps it out of compiled config', () => {
    const config = ConfigRepository.build({
      layers: [
        { name: 'env', values: { db: { password: 'from-env' } } },
        { name: 'app', values: { db: { password: env('DB_PASSWORD'), host: 'h' } } },
      ],
      env: { KEEL_CONFIG__db__host: 'ignored' },
    });
    expect(config.get('db')).toEqual({ password: 'from-env', host: 'h' });
    expect(config.sources('db.password')).toEqual(['app', 'env']);
    expect(config.unresolved()).toEqual({
      db: { password: { $env: 'DB_PASSWORD', cast: 'string' }, host: 'h' },
    });
  });

  it('resolves env references after merging, and keeps them unresolved for the compiler', () => {
    const config = ConfigRepository.build({
      layers: [
        {
          name: 'framework',
          values: { db: { port: env('DB_PORT', 5432), password: env('DB_PASSWORD') } },
        },
        { name: 'app', values: { db: { user: 'erp' } } },
      ],
      env: { DB_PORT: '6543', DB_PASSWORD: 'hunter2', KEEL_CONFIG__db__user: 'override' },
    });
    expect(config.get('db')).toEqual({ port: 6543, password: 'hunter2', user: 'override' });
    const compiled = JSON.stringify(config);
    expect(compiled).not.toContain('hunter2');
    expect(compiled).not.toContain('override');
    expect(JSON.parse(compiled)).toEqual({
      db: {
        port: { $env: 'DB_PORT', default: 5432, cast: 'number' },
        password: { $env: 'DB_PASSWORD', cast: 'string' },
        user: 'erp',
      },
    });
    // The compiled tree, booted again, gives the same config.
    const rebooted = ConfigRepository.build({
      layers: [{ name: 'compiled', values: JSON.parse(compiled) }],
      env: { DB_PORT: '6543', DB_PASSWORD: 'hunter2', KEEL_CONFIG__db__user: 'override' },
    });
    expect(rebooted.all()).toEqual(config.all());
  });

  it('defaults to process.env', () => {
    process.env.KEEL_CONFIG_REPOSITORY_TEST_VAR = 'from-process';
    try {
      const config = ConfigRepository.build({
        layers: [{ name: 'app', values: { t: { v: env('KEEL_CONFIG_REPOSITORY_TEST_VAR') } } }],
      });
      expect(config.get('t.v')).toBe('from-process');
    } finally {
      delete process.env.KEEL_CONFIG_REPOSITORY_TEST_VAR;
    }
  });

  it('reports env cast failures with their config path', () => {
    expect(() =>
      ConfigRepository.build({
        layers: [{ name: 'app', values: { db: { port: env('DB_PORT', 5432) } } }],
        env: { DB_PORT: 'postgres' },
      }),
    ).toThrow(E_ENV_CAST);
  });

  it('validates each namespace, applying schema defaults, even to unconfigured ones', () => {
    const config = ConfigRepository.build({
      layers: [{ name: 'app', values: { catalog: { pageSize: 50, extra: 'stripped' } } }],
      schemas: { catalog: catalogSchema, search: z.object({ driver: z.string().default('sql') }) },
      env: {},
    });
    expect(config.get('catalog')).toEqual({ pageSize: 50, sort: 'asc', tags: [] });
    expect(config.get('search.driver')).toBe('sql');
    expect(config.sources('catalog.sort')).toEqual(['schema']);
    expect(config.sources('search.driver')).toEqual(['schema']);
    expect(config.sources('catalog.pageSize')).toEqual(['app']);
    expect(config.sources('catalog.missing')).toEqual([]);
    expect(config.unresolved()).toEqual({ catalog: { pageSize: 50, extra: 'stripped' } });
  });

  it('reports every problem across every namespace at once', () => {
    const build = () =>
      ConfigRepository.build({
        layers: [
          {
            name: 'app',
            values: { catalog: { pageSize: '50', sort: 'random', tags: ['ok', 3] }, mail: 'smtp' },
          },
        ],
        schemas: {
          catalog: catalogSchema,
          mail: z.object({ host: z.string() }),
          queue: z.object({ connection: z.string() }),
        },
        env: { KEEL_CONFIG__catalog__pageSize: '"fifty"' },
      });
    const issues = issuesOf(build);
    expect(issues.map((i) => i.path)).toEqual([
      'catalog.pageSize',
      'catalog.sort',
      'catalog.tags[1]',
      'mail',
      'queue.connection',
    ]);
    expect(issues[0]!.message).toBe('Invalid input: expected number, received string');
    expect(build).toThrow(
      /^Invalid configuration \(5 problems\):\n {2}catalog\.pageSize: Invalid input: expected number, received string\n/,
    );
  });

  it('accepts any Standard Schema, and names root-level issues by namespace', () => {
    const custom: StandardSchemaV1<unknown, { fixed: true }> = {
      '~standard': { version: 1, vendor: 'custom', validate: () => ({ value: { fixed: true } }) },
    };
    const failing: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'custom',
        validate: () => ({
          issues: [{ message: 'nope' }, { message: 'deep', path: [{ key: 'a' }, 'b'] }],
        }),
      },
    };
    expect(
      ConfigRepository.build({ layers: [], schemas: { x: custom }, env: {} }).get('x'),
    ).toEqual({
      fixed: true,
    });
    expect(
      issuesOf(() => ConfigRepository.build({ layers: [], schemas: { x: failing }, env: {} })),
    ).toEqual([
      { path: 'x', message: 'nope' },
      { path: 'x.a.b', message: 'deep' },
    ]);
  });

  it('refuses an async schema in a sync build, and awaits it in buildAsync', async () => {
    const asyncSchema = z.object({
      pageSize: z.number().refine(async (n) => n > 0, 'must be positive'),
    });
    const options = {
      layers: [{ name: 'app', values: { catalog: { pageSize: 5 } } }],
      schemas: { catalog: asyncSchema },
      env: {},
    };
    expect(() => ConfigRepository.build(options)).toThrow(E_CONFIG_SCHEMA_ASYNC);
    expect(() => ConfigRepository.build(options)).toThrow(/"catalog".*asynchronously/);
    const config = await ConfigRepository.buildAsync(options);
    expect(config.get('catalog.pageSize')).toBe(5);
    await expect(
      ConfigRepository.buildAsync({
        ...options,
        layers: [{ name: 'app', values: { catalog: { pageSize: -1 } } }],
        schemas: { catalog: asyncSchema, other: z.object({ a: z.string() }) },
      }),
    ).rejects.toThrow(/catalog\.pageSize: must be positive\n {2}other\.a: /);
  });

  it('rejects malformed layers', () => {
    const build = (layers: unknown) => ConfigRepository.build({ layers: layers as never, env: {} });
    expect(() => build([{ name: '', values: {} }])).toThrow(E_CONFIG_LAYER_INVALID);
    expect(() => build([null])).toThrow(/a layer needs a non-empty name/);
    expect(() => build([{ name: 'app', values: [] }])).toThrow(
      'Config layer "app": values must be a plain object of namespaces',
    );
    expect(() =>
      build([
        { name: 'app', values: {} },
        { name: 'app', values: {} },
      ]),
    ).toThrow('Config layer "app": appears twice');
  });

  it('ignores prototype-poisoning keys in layers and overrides', () => {
    const hostile = JSON.parse(
      '{"app":{"__proto__":{"polluted":true},"ok":1},"__proto__":{"x":1}}',
    );
    const config = ConfigRepository.build({
      layers: [{ name: 'app', values: hostile }],
      env: {
        KEEL_CONFIG__app__extra:
          '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      },
    });
    expect(config.all()).toEqual({ app: { ok: 1, extra: {} } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(config.get('app.__proto__')).toBeUndefined();
    expect(config.has('app.constructor')).toBe(false);
  });
});

describe('reading config', () => {
  const layerValues = {
    testOnlyCatalog: { pageSize: 20, sort: 'asc', tags: ['a'], db: { pool: 2 } },
    testOnlyFlag: false,
    other: { nested: { value: 1 } },
  };
  const config = ConfigRepository.build({
    layers: [{ name: 'app', values: layerValues }],
    env: {},
  });

  it('gets values by dot path, with defaults', () => {
    expect(config.get('testOnlyCatalog.pageSize')).toBe(20);
    expect(config.get('testOnlyCatalog.db.pool')).toBe(2);
    expect(config.get('testOnlyFlag')).toBe(false);
    expect(config.get('other.nested.value')).toBe(1);
    expect(config.get('other.missing')).toBeUndefined();
    expect(config.get('other.missing', 'fallback')).toBe('fallback');
    expect(config.get('testOnlyFlag', true)).toBe(false);
    expect(config.has('testOnlyCatalog.tags')).toBe(true);
    expect(config.has('testOnlyCatalog.nope')).toBe(false);
  });

  it('types declared paths through ConfigBindings', () => {
    expectTypeOf(config.get('testOnlyCatalog.pageSize')).toEqualTypeOf<number>();
    expectTypeOf(config.get('testOnlyCatalog.sort')).toEqualTypeOf<'asc' | 'desc'>();
    expectTypeOf(config.get('testOnlyCatalog.db')).toEqualTypeOf<{ pool: number }>();
    expectTypeOf(config.get('testOnlyCatalog.db.pool')).toEqualTypeOf<number>();
    expectTypeOf(config.get('testOnlyFlag')).toEqualTypeOf<boolean>();
    expectTypeOf(config.get('other.nested.value')).toEqualTypeOf<unknown>();
    expectTypeOf(config.get('other.missing', 'x')).toEqualTypeOf<unknown>();
    expectTypeOf(config.get('testOnlyCatalog.pageSize', 'x' as const)).toEqualTypeOf<
      number | 'x'
    >();
    expectTypeOf<'testOnlyCatalog.db.pool'>().toExtend<KnownConfigPath>();
    expectTypeOf<ConfigValue<'testOnlyCatalog.tags'>>().toEqualTypeOf<string[]>();
    expectTypeOf(config.namespace('testOnlyCatalog').pageSize).toEqualTypeOf<number>();
    expectTypeOf(config.namespace('other')).toEqualTypeOf<Readonly<Record<string, unknown>>>();
    expectTypeOf(config.all().testOnlyFlag).toEqualTypeOf<boolean>();
  });

  it('returns namespaces, suggesting a near miss for an unknown one', () => {
    expect(config.namespace('testOnlyCatalog').pageSize).toBe(20);
    expect(() => config.namespace('testOnlyCatalg')).toThrow(
      'No config namespace "testOnlyCatalg" (did you mean "testOnlyCatalog"?)',
    );
    expect(() => config.namespace('zzz')).toThrow(E_CONFIG_NAMESPACE_NOT_FOUND);
    expect(() => config.namespace('toString')).toThrow(E_CONFIG_NAMESPACE_NOT_FOUND);
  });

  it('is deeply frozen and does not freeze the caller objects', () => {
    const tree = config.all();
    expect(Object.isFrozen(tree)).toBe(true);
    expect(Object.isFrozen(config.get('testOnlyCatalog.tags'))).toBe(true);
    expect(Object.isFrozen(config.unresolved())).toBe(true);
    expect(() => {
      (config.get('testOnlyCatalog.tags') as string[]).push('b');
    }).toThrow(TypeError);
    expect(Object.isFrozen(layerValues.testOnlyCatalog)).toBe(false);
    expect(Object.isFrozen(layerValues.testOnlyCatalog.tags)).toBe(false);
  });
});
