import { describe, expect, it } from 'vitest';
import { InterimRateLimiter } from './interim-rate-limiter.js';

const LIMIT = { max: 3, windowMs: 10_000 };

describe('InterimRateLimiter', () => {
  it('allows max hits per window, refuses the next with the seconds left, then resets', () => {
    const clock = { now: 0 };
    const limiter = new InterimRateLimiter({ now: () => clock.now });
    expect(limiter.hit('/ready', '10.0.0.1', LIMIT)).toEqual({
      allowed: true,
      remaining: 2,
      retryAfter: 10,
    });
    limiter.hit('/ready', '10.0.0.1', LIMIT);
    expect(limiter.hit('/ready', '10.0.0.1', LIMIT).remaining).toBe(0);
    clock.now = 2_500;
    expect(limiter.hit('/ready', '10.0.0.1', LIMIT)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfter: 8,
    });
    // Refused hits do not push the window further out.
    clock.now = 9_999;
    expect(limiter.hit('/ready', '10.0.0.1', LIMIT)).toMatchObject({
      allowed: false,
      retryAfter: 1,
    });
    clock.now = 10_000;
    expect(limiter.hit('/ready', '10.0.0.1', LIMIT)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('counts each (key, client) pair apart, and never mixes pairs that concatenate alike', () => {
    const limiter = new InterimRateLimiter({ now: () => 0 });
    const one = { max: 1, windowMs: 1_000 };
    expect(limiter.hit('/a', '1.1.1.1', one).allowed).toBe(true);
    expect(limiter.hit('/a', '1.1.1.1', one).allowed).toBe(false);
    expect(limiter.hit('/b', '1.1.1.1', one).allowed).toBe(true);
    expect(limiter.hit('/a', '1.1.1.2', one).allowed).toBe(true);
    expect(limiter.hit('/a1', '.1.1.1', one).allowed).toBe(true);
    // An empty address (a socket already gone) is a client like any other.
    expect(limiter.hit('/a', '', one).allowed).toBe(true);
    expect(limiter.hit('/a', '', one).allowed).toBe(false);
  });

  it('remembers at most maxClients pairs, forgetting the least recently seen', () => {
    const limiter = new InterimRateLimiter({ maxClients: 100, now: () => 0 });
    const one = { max: 1, windowMs: 60_000 };
    limiter.hit('/ready', 'first', one);
    for (let i = 0; i < 1_000; i++) limiter.hit('/ready', `10.0.${i >> 8}.${i & 255}`, one);
    expect(limiter.size).toBe(100);
    // Pushed out by the flood: it starts a fresh window (the price of a bounded map).
    expect(limiter.hit('/ready', 'first', one).allowed).toBe(true);
    limiter.clear();
    expect(limiter.size).toBe(0);
  });
});
