import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimitStore } from './rate-limit-store.js';
import { RateLimiter } from './rate-limiter.js';

/** What a store's test gives the suite: the store, and how to drop what it made. */
export interface RateLimitStoreFixture {
  store: RateLimitStore;
  /** The key prefix the suite must use (a test's own namespace). */
  prefix: string;
  cleanup?: () => Promise<void>;
}

/**
 * The conformance suite every rate-limit store runs, through {@link RateLimiter}: exact
 * counting under concurrency, per-key and per-limiter isolation, clear, remaining, block
 * and blockDuration, window expiry, and hostile keys. The expiry test uses a 1 s window
 * and waits well past it; nothing asserts on how long anything took.
 *
 * @example
 * ```ts
 * rateLimitStoreContract('memory', async () => ({ store: new MemoryRateLimitStore(), prefix: 't' }));
 * ```
 */
export function rateLimitStoreContract(
  title: string,
  setup: () => Promise<RateLimitStoreFixture>,
): void {
  describe(`RateLimitStore contract: ${title}`, () => {
    let fixture: RateLimitStoreFixture | undefined;
    let limiter: RateLimiter;
    beforeAll(async () => {
      fixture = await setup();
      limiter = new RateLimiter({
        store: fixture.store,
        prefix: fixture.prefix,
        onStoreError: 'closed',
        limiters: {
          five: { points: 5, duration: 60 },
          other: { points: 5, duration: 60 },
          blocking: { points: 2, duration: 60, blockDuration: 120 },
          short: { points: 1, duration: 1 },
          twenty: { points: 20, duration: 60 },
        },
      });
    });
    afterAll(async () => {
      await fixture?.cleanup?.();
    });
    const fresh = (label: string): string => `${label}:${randomBytes(4).toString('hex')}`;

    it('allows exactly `points` per window, then refuses with the time left', async () => {
      const key = fresh('ip');
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await limiter.attempt('five', key));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false, false]);
      expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
      const refused = results[5]!;
      expect(refused.limit).toBe(5);
      expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfter).toBeLessThanOrEqual(60);
      expect(refused.resetMs).toBeGreaterThan(0);
      expect(refused.degraded).toBe(false);
      await expect(limiter.consume('five', key)).rejects.toMatchObject({
        code: 'E_RATE_LIMITED',
        status: 429,
      });
    });

    it('counts concurrent hits exactly: 50 at once on 20 points let 20 through', async () => {
      const key = fresh('burst');
      const results = await Promise.all(
        Array.from({ length: 50 }, () => limiter.attempt('twenty', key)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(20);
      expect(await limiter.remaining('twenty', key)).toBe(0);
    });

    it('keeps keys and limiters apart', async () => {
      const a = fresh('a');
      const b = fresh('b');
      for (let i = 0; i < 5; i++) await limiter.attempt('five', a);
      expect((await limiter.attempt('five', a)).allowed).toBe(false);
      expect((await limiter.attempt('five', b)).allowed).toBe(true);
      expect((await limiter.attempt('other', a)).allowed).toBe(true);
      expect(await limiter.remaining('five', b)).toBe(4);
      expect(await limiter.remaining('other', a)).toBe(4);
    });

    it('reports remaining and consumed without counting, and clear() starts over', async () => {
      const key = fresh('clear');
      expect(await limiter.remaining('five', key)).toBe(5);
      expect(await limiter.consumed('five', key)).toBe(0);
      await limiter.attempt('five', key);
      await limiter.attempt('five', key, 2);
      expect(await limiter.remaining('five', key)).toBe(2);
      expect(await limiter.consumed('five', key)).toBe(3);
      await limiter.clear('five', key);
      expect(await limiter.remaining('five', key)).toBe(5);
      expect((await limiter.attempt('five', key)).remaining).toBe(4);
      // Clearing a key nobody used is fine.
      await limiter.clear('five', fresh('never'));
    });

    it('charges `cost` points per attempt and reports remaining attempts at that cost', async () => {
      const key = fresh('cost');
      const first = await limiter.attempt('five', key, 2);
      expect(first).toMatchObject({ allowed: true, cost: 2, remaining: 1 });
      expect((await limiter.attempt('five', key, 2)).allowed).toBe(true);
      expect((await limiter.attempt('five', key, 2)).allowed).toBe(false);
      // A cost above the points is capped: one attempt per window, never none.
      const big = fresh('big');
      expect((await limiter.attempt('five', big, 1_000)).allowed).toBe(true);
      expect((await limiter.attempt('five', big, 1_000)).allowed).toBe(false);
    });

    it('blocks for blockDuration once over, and block() refuses at once', async () => {
      const key = fresh('block');
      await limiter.attempt('blocking', key);
      await limiter.attempt('blocking', key);
      const over = await limiter.attempt('blocking', key);
      expect(over.allowed).toBe(false);
      // The block (120 s) outlasts the window (60 s).
      expect(over.retryAfter).toBeGreaterThan(60);
      const banned = fresh('ban');
      await limiter.block('five', banned, 30);
      const refused = await limiter.attempt('five', banned);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfter).toBeGreaterThan(1);
      expect(refused.retryAfter).toBeLessThanOrEqual(30);
    });

    it('starts a new window once the old one ended', async () => {
      const key = fresh('expiry');
      expect((await limiter.attempt('short', key)).allowed).toBe(true);
      expect((await limiter.attempt('short', key)).allowed).toBe(false);
      await sleep(1_600);
      const next = await limiter.attempt('short', key);
      expect(next.allowed).toBe(true);
      expect(next.remaining).toBe(0);
    });

    it('takes hostile keys (huge, Unicode, CRLF, NUL, quotes) and keeps them apart', async () => {
      const keys = [
        'x'.repeat(1_000_000),
        `${'x'.repeat(999_999)}y`,
        'ключ-🔑-鍵',
        'ключ-🔑-鍵 ',
        'a\r\nSet-Cookie: evil=1',
        'a\r\nSet-Cookie: evil=2',
        'nul\u0000byte',
        'quote\'"; DROP TABLE rate_limits; --',
        '#looks-hashed',
        '',
      ].map((k) => `${k}${fresh('')}`);
      for (const key of keys) expect((await limiter.attempt('other', key, 5)).allowed).toBe(true);
      for (const key of keys) {
        expect((await limiter.attempt('other', key)).allowed).toBe(false);
        expect(await limiter.remaining('other', key)).toBe(0);
      }
      await limiter.clear('other', keys[0]!);
      expect(await limiter.remaining('other', keys[0]!)).toBe(5);
      expect(await limiter.remaining('other', keys[1]!)).toBe(0);
    });
  });
}
