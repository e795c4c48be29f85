import { describe, expect, it, vi } from 'vitest';
import { abortableWait } from './abortable-wait.js';

describe('abortableWait', () => {
  it('resolves on the timer, on abort or on wake, and cleans up once', async () => {
    vi.useFakeTimers();
    try {
      const timed = abortableWait(1000, new AbortController().signal);
      await vi.advanceTimersByTimeAsync(1000);
      await expect(timed).resolves.toBeUndefined();

      const controller = new AbortController();
      const aborted = abortableWait(60_000, controller.signal);
      controller.abort();
      await expect(aborted).resolves.toBeUndefined();

      const waiters = new Set<() => void>();
      const cleanup = vi.fn((wake: () => void) => waiters.delete(wake));
      const woken = abortableWait(60_000, new AbortController().signal, (wake) => {
        waiters.add(wake);
        return () => cleanup(wake);
      });
      expect(waiters.size).toBe(1);
      for (const wake of waiters) wake();
      await expect(woken).resolves.toBeUndefined();
      expect(cleanup).toHaveBeenCalledTimes(1);
      expect(waiters.size).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('resolves at once on an already aborted signal, without subscribing', async () => {
    const subscribe = vi.fn(() => () => {});
    await abortableWait(60_000, AbortSignal.abort(), subscribe);
    expect(subscribe).not.toHaveBeenCalled();
  });
});
