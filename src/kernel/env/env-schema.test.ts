import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { AppEnv } from './app-env.js';
import { generateAppKey } from './app-key.js';
import {
  type BaseEnv,
  baseEnvSchema,
  defineEnvSchema,
  type LogLevel,
  validateEnv,
} from './env-schema.js';
import { E_ENV_INVALID, E_ENV_SCHEMA_ASYNC, type EnvIssue } from './errors.js';

function issuesOf(fn: () => unknown): EnvIssue[] {
  try {
    fn();
  } catch (error) {
    expect(E_ENV_INVALID.is(error)).toBe(true);
    return (error as InstanceType<typeof E_ENV_INVALID>).details?.issues as EnvIssue[];
  }
  throw new Error('expected E_ENV_INVALID');
}

describe('the base schema', () => {
  it('applies defaults, with debug on in development', () => {
    expect(validateEnv({}, baseEnvSchema)).toEqual({
      APP_ENV: 'development',
      APP_DEBUG: true,
      APP_NAME: 'Keel',
      PORT: 3000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
    });
  });

  it('defaults debug to false outside development', () => {
    expect(validateEnv({ APP_ENV: 'test' }, baseEnvSchema).APP_DEBUG).toBe(false);
    const key = generateAppKey();
    const prod = validateEnv({ APP_ENV: 'prod', APP_KEY: key }, baseEnvSchema);
    expect(prod).toMatchObject({ APP_ENV: 'production', APP_DEBUG: false, APP_KEY: key });
  });

  it('casts and normalises every base key', () => {
    const values = validateEnv(
      {
        APP_ENV: 'Stage',
        APP_KEY: ` ${generateAppKey()} `,
        APP_DEBUG: 'on',
        APP_NAME: 'ERP',
        APP_URL: 'https://erp.example.com',
        PORT: '8080',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'DEBUG',
      },
      baseEnvSchema,
    );
    expect(values).toMatchObject({
      APP_ENV: 'staging',
      APP_DEBUG: true,
      APP_NAME: 'ERP',
      APP_URL: 'https://erp.example.com',
      PORT: 8080,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
    });
    expect(values.APP_KEY).toMatch(/^base64:\S+$/);
  });

  it('treats empty values as unset', () => {
    const values = validateEnv({ PORT: '', APP_NAME: '', APP_DEBUG: '' }, baseEnvSchema);
    expect(values).toMatchObject({ PORT: 3000, APP_NAME: 'Keel', APP_DEBUG: true });
  });

  it('reports every invalid key at once, one per line', () => {
    const raw = {
      APP_ENV: 'prodution',
      APP_DEBUG: 'maybe',
      APP_KEY: 'base64:c2hvcnQ=',
      APP_URL: 'ftp://files.example.com',
      PORT: '99999',
      LOG_LEVEL: 'loud',
    };
    const issues = issuesOf(() => validateEnv(raw, baseEnvSchema));
    expect(issues).toEqual([
      {
        key: 'APP_ENV',
        message:
          'unknown environment "prodution"; use production, staging, development or test (did you mean "production"?)',
      },
      { key: 'APP_DEBUG', message: 'expected true/false, 1/0, yes/no or on/off' },
      { key: 'APP_KEY', message: 'it decodes to 5 bytes; 32 are required' },
      { key: 'APP_URL', message: 'expected an http(s) URL' },
      { key: 'PORT', message: 'expected a port number from 0 to 65535' },
      {
        key: 'LOG_LEVEL',
        message: 'expected one of fatal, error, warn, info, debug, trace, silent',
      },
    ]);
    expect(() => validateEnv(raw, baseEnvSchema)).toThrow(
      /^Invalid environment \(6 problems\):\n {2}APP_ENV: unknown environment "prodution"/,
    );
  });

  it.each(['-1', '3.5', 'abc', '65536'])('rejects PORT=%s', (port) => {
    expect(issuesOf(() => validateEnv({ PORT: port }, baseEnvSchema))).toEqual([
      { key: 'PORT', message: 'expected a port number from 0 to 65535' },
    ]);
  });

  it.each(['production', 'staging'])('requires APP_KEY in %s', (appEnv) => {
    expect(issuesOf(() => validateEnv({ APP_ENV: appEnv }, baseEnvSchema))).toEqual([
      { key: 'APP_KEY', message: `required when APP_ENV is ${appEnv}` },
    ]);
  });

  it('reports a missing APP_KEY together with other problems', () => {
    const issues = issuesOf(() => validateEnv({ APP_ENV: 'production', PORT: 'x' }, baseEnvSchema));
    expect(issues.map((i) => i.key)).toEqual(['PORT', 'APP_KEY']);
  });

  it('does not require APP_KEY in development or test', () => {
    expect(validateEnv({ APP_ENV: 'dev' }, baseEnvSchema).APP_KEY).toBeUndefined();
    expect(validateEnv({ APP_ENV: 'test' }, baseEnvSchema).APP_KEY).toBeUndefined();
  });

  it('never puts the APP_KEY value in its message', () => {
    const secret = 'base64:c2VjcmV0LXZhbHVl';
    try {
      validateEnv({ APP_KEY: secret }, baseEnvSchema);
      expect.unreachable();
    } catch (error) {
      expect(JSON.stringify(error)).not.toContain('c2VjcmV0LXZhbHVl');
      expect((error as Error).message).not.toContain('c2VjcmV0LXZhbHVl');
    }
  });

  it('is typed', () => {
    expectTypeOf<BaseEnv['APP_ENV']>().toEqualTypeOf<AppEnv>();
    expectTypeOf<BaseEnv['APP_DEBUG']>().toEqualTypeOf<boolean>();
    expectTypeOf<BaseEnv['APP_KEY']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<BaseEnv['APP_NAME']>().toEqualTypeOf<string>();
    expectTypeOf<BaseEnv['APP_URL']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<BaseEnv['PORT']>().toEqualTypeOf<number>();
    expectTypeOf<BaseEnv['HOST']>().toEqualTypeOf<string>();
    expectTypeOf<BaseEnv['LOG_LEVEL']>().toEqualTypeOf<LogLevel>();
    expectTypeOf<keyof BaseEnv>().toEqualTypeOf<
      'APP_ENV' | 'APP_DEBUG' | 'APP_KEY' | 'APP_NAME' | 'APP_URL' | 'PORT' | 'HOST' | 'LOG_LEVEL'
    >();
  });
});

