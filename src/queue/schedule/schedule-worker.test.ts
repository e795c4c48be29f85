import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createNullLogger } from '../../kernel/index.js';
import { Schedule } from './schedule.js';
import { ScheduleWorker } from './schedule-worker.js';
import { Scheduler } from './scheduler.js';

/** A clock that moves only when the worker sleeps; each sleep is recorded. */
function fakeTime(start: string): {
  now: () => Date;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  sleeps: number[];
} {
  let time = new Date(start).getTime();
  const sleeps: number[] = [];
  return {
    now: () => new Date(time),
    sleeps,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      if (signal.aborted) return;
      time += ms;
      // Let the tasks started by the previous tick make progress.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('ScheduleWorker', () => {
  it('wakes at each minute boundary and runs the tasks due then', async () => {
    const clock = fakeTime('2026-05-05T10:00:20Z');
    const ran: string[] = [];
    const schedule = new Schedule();
    schedule.call('every-minute', ({ scheduledAt }) => {
      ran.push(scheduledAt.toISOString());
    });
    schedule
      .call('every-two', () => {
        ran.push('two');
      })
      .everyTwoMinutes();
    const scheduler = new Scheduler({ schedule, logger: createNullLogger(), now: clock.now });
    const ticks: string[] = [];
    const worker = new ScheduleWorker({
      scheduler,
      logger: createNullLogger(),
      signals: new EventEmitter(),
      sleep: clock.sleep,
      onTick: (minute) => {
        ticks.push(minute.toISOString());
        if (ticks.length === 3) worker.stop();
      },
    });
    await worker.run();
    // The current minute (10:00) is not run: the first tick is the next boundary.
    expect(ticks).toEqual([
      '2026-05-05T10:01:00.000Z',
      '2026-05-05T10:02:00.000Z',
      '2026-05-05T10:03:00.000Z',
    ]);
    expect(clock.sleeps.slice(0, 3)).toEqual([40_000, 60_000, 60_000]);
    expect(ran).toEqual([
      '2026-05-05T10:01:00.000Z',
      '2026-05-05T10:02:00.000Z',
      'two',
      '2026-05-05T10:03:00.000Z',
    ]);
    expect(worker.stoppedBy).toBe('stop()');
  });

  it('stops on SIGTERM or SIGINT after the running tasks finish, and starts no new minute', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const clock = fakeTime('2026-05-05T10:00:59Z');
      const signals = new EventEmitter();
      let finish = (): void => {};
      const events: string[] = [];
      const schedule = new Schedule();
      schedule.call('long', async () => {
        events.push('started');
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        events.push('finished');
      });
      const scheduler = new Scheduler({ schedule, logger: createNullLogger(), now: clock.now });
      // After the first tick the worker sleeps until a signal comes.
      let calls = 0;
      const sleep = async (ms: number, abort: AbortSignal): Promise<void> => {
        if (++calls === 1) return clock.sleep(ms, abort);
        await new Promise((resolve) => abort.addEventListener('abort', resolve, { once: true }));
      };
      const worker = new ScheduleWorker({ scheduler, logger: createNullLogger(), signals, sleep });
      let stopped = false;
      const run = worker.run().then(() => {
        stopped = true;
      });
      await expect.poll(() => events).toEqual(['started']);
      expect(signals.listenerCount(signal)).toBe(1);
      signals.emit(signal, signal);
      // Stopped waiting, but the running task holds run() open.
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(false);
      finish();
      await run;
      expect(events).toEqual(['started', 'finished']);
      expect(worker.stoppedBy).toBe(signal);
      expect(calls).toBe(2);
      // Its handlers are gone: a second signal is the process's default (forced exit).
      expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    }
  });

  it('skips minutes missed while the machine slept, as cron does', async () => {
    let time = new Date('2026-05-05T10:00:30Z').getTime();
    const schedule = new Schedule();
    const ran: string[] = [];
    schedule.call('t', ({ scheduledAt }) => {
      ran.push(scheduledAt.toISOString());
    });
    const scheduler = new Scheduler({
      schedule,
      logger: createNullLogger(),
      now: () => new Date(time),
    });
    let sleeps = 0;
    const worker = new ScheduleWorker({
      scheduler,
      logger: createNullLogger(),
      signals: new EventEmitter(),
      sleep: async (ms) => {
        sleeps++;
        // The first sleep oversleeps by ten minutes.
        time += sleeps === 1 ? ms + 10 * 60_000 : ms;
        if (sleeps === 3) worker.stop();
      },
    });
    await worker.run();
    expect(ran).toEqual(['2026-05-05T10:11:00.000Z', '2026-05-05T10:12:00.000Z']);
  });
});
