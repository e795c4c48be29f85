import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockManager } from './lock-manager.js';
import type { LockStore } from './lock-store.js';

/** What a store's test gives the suite: the store, and how to drop what it made. */
export interface LockStoreFixture {
  store: LockStore;
  cleanup?: () => Promise<void>;
}

/** Rejects with a KeelError whose code is `code`. */
async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/**
 * The conformance suite every LockStore runs: mutual exclusion, owner-only release and
 * extend, expiry, fencing tokens, blocking, run(), hostile names. Expiry tests use short
 * leases and wait well past them; nothing asserts on how long anything took.
 *
 * @example
 * ```ts
 * lockStoreContract('memory', async () => ({ store: new MemoryLockStore() }));
 * ```
 */
export function lockStoreContract(title: string, setup: () => Promise<LockStoreFixture>): void {
  describe(`LockStore contract: ${title}`, () => {
    let fixture: LockStoreFixture | undefined;
    let locks: LockManager;
    beforeAll(async () => {
      fixture = await setup();
      locks = new LockManager({ store: fixture.store, defaultTtl: '10s', maxPollMs: 20 });
    });
    afterAll(async () => {
      await fixture?.cleanup?.();
    });
    /** A name of its own for each test: fencing counters start at 1. */
    const fresh = (label: string): string => `${label}:${randomBytes(4).toString('hex')}`;

    it('gives the lock to one owner at a time, even to concurrent callers', async () => {
      const name = fresh('mutex');
      const holders = Array.from({ length: 8 }, () => locks.lock(name));
      const tokens = await Promise.all(holders.map((h) => h.acquire()));
      expect(tokens.filter((t) => t !== null)).toEqual([1]);
      const winner = holders[tokens.findIndex((t) => t !== null)]!;
      expect(await fixture!.store.owner(name)).toBe(winner.owner);
      expect(await locks.lock(name).acquire()).toBeNull();
      // Not re-entrant: the holder itself cannot take it twice.
      expect(await winner.acquire()).toBeNull();
      expect(await winner.isOwned()).toBe(true);
      expect(await winner.release()).toBe(true);
      expect(await locks.lock(name).isLocked()).toBe(false);
      expect(await locks.lock(name).acquire()).toBe(2);
    });

    it('lets only the owner release or extend, and reports when it is not', async () => {
      const name = fresh('owner');
      const a = locks.lock(name);
      const b = locks.lock(name);
      expect(await b.release()).toBe(false); // never acquired
      expect(await a.acquire()).toBe(1);
      expect(await b.release()).toBe(false);
      expect(await b.extend('1m')).toBe(false);
      expect(await locks.restore(name, 'not-the-owner').release()).toBe(false);
      expect(await fixture!.store.owner(name)).toBe(a.owner);
      expect(await a.extend('1m')).toBe(true);
      // The owner token, handed to another holder (another process), works.
      expect(await locks.restore(name, a.owner).release()).toBe(true);
      expect(await a.release()).toBe(false); // already released
      expect(await fixture!.store.owner(name)).toBeNull();
    });

    it('expires a lease, after which another owner acquires and the old one owns nothing', async () => {
      const name = fresh('expiry');
      const a = locks.lock(name, 60);
      expect(await a.acquire()).toBe(1);
      await sleep(200);
      expect(await a.isLocked()).toBe(false);
      const b = locks.lock(name, '10s');
      expect(await b.acquire()).toBe(2);
      // The expired owner can neither release nor revive b's lease.
      expect(await a.release()).toBe(false);
      expect(await a.extend('1m')).toBe(false);
      expect(await b.isOwned()).toBe(true);
      // Nor, once expired, can a lease be extended back to life with nobody holding it.
      const c = locks.lock(fresh('expiry2'), 60);
      await c.acquire();
      await sleep(200);
      expect(await c.extend('1m')).toBe(false);
      expect(await c.isLocked()).toBe(false);
      await b.release();
    });

    it('keeps an extended lease past its first ttl', async () => {
      const name = fresh('extend');
      const a = locks.lock(name, 100);
      await a.acquire();
      expect(await a.extend('10s')).toBe(true);
      await sleep(250);
      expect(await a.isOwned()).toBe(true);
      expect(await locks.lock(name).acquire()).toBeNull();
      expect(await a.release()).toBe(true);
    });

    it('returns strictly increasing fencing tokens across owners, releases and expiries', async () => {
      const name = fresh('fencing');
      const tokens: number[] = [];
      for (let i = 0; i < 3; i++) {
        const lock = locks.lock(name);
        tokens.push((await lock.acquire())!);
        expect(lock.fencingToken).toBe(tokens.at(-1));
        await lock.release();
      }
      const short = locks.lock(name, 50);
      tokens.push((await short.acquire())!);
      await sleep(180);
      const next = locks.lock(name);
      tokens.push((await next.acquire())!);
      await locks.forceRelease(name);
      tokens.push((await locks.lock(name).acquire())!);
      expect(tokens).toEqual([1, 2, 3, 4, 5, 6]);
      // Failed attempts do not consume tokens; other names count on their own.
      expect(await locks.lock(name).acquire()).toBeNull();
      expect(await locks.lock(`${name}:other`).acquire()).toBe(1);
      await locks.forceRelease(name);
      expect(await locks.lock(name).acquire()).toBe(7);
    });

    it('block() waits for the holder to release, then acquires', async () => {
      const name = fresh('block');
      const a = locks.lock(name);
      const first = (await a.acquire())!;
      const waiting = locks.lock(name).block('10s');
      await sleep(60);
      await a.release();
      expect(await waiting).toBeGreaterThan(first);
    });

    it('block() waits for an expiry too, and runs a callback', async () => {
      const name = fresh('block-expiry');
      await locks.lock(name, 80).acquire();
      const result = await locks
        .lock(name)
        .block('10s', async ({ fencingToken }) => `ran with ${fencingToken}`);
      expect(result).toBe('ran with 2');
      expect(await locks.lock(name).isLocked()).toBe(false);
    });

    it('block() gives up with E_LOCK_TIMEOUT', async () => {
      const name = fresh('timeout');
      const a = locks.lock(name);
      await a.acquire();
      await expectCode(locks.lock(name).block(100), 'E_LOCK_TIMEOUT');
      await expectCode(locks.lock(name).block(0), 'E_LOCK_TIMEOUT');
      await expectCode(
        locks.lock(name).run(() => 1, { wait: '50ms' }),
        'E_LOCK_TIMEOUT',
      );
      expect(await a.isOwned()).toBe(true);
      await a.release();
    });

    it('run() passes the fencing token, releases in finally, and refuses a busy lock', async () => {
      const name = fresh('run');
      const lock = locks.lock(name);
      const seen = await lock.run(async ({ fencingToken, signal, lock: held }) => {
        expect(await held.isOwned()).toBe(true);
        expect(signal.aborted).toBe(false);
        await expectCode(
          locks.lock(name).run(() => 'never'),
          'E_LOCK_NOT_ACQUIRED',
        );
        return fencingToken;
      });
      expect(seen).toBe(1);
      expect(await lock.isLocked()).toBe(false);
      await expect(
        lock.run(() => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await lock.isLocked()).toBe(false);
    });

    it('run() aborts the signal when the lease is lost, and reports it with E_LOCK_NOT_OWNED', async () => {
      const name = fresh('lost');
      const reasons: unknown[] = [];
      const outcome = locks.lock(name, 60).run(async ({ signal }) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        reasons.push(signal.reason);
        // Let the store's lease run out too, and someone else take the lock.
        await sleep(150);
        expect(await locks.lock(name).acquire()).not.toBeNull();
      });
      await expectCode(outcome, 'E_LOCK_NOT_OWNED');
      expect(reasons).toEqual([expect.objectContaining({ code: 'E_LOCK_NOT_OWNED' })]);
    });

    it('run({ autoExtend }) keeps the lease alive past its ttl', async () => {
      const name = fresh('heartbeat');
      const result = await locks.lock(name, 300).run(
        async ({ signal }) => {
          await sleep(900);
          expect(await locks.lock(name).acquire()).toBeNull();
          return signal.aborted;
        },
        { autoExtend: true },
      );
      expect(result).toBe(false);
      expect(await locks.lock(name).isLocked()).toBe(false);
    });

    it('keeps hostile but valid names apart, byte for byte', async () => {
      const names = [
        `'; DROP TABLE keel_locks; --`,
        'quote " and \\ backslash',
        '%_*?[]{}',
        'Lock',
        'lock',
        'lock ',
        'e',
        'é',
        'e\u0301', // é decomposed: a different string
        '鍵 🔒 ключ',
        '中'.repeat(251), // 255 characters with the prefix, 757 UTF-8 bytes
        `${'😀'.repeat(125)}x`, // 255 UTF-16 units with the prefix, 505 UTF-8 bytes
        'a:b:c'.padEnd(251, '-'),
      ].map((n) => `${randomBytes(2).toString('hex')}${n}`);
      expect(Math.max(...names.map((n) => n.length))).toBe(255);
      const holders = names.map((n) => locks.lock(n));
      expect(await Promise.all(holders.map((h) => h.acquire()))).toEqual(names.map(() => 1));
      for (const [i, holder] of holders.entries())
        expect(await fixture!.store.owner(names[i]!)).toBe(holder.owner);
      expect(await Promise.all(holders.map((h) => h.release()))).toEqual(names.map(() => true));
    });

    it('refuses invalid names and ttls with clear codes, touching nothing', () => {
      for (const name of ['', 'x'.repeat(256), 'nul\0byte', 'lone \uD800 surrogate', 42, null])
        expect(() => locks.lock(name as string), String(name)).toThrow(
          expect.objectContaining({ code: 'E_LOCK_INVALID_NAME' }),
        );
      for (const ttl of [0, -1, Number.NaN, 'soon', '', '40d', {}])
        expect(() => locks.lock('ttl', ttl as number), String(ttl)).toThrow(
          expect.objectContaining({ code: 'E_LOCK_INVALID_TTL' }),
        );
      expect(() => locks.restore('ttl', '')).toThrow(
        expect.objectContaining({ code: 'E_LOCK_NOT_OWNED' }),
      );
    });
  });
}
