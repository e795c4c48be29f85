import { describe, expect, it } from 'vitest';
import {
  AUTOSCALE_DEFAULTS,
  type AutoscaleOptions,
  crashBackoffMs,
  decideScale,
  type ScaleState,
} from './autoscale-decision.js';
import type { QueueStats } from './driver.js';

const NOW = 1_000_000;
const OPTIONS: AutoscaleOptions = {
  ...AUTOSCALE_DEFAULTS,
  min: 1,
  max: 4,
  backlogPerWorker: 10,
  maxAgeMs: 30_000,
  cooldownMs: 60_000,
};

function state(overrides: Partial<ScaleState> = {}): ScaleState {
  return {
    workers: 1,
    starting: 0,
    idleSince: undefined,
    lastScaleAt: Number.NEGATIVE_INFINITY,
    crashes: [],
    ...overrides,
  };
}

function stats(ready: number, oldestAgeMs = 0, queue = 'default'): QueueStats {
  return { queue, ready, waiting: ready, delayed: 0, running: 0, oldestAgeMs, failed: 0 };
}

describe('decideScale', () => {
  it('adds workers for the ready backlog, per worker, over several queues', () => {
    expect(decideScale(state(), [stats(25), stats(10, 0, 'low')], OPTIONS, NOW)).toEqual({
      spawn: 3,
      stop: 0,
      reason: '35 jobs ready (10 per worker)',
    });
    // A backlog the workers keep up with changes nothing.
    expect(decideScale(state({ workers: 2 }), [stats(20)], OPTIONS, NOW)).toMatchObject({
      spawn: 0,
      stop: 0,
      reason: 'steady',
    });
  });

  it('adds one worker while the oldest ready job is too old, not while one is booting', () => {
    const old = [stats(3, 45_000)];
    expect(decideScale(state({ workers: 2 }), old, OPTIONS, NOW)).toEqual({
      spawn: 1,
      stop: 0,
      reason: 'oldest ready job waiting 45s (over 30s)',
    });
    expect(decideScale(state({ workers: 3, starting: 1 }), old, OPTIONS, NOW)).toMatchObject({
      spawn: 0,
      stop: 0,
    });
    expect(decideScale(state({ workers: 2 }), [stats(3, 30_000)], OPTIONS, NOW).spawn).toBe(0);
  });

  it('keeps within min and max', () => {
    expect(decideScale(state({ workers: 2 }), [stats(1_000)], OPTIONS, NOW).spawn).toBe(2);
    expect(decideScale(state({ workers: 4 }), [stats(1_000, 99_000)], OPTIONS, NOW)).toMatchObject({
      spawn: 0,
      stop: 0,
    });
    expect(decideScale(state({ workers: 0 }), undefined, { ...OPTIONS, min: 3 }, NOW)).toEqual({
      spawn: 3,
      stop: 0,
      reason: 'below the minimum of 3',
    });
    expect(decideScale(state({ workers: 6 }), [stats(0)], OPTIONS, NOW)).toEqual({
      spawn: 0,
      stop: 2,
      reason: 'above the maximum of 4',
    });
    // The minimum is never stopped, however long the queues stay empty.
    expect(
      decideScale(state({ workers: 1, idleSince: 0 }), [stats(0)], OPTIONS, NOW),
    ).toMatchObject({ stop: 0 });
  });

  it('stops one worker once idle for the cooldown since going idle and since the last scaling', () => {
    const idle = [stats(0)];
    expect(
      decideScale(state({ workers: 3, idleSince: NOW - 59_999 }), idle, OPTIONS, NOW),
    ).toMatchObject({ stop: 0 });
    expect(decideScale(state({ workers: 3, idleSince: NOW - 60_000 }), idle, OPTIONS, NOW)).toEqual(
      { spawn: 0, stop: 1, reason: 'no job ready for 60s' },
    );
    // A worker stopped 10 s ago starts the cooldown again.
    expect(
      decideScale(
        state({ workers: 2, idleSince: NOW - 120_000, lastScaleAt: NOW - 10_000 }),
        idle,
        OPTIONS,
        NOW,
      ),
    ).toMatchObject({ stop: 0 });
    // Not idle: a ready job, or no stats at all.
    expect(
      decideScale(state({ workers: 3, idleSince: NOW - 90_000 }), [stats(1)], OPTIONS, NOW),
    ).toMatchObject({ stop: 0 });
    expect(
      decideScale(state({ workers: 3, idleSince: NOW - 90_000 }), undefined, OPTIONS, NOW),
    ).toMatchObject({ stop: 0 });
  });

  it('holds spawns back after crashes with a doubling, capped backoff', () => {
    const crashed = state({ workers: 0, crashes: [NOW - 500] });
    expect(decideScale(crashed, undefined, OPTIONS, NOW)).toEqual({
      spawn: 0,
      stop: 0,
      reason: 'restart held back 500ms after 1 crash(es) (below the minimum of 1)',
      retryInMs: 500,
    });
    expect(decideScale(crashed, undefined, OPTIONS, NOW + 500)).toMatchObject({ spawn: 1 });
    // Three crashes in the window: 4 s after the last.
    const loop = state({ workers: 0, crashes: [NOW - 5_000, NOW - 3_000, NOW - 1_000] });
    expect(decideScale(loop, undefined, OPTIONS, NOW)).toMatchObject({
      spawn: 0,
      retryInMs: 3_000,
    });
    // Scaling up for a backlog waits too.
    expect(
      decideScale(state({ workers: 1, crashes: [NOW - 100] }), [stats(50)], OPTIONS, NOW),
    ).toMatchObject({ spawn: 0, retryInMs: 900 });
    // Crashes older than the window are forgotten.
    expect(
      decideScale(state({ workers: 0, crashes: [NOW - 61_000] }), undefined, OPTIONS, NOW),
    ).toMatchObject({ spawn: 1 });
  });

  it('caps the backoff', () => {
    expect([1, 2, 3, 4, 7, 1_000].map((n) => crashBackoffMs(n, OPTIONS))).toEqual([
      1_000, 2_000, 4_000, 8_000, 60_000, 60_000,
    ]);
    expect(crashBackoffMs(0, OPTIONS)).toBe(0);
  });
});
