import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { AppEnv } from './app-env.js';
import { generateAppKey } from './app-key.js';
import { Env, loadEnv } from './env.js';
import { type BaseEnv, baseEnvSchema, defineEnvSchema, validateEnv } from './env-schema.js';
import { E_ENV_FILE_INVALID, E_ENV_INVALID } from './errors.js';

describe('Env', () => {
  const variables = { APP_ENV: 'dev', EXTRA: 'raw value', PORT: '8080' };
  const env = new Env(validateEnv(variables, baseEnvSchema), variables);

  it('reads validated values, typed by the schema', () => {
    expect(env.get('PORT')).toBe(8080);
    expect(env.get('APP_ENV')).toBe('development');
    expectTypeOf(env.get('PORT')).toEqualTypeOf<number>();
    expectTypeOf(env.get('APP_ENV')).toEqualTypeOf<AppEnv>();
    expectTypeOf(env).toEqualTypeOf<Env<BaseEnv>>();
    // @ts-expect-error: not declared by the schema
    env.get('EXTRA');
  });

  it('knows where it runs', () => {
    expect(env.appEnv).toBe('development');
    expect(env.isDevelopment).toBe(true);
    expect(env.isProduction).toBe(false);
    expect(env.isTest).toBe(false);
    expect(env.debug).toBe(true);
    const prod = new Env(
      validateEnv({ APP_ENV: 'production', APP_KEY: generateAppKey() }, baseEnvSchema),
    );
    expect([prod.appEnv, prod.isProduction, prod.debug]).toEqual(['production', true, false]);
    const test = new Env(validateEnv({ APP_ENV: 'test' }, baseEnvSchema));
    expect(test.isTest).toBe(true);
  });

  it('keeps raw variables reachable, and answers has() for both', () => {
    expect(env.variable('EXTRA')).toBe('raw value');
    expect(env.variable('MISSING')).toBeUndefined();
    expect(env.variable('toString')).toBeUndefined();
    expect(env.has('EXTRA')).toBe(true);
    expect(env.has('APP_NAME')).toBe(true);
    expect(env.has('APP_KEY')).toBe(false);
    expect(env.has('MISSING')).toBe(false);
    expect(env.variables()).toEqual(variables);
  });

  it('is frozen and keeps secrets out of JSON', () => {
    const withKey = new Env(
      validateEnv({ APP_ENV: 'test', APP_KEY: generateAppKey() }, baseEnvSchema),
      { APP_KEY: 'base64:secret' },
    );
    expect(Object.isFrozen(withKey.all())).toBe(true);
    expect(Object.isFrozen(withKey.variables())).toBe(true);
    expect(() => {
      (withKey.all() as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
    expect(JSON.stringify(withKey)).toBe('{"appEnv":"test","debug":false}');
  });

  it('works with a schema that does not declare APP_ENV or APP_DEBUG', () => {
    const custom = new Env({ NAME: 'x' }, JSON.parse('{"APP_ENV":"stage","__proto__":"x"}'));
    expect(Object.hasOwn(custom.variables(), '__proto__')).toBe(false);
    expect(custom.appEnv).toBe('staging');
    expect(custom.debug).toBe(false);
    expectTypeOf(custom.get('NAME')).toEqualTypeOf<string>();
    expect(new Env({}, {}).appEnv).toBe('development');
    expect(new Env({}, { APP_ENV: 'nonsense' }).appEnv).toBe('development');
  });
});

describe('loadEnv', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-env-load-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads .env files and the environment through the base schema', async () => {
    await writeFile(join(dir, '.env'), 'APP_NAME="My ERP"\nPORT=4000\nAPP_ENV=dev\n');
    await writeFile(join(dir, '.env.local'), 'PORT=4001\n');
    const env = Env.load({ cwd: dir, processEnv: { LOG_LEVEL: 'warn' } });
    expect(env.all()).toMatchObject({ APP_NAME: 'My ERP', PORT: 4001, LOG_LEVEL: 'warn' });
    expect(env.variable('APP_ENV')).toBe('dev');
  });

  it('validates with an application schema, typed', async () => {
    await writeFile(join(dir, '.env'), 'DB_URL=postgres://localhost/erp\n');
    const schema = defineEnvSchema({ DB_URL: z.url(), DB_POOL: z.coerce.number().default(10) });
    const env = loadEnv({ cwd: dir, processEnv: {}, schema });
    expect(env.get('DB_URL')).toBe('postgres://localhost/erp');
    expect(env.get('DB_POOL')).toBe(10);
    expectTypeOf(env.get('DB_POOL')).toEqualTypeOf<number>();
    expectTypeOf(env.get('DB_URL')).toEqualTypeOf<string>();
  });

  it('fails with every missing key, or with the malformed file', async () => {
    const schema = defineEnvSchema({ DB_URL: z.string(), MAIL_HOST: z.string() });
    expect(() => loadEnv({ cwd: dir, processEnv: { APP_ENV: 'prod' }, schema })).toThrow(
      E_ENV_INVALID,
    );
    try {
      loadEnv({ cwd: dir, processEnv: { APP_ENV: 'prod' }, schema });
    } catch (error) {
      expect((error as Error).message).toBe(
        'Invalid environment (3 problems):\n' +
          '  DB_URL: is required but not set\n' +
          '  MAIL_HOST: is required but not set\n' +
          '  APP_KEY: required when APP_ENV is production',
      );
    }
    await writeFile(join(dir, '.env'), 'OK=1\nnot a line\n');
    expect(() => loadEnv({ cwd: dir, processEnv: {} })).toThrow(E_ENV_FILE_INVALID);
  });
});
