import { describe, expect, it } from 'vitest';
import { lockStoreContract } from '../lock-store.contract.js';
import { MemoryLockStore } from './memory-lock-store.js';

lockStoreContract('memory', async () => ({ store: new MemoryLockStore() }));

describe('MemoryLockStore', () => {
  it('expires by its clock, keeping the fencing counter', async () => {
    let now = 1_000;
    const store = new MemoryLockStore({ now: () => now });
    expect(await store.acquire('a', 'o1', 100)).toBe(1);
    now += 99;
    expect(await store.acquire('a', 'o2', 100)).toBeNull();
    now += 1;
    expect(await store.owner('a')).toBeNull();
    expect(await store.acquire('a', 'o2', 100)).toBe(2);
    await store.close();
    expect(await store.owner('a')).toBeNull();
  });
});