describe('defineEnvSchema', () => {
  const schema = defineEnvSchema({
    DB_URL: z.string(),
    DB_POOL: z.coerce.number().int().min(1).default(5),
    FEATURE_X: z.stringbool().default(false),
  });

  it('extends the base schema', () => {
    const values = validateEnv({ DB_URL: 'sqlite://x', FEATURE_X: 'yes' }, schema);
    expect(values).toMatchObject({ DB_URL: 'sqlite://x', DB_POOL: 5, FEATURE_X: true, PORT: 3000 });
    expectTypeOf(values.DB_URL).toEqualTypeOf<string>();
    expectTypeOf(values.DB_POOL).toEqualTypeOf<number>();
    expectTypeOf(values.PORT).toEqualTypeOf<number>();
    expectTypeOf(values.APP_DEBUG).toEqualTypeOf<boolean>();
  });

  it('reports missing app keys as required, with base keys, in one error', () => {
    const issues = issuesOf(() =>
      validateEnv({ APP_ENV: 'production', DB_POOL: '0', PORT: 'http' }, schema),
    );
    expect(issues).toEqual([
      { key: 'PORT', message: 'expected a port number from 0 to 65535' },
      { key: 'DB_URL', message: 'is required but not set' },
      { key: 'DB_POOL', message: expect.stringMatching(/>=\s*1/) },
      { key: 'APP_KEY', message: 'required when APP_ENV is production' },
    ]);
  });

  it('extends again with .extend(), keeping the base rules', () => {
    const more = schema.extend({ REDIS_URL: z.url().optional(), DB_POOL: z.literal('x') });
    const values = validateEnv({ DB_URL: 'x', DB_POOL: 'x', REDIS_URL: 'redis://r:6379' }, more);
    expect(values).toMatchObject({
      DB_URL: 'x',
      DB_POOL: 'x',
      REDIS_URL: 'redis://r:6379',
      PORT: 3000,
    });
    expectTypeOf(values.DB_POOL).toEqualTypeOf<'x'>();
    expectTypeOf(values.REDIS_URL).toEqualTypeOf<string | undefined>();
    expectTypeOf(values.DB_URL).toEqualTypeOf<string>();
    expect(() => validateEnv({ APP_ENV: 'production', DB_URL: 'x', DB_POOL: 'x' }, more)).toThrow(
      'APP_KEY: required when APP_ENV is production',
    );
    const fromBase = baseEnvSchema.extend({ EXTRA: z.string().default('e') });
    expect(validateEnv({}, fromBase).EXTRA).toBe('e');
  });

  it('lets an application replace a base entry', () => {
    const custom = defineEnvSchema({ PORT: z.coerce.number().default(8080) });
    expect(validateEnv({}, custom).PORT).toBe(8080);
  });

  it('names nested paths and ignores __proto__ variables', () => {
    const nested = z.object({ OUTER: z.object({ inner: z.string() }) });
    const hostile = JSON.parse('{"__proto__":"x","A":"a"}') as Record<string, string>;
    const loose = validateEnv(hostile, z.looseObject({ A: z.string() }));
    expect(Object.hasOwn(loose, '__proto__')).toBe(false);
    expect(loose).toEqual({ A: 'a' });
    const issues = issuesOf(() => validateEnv({ OUTER: 'x' }, nested));
    expect(issues).toEqual([{ key: 'OUTER', message: expect.stringContaining('expected object') }]);
  });

  it('accepts any Standard Schema and refuses asynchronous ones', () => {
    const sync: StandardSchemaV1<unknown, { ok: true }> = {
      '~standard': { version: 1, vendor: 'test', validate: () => ({ value: { ok: true } }) },
    };
    expect(validateEnv({}, sync)).toEqual({ ok: true });
    const rootIssue: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'bad' }] }),
      },
    };
    expect(issuesOf(() => validateEnv({}, rootIssue))).toEqual([{ key: '(root)', message: 'bad' }]);
    const segments: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'bad', path: [{ key: 'A' }, 0] }] }),
      },
    };
    expect(issuesOf(() => validateEnv({ A: 'x' }, segments))).toEqual([
      { key: 'A.0', message: 'bad' },
    ]);
    const async = z.object({ A: z.string().refine(async () => true) });
    expect(() => validateEnv({ A: 'x' }, async)).toThrow(E_ENV_SCHEMA_ASYNC);
  });
});
