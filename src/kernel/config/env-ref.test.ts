import { describe, expect, expectTypeOf, it } from 'vitest';
import { baseEnvSchema, defineEnvSchema, Env, validateEnv } from '../env/index.js';
import { env, isEnvRef, resolveEnvRefs } from './env-ref.js';
import { E_ENV_CAST, E_ENV_REF_INVALID, type EnvCastFailure } from './errors.js';

function failuresOf(fn: () => unknown): EnvCastFailure[] {
  try {
    fn();
  } catch (error) {
    expect(E_ENV_CAST.is(error)).toBe(true);
    return (error as InstanceType<typeof E_ENV_CAST>).details?.failures as EnvCastFailure[];
  }
  throw new Error('expected E_ENV_CAST');
}

describe('env()', () => {
  it('returns plain, frozen references with the cast picked from the default', () => {
    expect(env('DB_PASSWORD')).toEqual({ $env: 'DB_PASSWORD', cast: 'string' });
    expect(env('PORT', 3000)).toEqual({ $env: 'PORT', default: 3000, cast: 'number' });
    expect(env('DEBUG', false)).toEqual({ $env: 'DEBUG', default: false, cast: 'boolean' });
    expect(env('HOST', 'localhost')).toEqual({
      $env: 'HOST',
      default: 'localhost',
      cast: 'string',
    });
    expect(env('LIST', ['a'])).toEqual({ $env: 'LIST', default: ['a'], cast: 'json' });
    expect(env('OBJ', { a: 1 })).toEqual({ $env: 'OBJ', default: { a: 1 }, cast: 'json' });
    expect(env('NULLABLE', null)).toEqual({ $env: 'NULLABLE', default: null, cast: 'string' });
    expect(env.number('N')).toEqual({ $env: 'N', cast: 'number' });
    expect(env.boolean('B', true)).toEqual({ $env: 'B', default: true, cast: 'boolean' });
    expect(env.string('S', 'x')).toEqual({ $env: 'S', default: 'x', cast: 'string' });
    expect(env.json('J')).toEqual({ $env: 'J', cast: 'json' });
    expect(Object.isFrozen(env('PORT', 3000))).toBe(true);
  });

  it('is typed as the value it stands for', () => {
    expectTypeOf(env('DB_PASSWORD')).toEqualTypeOf<string | undefined>();
    expectTypeOf(env('PORT', 3000)).toEqualTypeOf<number>();
    expectTypeOf(env('DEBUG', false)).toEqualTypeOf<boolean>();
    expectTypeOf(env('HOST', 'localhost')).toEqualTypeOf<string>();
    expectTypeOf(env('NULLABLE', null)).toEqualTypeOf<string | null>();
    expectTypeOf(env('OBJ', { a: 1 })).toEqualTypeOf<{ a: number }>();
    expectTypeOf(env.number('N')).toEqualTypeOf<number | undefined>();
    expectTypeOf(env.number('N', 1)).toEqualTypeOf<number>();
    expectTypeOf(env.boolean('B')).toEqualTypeOf<boolean | undefined>();
    expectTypeOf(env.boolean('B', true)).toEqualTypeOf<boolean>();
    expectTypeOf(env.string('S')).toEqualTypeOf<string | undefined>();
    expectTypeOf(env.string('S', 'x')).toEqualTypeOf<string>();
    expectTypeOf(env.json<string[]>('J')).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(env.json('J', [1, 2])).toEqualTypeOf<number[]>();
  });

  it('rejects a missing or empty variable name', () => {
    expect(() => env('')).toThrow(E_ENV_REF_INVALID);
    expect(() => env('  ')).toThrow('got an empty string');
    expect(() => env.number(undefined as unknown as string)).toThrow('got undefined');
    expect(() => env(null as unknown as string)).toThrow('got null');
  });

  it('survives a JSON round trip, as compiled config does', () => {
    const tree = { app: { port: env('PORT', 3000), secret: env('SECRET') } };
    const compiled = JSON.parse(JSON.stringify(tree));
    expect(resolveEnvRefs(compiled, { PORT: '8080', SECRET: 's' })).toEqual({
      app: { port: 8080, secret: 's' },
    });
  });
});

describe('isEnvRef', () => {
  it.each([
    [{ $env: 'A' }, true],
    [{ $env: 'A', cast: 'number', default: 1 }, true],
    [{ $env: 'A', cast: 'date' }, false],
    [{ $env: 'A', cast: 1 }, false],
    [{ $env: 'A', other: 1 }, false],
    [{ $env: 1 }, false],
    [{ env: 'A' }, false],
    ['A', false],
    [null, false],
    [['$env'], false],
  ])('%j → %s', (value, expected) => {
    expect(isEnvRef(value)).toBe(expected);
  });
});

