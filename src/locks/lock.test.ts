import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Application } from '../kernel/index.js';
import type { Lock, LockContext } from './lock.js';
import { LockManager } from './lock-manager.js';
import './lock-provider.js';
import { assertLockName, lockTtl } from './lock-store.js';
import { MemoryLockStore } from './stores/memory-lock-store.js';

describe('Lock', () => {
  it('types run(), block() and app.make("locks")', () => {
    // Only typed, never called: these calls would really take the lock.
    const typed = (lock: Lock): void => {
      expectTypeOf(lock.acquire()).resolves.toEqualTypeOf<number | null>();
      expectTypeOf(lock.block('1s')).resolves.toEqualTypeOf<number>();
      expectTypeOf(lock.run(async () => 'x')).resolves.toEqualTypeOf<string>();
      expectTypeOf(lock.block('1s', () => 42)).resolves.toEqualTypeOf<number>();
      expectTypeOf<Parameters<Parameters<Lock['run']>[0]>[0]>().toEqualTypeOf<LockContext>();
    };
    expect(typed).toBeTypeOf('function');
    // The ContainerBindings merge declared by LockProvider types the binding.
    const make = (app: Application) => app.make('locks');
    expectTypeOf(make).returns.toEqualTypeOf<LockManager>();
  });

  it('takes a fresh owner token per acquisition, and keeps a restored one', async () => {
    const locks = new LockManager({ store: new MemoryLockStore() });
    const lock = locks.lock('owners');
    await lock.acquire();
    const first = lock.owner;
    await lock.release();
    await lock.acquire();
    expect(lock.owner).not.toBe(first);
    expect(lock.fencingToken).toBe(2);
    const restored = locks.restore('owners', lock.owner);
    expect(await restored.extend()).toBe(true);
    expect(await restored.release()).toBe(true);
    expect(lock.fencingToken).toBe(2); // the original holder's view is its own
  });

  it('rounds ttls up to whole milliseconds and accepts duration strings', () => {
    expect(lockTtl('1m30s')).toBe(90_000);
    expect(lockTtl(1.2)).toBe(2);
    expect(assertLockName('ok')).toBe('ok');
  });
});
