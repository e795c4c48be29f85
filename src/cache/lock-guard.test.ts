import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LockManager, MemoryLockStore } from '../locks/index.js';
import { Cache } from './cache.js';
import { resolveCacheConfig } from './config.js';
import {
  DEFAULT_STAMPEDE,
  lockGuard,
  lockGuards,
  stampedeHomes,
  stampedeLockName,
  stampedeMigrations,
  stampedeSettings,
} from './lock-guard.js';
import { MemoryStore } from './stores/memory-store.js';

const fast = { ttlMs: 10_000, waitMs: 5_000, maxPollMs: 5 };

/** Two "processes": caches of their own over one shared store and one lock store. */
function twoProcesses(settings = fast) {
  const store = new MemoryStore({ maxEntries: 100 });
  const lockStore = new MemoryLockStore();
  const locks = new LockManager({ store: lockStore, maxPollMs: settings.maxPollMs });
  const guard = lockGuard(async () => locks, settings);
  const a = new Cache({ store, prefix: 'app:data:', guard });
  const b = new Cache({ store, prefix: 'app:data:', guard });
  return { a, b, lockStore, locks };
}

describe('lockGuard', () => {
  it('1,000 concurrent remembers over two caches sharing a store run the factory once', async () => {
    const { a, b } = twoProcesses();
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(30);
      return { n: 42 };
    };
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => (i % 2 ? a : b).remember('k', 60, factory)),
    );
    expect(calls).toBe(1);
    expect(results.every((r) => r.n === 42)).toBe(true);
  });

  it('releases the lock when the factory throws; every waiter in the process gets the error', async () => {
    const { a, b, lockStore } = twoProcesses();
    const failing = async () => {
      await sleep(20);
      throw new Error('boom');
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => a.remember('k', 60, failing)),
    );
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason.message === 'boom')).toBe(
      true,
    );
    expect(await lockStore.owner(stampedeLockName('app:data:k'))).toBeNull();
    expect(await b.remember('k', 60, () => 'fine')).toBe('fine');
  });

  it('a waiter that gets the lock after the value was stored does not call its factory', async () => {
    const { a, b } = twoProcesses();
    let calls = 0;
    const slow = async () => {
      calls++;
      await sleep(50);
      return 'first';
    };
    const [one, two] = await Promise.all([a.remember('k', 60, slow), b.remember('k', 60, slow)]);
    expect([one, two]).toEqual(['first', 'first']);
    expect(calls).toBe(1);
  });

  it('computes anyway when the lock stays busy for the whole wait', async () => {
    const { a, locks } = twoProcesses({ ...fast, waitMs: 30 });
    const stuck = locks.lock(stampedeLockName('app:data:k'), 60_000);
    expect(await stuck.acquire()).not.toBeNull();
    expect(await a.remember('k', 60, () => 'computed')).toBe('computed');
    await stuck.release();
  });

  it('computes unguarded when the lock store fails', async () => {
    const guard = lockGuard(async () => {
      throw new Error('redis down');
    }, fast);
    const cache = new Cache({ store: new MemoryStore({ maxEntries: 10 }), guard });
    expect(await cache.remember('k', 60, () => 'v')).toBe('v');
  });
});

describe('stampedeLockName', () => {
  it('keeps short keys readable and hashes long or unusable ones', () => {
    expect(stampedeLockName('keel:data:user:1')).toBe('cache:keel:data:user:1');
    for (const key of ['x'.repeat(201), 'a\0b', 'lone \uD800 surrogate']) {
      const name = stampedeLockName(key);
      expect(name).toMatch(/^cache:#[0-9a-f]{64}$/);
      expect(stampedeLockName(key)).toBe(name);
    }
    expect(stampedeLockName('x'.repeat(201))).not.toBe(stampedeLockName('x'.repeat(202)));
  });
});

describe('lockGuards', () => {
  const config = resolveCacheConfig({
    default: 'redis',
    stores: {
      main: { driver: 'database', connection: 'main' },
      tier: { driver: 'tiered', l2: 'main' },
    },
    pools: { local: { store: 'memory' }, files: { store: 'file' }, shared: { store: 'tier' } },
  });

  it('guards only pools on shared stores, with locks where their values live', () => {
    expect(stampedeHomes(config)).toEqual([
      { kind: 'redis', url: 'redis://127.0.0.1:6379' },
      { kind: 'database', connection: 'main' },
    ]);
    expect(stampedeMigrations(config).map((m) => [m.module, m.connection])).toEqual([
      ['keel:cache-locks:main', 'main'],
    ]);
    expect(
      stampedeHomes({ ...config, stampede: { enabled: false, ttl: '30s', wait: '10s' } }),
    ).toEqual([]);
  });

  it('routes a key by its pool prefix, and leaves one-process pools unlocked', async () => {
    const built: string[] = [];
    const { guard, close } = lockGuards({
      config,
      settings: fast,
      async store(home) {
        built.push(home.kind);
        return new MemoryLockStore();
      },
    });
    const compute = async () => 'v';
    const none = async () => undefined;
    expect(await guard('keel:local:k', compute, none)).toBe('v');
    expect(await guard('keel:files:k', compute, none)).toBe('v');
    expect(built).toEqual([]);
    expect(await guard('keel:shared:k', compute, none)).toBe('v');
    expect(await guard('keel:data:k', compute, none)).toBe('v');
    expect(await guard('keel:data:other', compute, none)).toBe('v');
    expect(built.sort()).toEqual(['database', 'redis']);
    await close();
  });
});

describe('stampedeSettings', () => {
  it('reads seconds and duration strings, with defaults', () => {
    expect(stampedeSettings(resolveCacheConfig({}))).toEqual(DEFAULT_STAMPEDE);
    const config = resolveCacheConfig({ stampede: { ttl: 90, wait: '500ms' } });
    expect(stampedeSettings(config)).toMatchObject({ ttlMs: 90_000, waitMs: 500 });
    expect(stampedeSettings(resolveCacheConfig({ stampede: { wait: 0 } })).waitMs).toBe(0);
  });

  it('refuses bad durations and types with E_CACHE_CONFIG_INVALID', () => {
    for (const stampede of [
      { ttl: 'soon' },
      { wait: '40d' },
      { ttl: -1 },
      { ttl: '' },
      { enabled: 'yes' },
      { extra: 1 },
    ])
      expect(() => stampedeSettings(resolveCacheConfig({ stampede }))).toThrow(
        expect.objectContaining({ code: 'E_CACHE_CONFIG_INVALID' }),
      );
  });
});
