import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ContainerBindings } from '../../container/index.js';
import type { HealthRateLimiter } from '../../observability/health/index.js';
import type { RateLimitHealthLimiter } from './health-rate-limiter.js';
import './rate-limit-provider.js';
import type { HttpContext } from '../../http/index.js';
import { defaultUserId, storedKey } from './rate-limit-key.js';
import type { LimiterSpec, RateLimitStore } from './rate-limit-store.js';
import { RateLimiter, type RateLimitResult } from './rate-limiter.js';
import { MemoryRateLimitStore } from './stores/memory-rate-limit-store.js';

/** A store whose every call fails, as a store does while its server is down. */
class BrokenStore implements RateLimitStore {
  readonly name = 'redis';
  calls = 0;
  limiter(_spec: LimiterSpec): RateLimiterAbstract {
    const fail = async () => {
      this.calls++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    };
    return {
      consume: fail,
      get: fail,
      delete: fail,
      block: fail,
    } as unknown as RateLimiterAbstract;
  }
  async close(): Promise<void> {}
}

describe('RateLimiter', () => {
  it('names an unknown limiter and suggests the closest', async () => {
    const limiter = new RateLimiter({
      store: new MemoryRateLimitStore(),
      prefix: 't',
      limiters: { login: { points: 1, duration: 1 } },
    });
    await expect(limiter.attempt('logn', 'k')).rejects.toMatchObject({
      code: 'E_RATE_LIMITER_NOT_FOUND',
      message: 'No rate limiter named "logn"; did you mean "login"?',
    });
    expect(() => limiter.define('bad', { points: 1.5, duration: 1 })).toThrow(/points/);
    expect(() => limiter.define('bad', { points: 1, duration: 0 })).toThrow(/duration/);
  });

  it('fails open to a memory limiter with the same limits, reporting the outage once and the recovery', async () => {
    const store = new BrokenStore();
    const failures: string[] = [];
    const limiter = new RateLimiter({
      store,
      prefix: 't',
      limiters: { login: { points: 2, duration: 60 } },
      onStoreFailure: (_error, name) => failures.push(name),
    });
    const observed: string[] = [];
    limiter.observe({
      decision: (r) => observed.push(`${r.limiter}:${r.allowed}:${r.degraded}`),
      failure: (name) => observed.push(`failure:${name}`),
    });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await limiter.attempt('login', 'ip:1'));
    expect(observed.slice(0, 2)).toEqual(['failure:login', 'login:true:true']);
    expect(observed.at(-1)).toBe('login:false:true');
    expect(results.map((r) => [r.allowed, r.degraded])).toEqual([
      [true, true],
      [true, true],
      [false, true],
    ]);
    expect(await limiter.remaining('login', 'ip:1')).toBe(0);
    await limiter.clear('login', 'ip:1');
    expect(await limiter.remaining('login', 'ip:1')).toBe(2);
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures)).toEqual(new Set(['login']));
  });

  it('fails closed with E_RATE_LIMIT_STORE_UNAVAILABLE (the store error as its cause)', async () => {
    const limiter = new RateLimiter({
      store: new BrokenStore(),
      prefix: 't',
      onStoreError: 'closed',
      limiters: { login: { points: 2, duration: 60 } },
    });
    const error = await limiter.attempt('login', 'k').catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'E_RATE_LIMIT_STORE_UNAVAILABLE', status: 503 });
    expect(String((error as Error).cause)).toMatch(/ECONNREFUSED/);
  });

  it('loads a lazy store once, on the first hit, and retries a failed load', async () => {
    let loads = 0;
    const limiter = new RateLimiter({
      store: {
        name: 'memory',
        load: async () => {
          loads++;
          if (loads === 1) throw new Error('driver missing');
          return new MemoryRateLimitStore();
        },
      },
      prefix: 't',
      onStoreError: 'closed',
      limiters: { a: { points: 1, duration: 60 } },
    });
    expect(loads).toBe(0);
    await expect(limiter.attempt('a', 'k')).rejects.toMatchObject({
      code: 'E_RATE_LIMIT_STORE_UNAVAILABLE',
    });
    await Promise.all([limiter.attempt('a', 'k'), limiter.attempt('a', 'j')]);
    expect(loads).toBe(2);
  });
});

describe('keys', () => {
  it('stores short printable keys as they are and hashes the rest to 44 bytes', () => {
    expect(storedKey('ip:203.0.113.9')).toBe('ip:203.0.113.9');
    for (const hostile of ['x'.repeat(101), 'a b', 'a\r\nb', 'é', '🔑', '\u0000', '#plain', ''])
      expect(storedKey(hostile)).toMatch(/^#[\w-]{43}$/);
    expect(storedKey('a\r\nb')).not.toBe(storedKey('a\r\nc'));
  });

  it('finds the user id in ctx.state.user.id, else ctx.state.authId', () => {
    const ctx = (state: Record<string, unknown>) => ({ state }) as unknown as HttpContext;
    expect(defaultUserId(ctx({ user: { id: 7 } }))).toBe(7);
    expect(defaultUserId(ctx({ authId: 'u-1' }))).toBe('u-1');
    expect(defaultUserId(ctx({ user: null }))).toBeUndefined();
    expect(defaultUserId(ctx({ user: { id: { evil: true } } }))).toBeUndefined();
  });
});

describe('types', () => {
  it('binds rate.limiter, and its results and the health limiter are typed', () => {
    expectTypeOf<ContainerBindings['rate.limiter']>().toEqualTypeOf<RateLimiter>();
    expectTypeOf<RateLimiter['attempt']>().returns.resolves.toEqualTypeOf<RateLimitResult>();
    expectTypeOf<RateLimitResult['allowed']>().toEqualTypeOf<boolean>();
    expectTypeOf<RateLimitHealthLimiter>().toMatchTypeOf<HealthRateLimiter>();
  });
});
