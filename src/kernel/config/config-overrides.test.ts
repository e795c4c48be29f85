import { describe, expect, it } from 'vitest';
import { configOverridesFromEnv, parseOverrideValue } from './config-overrides.js';
import { E_CONFIG_OVERRIDE_INVALID } from './errors.js';

const base = {
  catalog: { pageSize: 20, sort_order: 'asc', 'max-items': 5, Nested: { deepKey: true } },
  db: { pool: { max: 10 } },
};

describe('configOverridesFromEnv', () => {
  it('maps KEEL_CONFIG__ variables to paths, matching existing keys loosely', () => {
    const overrides = configOverridesFromEnv(
      {
        KEEL_CONFIG__catalog__pageSize: '50',
        KEEL_CONFIG__CATALOG__SORT_ORDER: 'desc',
        KEEL_CONFIG__catalog__MAX_ITEMS: '7',
        KEEL_CONFIG__catalog__nested__DEEP_KEY: 'false',
        KEEL_CONFIG__Db__POOL__MAX: '25',
        UNRELATED: '1',
        KEEL_CONFIG__unset: undefined,
      },
      base,
    );
    expect(overrides).toEqual({
      catalog: { pageSize: 50, sort_order: 'desc', 'max-items': 7, Nested: { deepKey: false } },
      db: { pool: { max: 25 } },
    });
  });

  it('keeps the spelling of keys that do not exist yet', () => {
    expect(configOverridesFromEnv({ KEEL_CONFIG__mail__fromAddress: 'a@b.c' }, base)).toEqual({
      mail: { fromAddress: 'a@b.c' },
    });
    expect(configOverridesFromEnv({ KEEL_CONFIG__catalog__pageSize__x: '1' }, base)).toEqual({
      catalog: { pageSize: { x: 1 } },
    });
  });

  it('applies a whole-object override first, then deeper ones', () => {
    const overrides = configOverridesFromEnv(
      {
        KEEL_CONFIG__DB__POOL__MAX: '3',
        KEEL_CONFIG__db: '{"pool":{"max":1,"min":1},"url":"x"}',
      },
      base,
    );
    expect(overrides).toEqual({ db: { pool: { max: 3, min: 1 }, url: 'x' } });
  });

  it('honours a custom prefix', () => {
    expect(configOverridesFromEnv({ APP__catalog__pageSize: '1' }, base, 'APP__')).toEqual({
      catalog: { pageSize: 1 },
    });
  });

  it('rejects empty path segments, naming the variable', () => {
    expect(() => configOverridesFromEnv({ KEEL_CONFIG__catalog____pageSize: '1' }, base)).toThrow(
      E_CONFIG_OVERRIDE_INVALID,
    );
    expect(() => configOverridesFromEnv({ KEEL_CONFIG__: '1' })).toThrow(
      'Config override KEEL_CONFIG__: has an empty path segment',
    );
  });

  it('ignores prototype-poisoning names and JSON keys', () => {
    const overrides = configOverridesFromEnv({
      KEEL_CONFIG__constructor__prototype__polluted: 'true',
      KEEL_CONFIG__app__prototype: '1',
      KEEL_CONFIG__app__settings: '{"__proto__":{"polluted":true},"ok":1}',
    });
    expect(overrides).toEqual({ app: { settings: { ok: 1 } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf((overrides.app as { settings: object }).settings)).toBe(
      Object.prototype,
    );
  });
});

describe('parseOverrideValue', () => {
  it.each([
    ['50', 50],
    ['-1.5', -1.5],
    ['true', true],
    ['null', null],
    ['"quoted"', 'quoted'],
    ['[1,"a"]', [1, 'a']],
    ['{"a":{"b":1}}', { a: { b: 1 } }],
    ['hello world', 'hello world'],
    ['007', '007'],
    ['{not json', '{not json'],
    ['', ''],
  ])('%j → %j', (raw, expected) => {
    expect(parseOverrideValue(raw)).toEqual(expected);
  });
});