describe('resolveEnvRefs', () => {
  const tree = {
    app: {
      name: env('APP_NAME', 'Keel'),
      port: env('PORT', 3000),
      debug: env.boolean('DEBUG', false),
      secret: env('SECRET'),
      hosts: [env('HOST_A'), 'static', { nested: env.number('N', 1) }],
      replicas: env.json('REPLICAS', [] as string[]),
    },
    plain: { a: 1, when: new Date(0) },
  };

  it('resolves against a map, casting and applying defaults', () => {
    const resolved = resolveEnvRefs(tree, {
      PORT: '8080',
      DEBUG: 'yes',
      SECRET: 's3cret',
      HOST_A: 'a.example.com',
      N: '2.5',
      REPLICAS: '["r1","r2"]',
    });
    expect(resolved).toEqual({
      app: {
        name: 'Keel',
        port: 8080,
        debug: true,
        secret: 's3cret',
        hosts: ['a.example.com', 'static', { nested: 2.5 }],
        replicas: ['r1', 'r2'],
      },
      plain: { a: 1, when: new Date(0) },
    });
    expect(resolved.plain.when).toBe(tree.plain.when);
    expect(resolved.app).not.toBe(tree.app);
  });

  it('uses defaults for unset variables, and for empty ones unless the cast is string', () => {
    const resolved = resolveEnvRefs(tree, { PORT: '', DEBUG: '', SECRET: '', APP_NAME: '' });
    expect(resolved.app).toMatchObject({ name: '', port: 3000, debug: false, secret: '' });
    expect(resolveEnvRefs(tree, {}).app.secret).toBeUndefined();
  });

  it('prefers validated Env values, then raw variables', () => {
    const variables = { APP_ENV: 'dev', PORT: '9000', EXTRA: '42' };
    const values = validateEnv(variables, baseEnvSchema);
    const envs = new Env(values, variables);
    const resolved = resolveEnvRefs(
      {
        appEnv: env('APP_ENV'),
        debug: env.boolean('APP_DEBUG', false),
        port: env.string('PORT'),
        portNumber: env('PORT', 1),
        extra: env.number('EXTRA'),
        missing: env('MISSING', 'fallback'),
      },
      envs,
    );
    expect(resolved).toEqual({
      appEnv: 'development',
      debug: true,
      port: '9000',
      portNumber: 9000,
      extra: 42,
      missing: 'fallback',
    });
  });

  it('asks a list of lookups in order', () => {
    const resolved = resolveEnvRefs({ a: env('A'), b: env('B') }, [
      { A: 'first' },
      { A: 'x', B: 'second' },
    ]);
    expect(resolved).toEqual({ a: 'first', b: 'second' });
  });

  it('accepts already-validated values of any type', () => {
    const values = validateEnv({}, defineEnvSchema());
    const resolved = resolveEnvRefs(
      { port: env('PORT', 1), label: env('PORT'), obj: env.json('OBJ'), bool: env.boolean('B') },
      { ...values, OBJ: { a: 1 }, B: true },
    );
    expect(resolved).toEqual({ port: 3000, label: '3000', obj: { a: 1 }, bool: true });
  });

  it('reports every cast failure at once, naming variable and config path, never the value', () => {
    const failures = failuresOf(() =>
      resolveEnvRefs(tree, {
        PORT: 'eighty',
        DEBUG: 'maybe',
        N: 'Infinity',
        REPLICAS: '[secret-value',
      }),
    );
    expect(failures).toEqual([
      {
        key: 'PORT',
        path: 'app.port',
        cast: 'number',
        reason: 'expected a finite number such as 3000 or 0.5',
      },
      {
        key: 'DEBUG',
        path: 'app.debug',
        cast: 'boolean',
        reason: 'expected true/false, 1/0, yes/no or on/off',
      },
      { key: 'N', path: 'app.hosts[2].nested', cast: 'number', reason: expect.any(String) },
      { key: 'REPLICAS', path: 'app.replicas', cast: 'json', reason: 'expected valid JSON' },
    ]);
    try {
      resolveEnvRefs(tree, { REPLICAS: '[secret-value' });
    } catch (error) {
      expect((error as Error).message).toBe(
        'Cannot cast environment variables used by config:\n' +
          '  REPLICAS (config "app.replicas", as json): expected valid JSON',
      );
      expect(JSON.stringify(error)).not.toContain('secret-value');
    }
  });

  it('names a reference at the root', () => {
    expect(failuresOf(() => resolveEnvRefs(env('N', 1), { N: 'x' }))[0]?.path).toBe('(root)');
  });

  it('drops prototype-poisoning keys, in the tree and in JSON values', () => {
    const hostile = JSON.parse(
      '{"a":{"__proto__":{"polluted":true},"b":1},"j":{"$env":"J","cast":"json"}}',
    );
    const resolved = resolveEnvRefs(hostile, {
      J: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"ok":1}',
    });
    expect(resolved).toEqual({ a: { b: 1 }, j: { ok: 1 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(resolved.a)).toBe(Object.prototype);
  });

  it('does not read Object.prototype members as variables', () => {
    expect(resolveEnvRefs({ a: env('toString'), b: env('constructor', 'x') }, {})).toEqual({
      a: undefined,
      b: 'x',
    });
  });
});
