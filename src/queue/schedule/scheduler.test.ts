import { describe, expect, it } from 'vitest';
import type { Application, CommandDefinition } from '../../kernel/index.js';
import { createNullLogger, defineCommand } from '../../kernel/index.js';
import { LockManager } from '../../locks/lock-manager.js';
import { MemoryLockStore } from '../../locks/stores/memory-lock-store.js';
import { Job } from '../job.js';
import { commandRunner } from './command-runner.js';
import { Schedule } from './schedule.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

class Digest extends Job<{ list: string }> {
  static override jobName = 'mail:digest';
  handle(): void {}
}

const at = (iso: string): Date => new Date(iso);

function scheduler(schedule: Schedule, options: Partial<SchedulerOptions> = {}): Scheduler {
  return new Scheduler({ schedule, logger: createNullLogger(), ...options });
}

/** A promise with its resolve function, to hold a task open. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Scheduler.due', () => {
  it('evaluates each task in its own time zone', () => {
    const schedule = new Schedule();
    schedule.call('utc', () => {}).dailyAt('02:00');
    schedule
      .call('paris', () => {})
      .dailyAt('02:00')
      .timezone('Europe/Paris');
    schedule
      .call('new-york', () => {})
      .dailyAt('02:00')
      .timezone('America/New_York');
    schedule
      .call('kolkata', () => {})
      .dailyAt('02:00')
      .timezone('Asia/Kolkata');
    const s = scheduler(schedule);
    const names = (iso: string): string[] => s.due(at(iso)).map((t) => t.info.name);
    expect(names('2026-01-15T02:00:00Z')).toEqual(['utc']);
    expect(names('2026-01-15T01:00:00Z')).toEqual(['paris']); // CET, UTC+1
    expect(names('2026-07-15T00:00:00Z')).toEqual(['paris']); // CEST, UTC+2
    expect(names('2026-01-15T07:00:00Z')).toEqual(['new-york']); // EST
    expect(names('2026-07-15T06:00:00Z')).toEqual(['new-york']); // EDT
    expect(names('2026-01-14T20:30:00Z')).toEqual(['kolkata']); // UTC+5:30
    // Anywhere inside the minute counts; the next minute does not.
    expect(names('2026-01-15T02:00:59.999Z')).toEqual(['utc']);
    expect(names('2026-01-15T02:01:00Z')).toEqual([]);
  });

  it('across the spring-forward gap: a fixed time runs once just after it, intervals skip it', () => {
    // Europe/Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    const schedule = new Schedule({ timezone: 'Europe/Paris' });
    schedule.call('at-02:30', () => {}).dailyAt('02:30');
    schedule.call('every-30', () => {}).everyThirtyMinutes();
    const s = scheduler(schedule);
    const runs: Record<string, string[]> = { 'at-02:30': [], 'every-30': [] };
    for (
      let t = at('2026-03-28T23:00:00Z').getTime();
      t < at('2026-03-29T03:00:00Z').getTime();
      t += 60_000
    )
      for (const task of s.due(new Date(t))) runs[task.info.name]?.push(new Date(t).toISOString());
    expect(runs['at-02:30']).toEqual(['2026-03-29T01:00:00.000Z']); // 03:00 CEST
    expect(runs['every-30']).toEqual([
      '2026-03-28T23:00:00.000Z', // 00:00 CET
      '2026-03-28T23:30:00.000Z',
      '2026-03-29T00:00:00.000Z', // 01:00 CET
      '2026-03-29T00:30:00.000Z', // 01:30 CET; 02:00 and 02:30 do not exist
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T01:30:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T02:30:00.000Z',
    ]);
  });

  it('across the fall-back hour: a fixed time runs once, an hourly task in both hours', () => {
    // America/New_York, 2026-11-01: 02:00 EDT goes back to 01:00 EST (06:00 UTC).
    const schedule = new Schedule({ timezone: 'America/New_York' });
    schedule.call('at-01:30', () => {}).dailyAt('01:30');
    schedule.call('hourly', () => {}).hourly();
    const s = scheduler(schedule);
    const runs: Record<string, string[]> = { 'at-01:30': [], hourly: [] };
    for (
      let t = at('2026-11-01T04:00:00Z').getTime();
      t < at('2026-11-01T08:00:00Z').getTime();
      t += 60_000
    )
      for (const task of s.due(new Date(t))) runs[task.info.name]?.push(new Date(t).toISOString());
    expect(runs['at-01:30']).toEqual(['2026-11-01T05:30:00.000Z']); // the first 01:30 (EDT) only
    expect(runs.hourly).toEqual([
      '2026-11-01T04:00:00.000Z', // 00:00 EDT
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST, the hour again
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ]);
  });

  it('gives each task its next run; never for an expression that cannot match', () => {
    const schedule = new Schedule();
    schedule
      .call('weekly', () => {})
      .weeklyOn(1, '08:00')
      .timezone('Europe/Paris');
    schedule.call('feb-31', () => {}).cron('0 0 31 2 *');
    schedule.call('now', () => {});
    const next = scheduler(schedule).upcoming(at('2026-01-07T10:00:30Z'));
    expect(next.map((n) => [n.task.info.name, n.nextRun?.toISOString() ?? null])).toEqual([
      ['weekly', '2026-01-12T07:00:00.000Z'],
      ['feb-31', null],
      ['now', '2026-01-07T10:01:00.000Z'],
    ]);
  });
});

describe('Scheduler.runDue', () => {
  it('runs every due task; a failing one is reported and the others still run', async () => {
    const ran: string[] = [];
    const schedule = new Schedule();
    schedule.call('first', () => {
      ran.push('first');
    });
    schedule.call('throws', () => {
      throw new Error('the report database is down');
    });
    schedule.call('rejects-non-error', () => Promise.reject('a string'));
    schedule.call('last', async ({ name, scheduledAt }) => {
      ran.push(`${name}@${scheduledAt.toISOString()}`);
    });
    schedule.call('not-due', () => ran.push('not-due')).hourly();
    const results = await scheduler(schedule).runDue(at('2026-05-05T10:17:42Z'));
    expect(ran).toEqual(['first', 'last@2026-05-05T10:17:00.000Z']);
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['first', 'ran'],
      ['throws', 'failed'],
      ['rejects-non-error', 'failed'],
      ['last', 'ran'],
    ]);
    expect((results[1]?.error as Error | undefined)?.message).toBe('the report database is down');
    expect(results[2]?.error).toBe('a string');
  });

  it('logs start, finish and failure with the duration', async () => {
    const lines: Array<[string, Record<string, unknown>, string]> = [];
    const logger = createNullLogger();
    const recording = new Proxy(logger, {
      get(target, key) {
        if (key === 'child') return (bindings: Record<string, unknown>) => recorder(bindings);
        return Reflect.get(target, key);
      },
    });
    const recorder = (bindings: Record<string, unknown>) => ({
      info: (obj: Record<string, unknown>, msg: string) =>
        lines.push(['info', { ...bindings, ...obj }, msg]),
      error: (obj: Record<string, unknown>, msg: string) =>
        lines.push(['error', { ...bindings, ...obj }, msg]),
      debug: () => {},
      warn: () => {},
    });
    const schedule = new Schedule();
    schedule.call('ok', () => {});
    schedule.call('bad', () => {
      throw new Error('boom');
    });
    await scheduler(schedule, { logger: recording }).runDue(at('2026-05-05T10:17:00Z'));
    // Tasks run side by side: compare each task's lines, not their interleaving.
    const seen = lines.map(([level, obj, msg]) => [
      level,
      obj.task,
      msg.replace(/[\d.]+ ms/, 'N ms'),
    ]);
    expect(seen.filter((l) => l[1] === 'ok').concat(seen.filter((l) => l[1] === 'bad'))).toEqual([
      ['info', 'ok', 'schedule: ok started'],
      ['info', 'ok', 'schedule: ok finished in N ms'],
      ['info', 'bad', 'schedule: bad started'],
      ['error', 'bad', 'schedule: bad failed after N ms: boom'],
    ]);
    const failure = lines.find(([level]) => level === 'error')?.[1];
    expect(failure).toMatchObject({ durationMs: expect.any(Number), err: expect.any(Error) });
  });

  it('dispatches a new job per run through the injected dispatcher', async () => {
    const dispatched: Job<unknown>[] = [];
    const schedule = new Schedule();
    schedule.job(Digest, { list: 'weekly' });
    const s = scheduler(schedule);
    const [missing] = await s.runDue(at('2026-05-05T10:00:00Z'));
    expect(missing).toMatchObject({
      status: 'failed',
      error: expect.objectContaining({ code: 'E_SCHEDULE_NO_DISPATCHER' }),
    });
    s.useDispatcher((job) => dispatched.push(job));
    await s.runDue(at('2026-05-05T10:00:00Z'));
    await s.runDue(at('2026-05-05T10:01:00Z'));
    expect(dispatched).toHaveLength(2);
    expect(dispatched[0]).toBeInstanceOf(Digest);
    expect(dispatched[0]?.payload).toEqual({ list: 'weekly' });
    expect(dispatched[0]).not.toBe(dispatched[1]);
  });

  it('applies when(), skip() and environments()', async () => {
    const ran: string[] = [];
    const schedule = new Schedule();
    schedule.call('when-false', () => ran.push('when-false')).when(() => false);
    schedule.call('when-true', () => ran.push('when-true')).when(async () => true);
    schedule.call('skip-true', () => ran.push('skip-true')).skip(() => true);
    schedule.call('prod-only', () => ran.push('prod-only')).environments('production');
    schedule.call('staging', () => ran.push('staging')).environments('staging', 'development');
    schedule
      .call('filter-throws', () => ran.push('filter-throws'))
      .when(() => {
        throw new Error('filter broke');
      });
    const results = await scheduler(schedule, { environment: 'development' }).runDue(
      at('2026-05-05T10:00:00Z'),
    );
    expect(ran.sort()).toEqual(['staging', 'when-true']);
    expect(results.map((r) => [r.name, r.status, r.reason])).toEqual([
      ['when-false', 'skipped', 'filtered'],
      ['when-true', 'ran', undefined],
      ['skip-true', 'skipped', 'filtered'],
      ['prod-only', 'skipped', 'environment'],
      ['staging', 'ran', undefined],
      ['filter-throws', 'failed', undefined],
    ]);
  });

  it('runs commands in-process with their parsed arguments; unknown or failing ones fail the task', async () => {
    const received: unknown[] = [];
    const commands = [
      defineCommand({
        name: 'reports:send',
        aliases: ['rs'],
        description: 'x',
        arguments: [{ name: 'period', required: true }],
        options: [{ flags: '--to <who>' }, { flags: '--dry-run' }],
        json: true,
        handle({ args, options, ui }) {
          received.push({ args, options });
          ui.success('sent');
          return 0;
        },
      }),
      defineCommand({ name: 'reports:broken', description: 'x', handle: () => 3 }),
      defineCommand({ name: 'app:serve', description: 'x', longRunning: true, handle: () => 0 }),
    ] as CommandDefinition[];
    const app = { paths: { root: '/nowhere' } } as Application;
    const schedule = new Schedule();
    schedule.command('reports:send "Q1 2026" --to=ops --dry-run');
    schedule.command('rs', ['monthly', '--to', 'ceo']);
    schedule.command('reports:broken');
    schedule.command('reports:sned');
    schedule.command('reports:send --unknown-flag q');
    schedule.command('app:serve');
    const s = scheduler(schedule, { runCommand: commandRunner(app, async () => commands) });
    const results = await s.runDue(at('2026-05-05T10:00:00Z'));
    expect(received).toEqual([
      { args: { period: 'Q1 2026' }, options: { to: 'ops', dryRun: true } },
      { args: { period: 'monthly' }, options: { to: 'ceo' } },
    ]);
    const errors = results.map((r) =>
      r.status === 'failed' ? (r.error as { code: string; message: string }) : r.status,
    );
    expect(errors.slice(0, 2)).toEqual(['ran', 'ran']);
    expect(errors[2]).toMatchObject({
      code: 'E_SCHEDULE_COMMAND_FAILED',
      message: 'The scheduled command "reports:broken" failed: it exited with code 3',
    });
    expect(errors[3]).toMatchObject({
      code: 'E_SCHEDULE_COMMAND_NOT_FOUND',
      message: 'The scheduled command "reports:sned" does not exist; did you mean "reports:send"?',
    });
    expect(errors[4]).toMatchObject({
      code: 'E_SCHEDULE_COMMAND_FAILED',
      message: expect.stringContaining("unknown option '--unknown-flag'"),
    });
    expect(errors[5]).toMatchObject({
      code: 'E_SCHEDULE_COMMAND_FAILED',
      message: expect.stringContaining('long-running'),
    });
  });
});

describe('Scheduler locks (memory store)', () => {
  it('withoutOverlapping skips a run while the previous one still runs, then runs again', async () => {
    const locks = new LockManager({ store: new MemoryLockStore() });
    const hold = deferred();
    let runs = 0;
    const schedule = new Schedule();
    schedule
      .call('slow', async () => {
        runs++;
        await hold.promise;
      })
      .withoutOverlapping('5m');
    const s = scheduler(schedule, { locks });
    const first = s.runDue(at('2026-05-05T10:00:00Z'));
    // The first run holds the lock once it has started.
    await expect.poll(() => runs).toBe(1);
    expect(await s.runDue(at('2026-05-05T10:01:00Z'))).toMatchObject([
      { name: 'slow', status: 'skipped', reason: 'overlapping' },
    ]);
    hold.resolve();
    expect(await first).toMatchObject([{ status: 'ran' }]);
    expect(await s.runDue(at('2026-05-05T10:02:00Z'))).toMatchObject([{ status: 'ran' }]);
    expect(runs).toBe(2);
    // A failed run releases the lock too.
    const failing = new Schedule();
    failing.call('fails', () => Promise.reject(new Error('x'))).withoutOverlapping();
    const f = scheduler(failing, { locks });
    expect(await f.runDue(at('2026-05-05T10:00:00Z'))).toMatchObject([{ status: 'failed' }]);
    expect(await locks.lock('schedule:overlap:fails').isLocked()).toBe(false);
  });

  it('onOneServer: two schedulers sharing a lock store run the task once per minute', async () => {
    const locks = new LockManager({ store: new MemoryLockStore() });
    let runs = 0;
    const define = (): Schedule => {
      const schedule = new Schedule();
      schedule
        .call('report', () => {
          runs++;
        })
        .onOneServer();
      schedule.call('local', () => {});
      return schedule;
    };
    const a = scheduler(define(), { locks });
    const b = scheduler(define(), { locks });
    const minute = at('2026-05-05T10:00:00Z');
    const [ra, rb] = await Promise.all([a.runDue(minute), b.runDue(minute)]);
    expect(runs).toBe(1);
    expect(
      [...(ra ?? []), ...(rb ?? [])]
        .filter((r) => r.name === 'report')
        .map((r) => r.status)
        .sort(),
    ).toEqual(['ran', 'skipped']);
    // A server that comes late to the same minute does not run it again…
    expect(await b.runDue(at('2026-05-05T10:00:40Z'))).toMatchObject([
      { status: 'skipped', reason: 'other-server' },
      { status: 'ran' },
    ]);
    // …and the next minute is anyone's.
    await b.runDue(at('2026-05-05T10:01:00Z'));
    expect(runs).toBe(2);
  });

  it('fails a locking task with E_SCHEDULE_NO_LOCKS when no lock manager is configured', async () => {
    const schedule = new Schedule();
    schedule.call('a', () => {}).onOneServer();
    schedule.call('b', () => {}).withoutOverlapping();
    schedule.call('c', () => {});
    const results = await scheduler(schedule).runDue(at('2026-05-05T10:00:00Z'));
    expect(
      results.map((r) => (r.error as { code?: string } | undefined)?.code ?? r.status),
    ).toEqual(['E_SCHEDULE_NO_LOCKS', 'E_SCHEDULE_NO_LOCKS', 'ran']);
  });
});
