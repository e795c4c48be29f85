import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDialect, testConnection } from '../../test/support/databases.js';
import type { Connection } from '../db/index.js';
import { createNullLogger } from '../kernel/index.js';
import { LockManager } from '../locks/lock-manager.js';
import { createKeelLocksTable } from '../locks/migrations/create-keel-locks-table.js';
import { DatabaseLockStore } from '../locks/stores/database-lock-store.js';
import { MemoryLockStore } from '../locks/stores/memory-lock-store.js';
import { resolveQueueConfig } from './config.js';
import { JobDispatcher } from './dispatcher.js';
import type { QueueDriver } from './driver.js';
import { DatabaseQueueDriver } from './drivers/database-driver.js';
import { MemoryQueueDriver } from './drivers/memory-driver.js';
import { Job, type JobContext } from './job.js';
import {
  type JobMiddleware,
  type JobMiddlewareContext,
  rateLimited,
  withoutOverlapping,
} from './job-middleware.js';
import { JobRegistry } from './job-registry.js';
import { createQueueTables } from './migrations/create-queue-tables.js';
import { QueueManager } from './queue-manager.js';
import { Worker, type WorkerOptions } from './worker.js';

/** Every run of a job, by queue: the tag and the attempt it ran as. */
const runs = new Map<string, Array<{ tag: string; attempt: number }>>();
const record = (ctx: JobContext, tag: string) =>
  runs.set(ctx.queue, [...(runs.get(ctx.queue) ?? []), { tag, attempt: ctx.attempt }]);

/** Gates a Held job waits on, by tag; opened by the test. */
const gates = new Map<string, { open: () => void; wait: Promise<void> }>();
function gate(tag: string): { open: () => void; wait: Promise<void> } {
  let found = gates.get(tag);
  if (found === undefined) {
    let open!: () => void;
    const wait = new Promise<void>((resolve) => {
      open = resolve;
    });
    found = { open, wait };
    gates.set(tag, found);
  }
  return found;
}

const rateKey = `crm-${randomUUID().slice(0, 8)}`;
class Limited extends Job<{ tag: string }> {
  static override jobName = 'test:limited';
  static override options = { tries: 1 };
  static override middleware = [rateLimited({ key: rateKey, max: 2, per: '1h' })];
  handle(ctx: JobContext) {
    record(ctx, this.payload.tag);
  }
}

class Held extends Job<{ account: string; tag: string }> {
  static override jobName = 'test:held';
  static override middleware = [
    withoutOverlapping({ key: (job) => (job as Held).payload.account }),
  ];
  async handle(ctx: JobContext) {
    record(ctx, `${this.payload.tag}:start`);
    await gate(this.payload.tag).wait;
    record(ctx, `${this.payload.tag}:end`);
  }
}

/** The default key: the job name and its payload. */
class Exclusive extends Job<{ n: number }> {
  static override jobName = 'test:exclusive';
  static override middleware = [withoutOverlapping({ releaseAfter: '1m' })];
  async handle(ctx: JobContext) {
    record(ctx, `${this.payload.n}:start`);
    await gate(`exclusive:${ctx.queue}:${this.payload.n}`).wait;
  }
}

const tracing =
  (name: string): JobMiddleware =>
  async (ctx, next) => {
    record(ctx.context, `${name}:before`);
    await next();
    record(ctx.context, `${name}:after`);
  };

class Ordered extends Job<null> {
  static override jobName = 'test:ordered';
  static override middleware = [tracing('outer'), tracing('inner')];
  handle(ctx: JobContext) {
    record(ctx, 'handle');
  }
}

/** Released once by its middleware (its attempt must not count), then run. */
const releasedOnce = new Set<string>();
class Postponed extends Job<null> {
  static override jobName = 'test:postponed';
  static override options = { tries: 1 };
  static override middleware: JobMiddleware[] = [
    async (ctx, next) => {
      if (releasedOnce.has(ctx.context.id)) return next();
      releasedOnce.add(ctx.context.id);
      ctx.release('10s');
    },
  ];
  handle(ctx: JobContext) {
    record(ctx, 'ran');
  }
}

class Twice extends Job<null> {
  static override jobName = 'test:twice';
  static override middleware: JobMiddleware[] = [
    async (_ctx, next) => {
      await next();
      await next();
    },
  ];
  handle(ctx: JobContext) {
    record(ctx, 'handle');
  }
}

class LateRelease extends Job<null> {
  static override jobName = 'test:late-release';
  static override middleware: JobMiddleware[] = [
    async (ctx, next) => {
      await next();
      ctx.release('1s');
    },
  ];
  handle() {}
}

class Refused extends Job<null> {
  static override jobName = 'test:refused';
  static override options = { tries: 2 };
  static override middleware: JobMiddleware[] = [
    async () => {
      throw new Error('refused by middleware');
    },
  ];
  handle(ctx: JobContext) {
    record(ctx, 'handle');
  }
}

const CLASSES = [Limited, Held, Exclusive, Ordered, Postponed, Twice, LateRelease, Refused];

interface Setup {
  driver: QueueDriver;
  locks: LockManager;
  /** The clock of the driver, the workers and (memory) the lock store. */
  clock: { now: number };
  /** Whether the lock store runs on `clock` (memory) or on the database's own clock. */
  virtualLocks: boolean;
}

/** The middleware cases, on one driver and lock store. */
function middlewareSuite(
  label: string,
  build: () => Promise<Setup>,
  teardown: () => Promise<void>,
) {
  describe(`job middleware on ${label}`, () => {
    let setup: Setup;
    let dispatcher: JobDispatcher;
    const registry = new JobRegistry();
    registry.register(...CLASSES);
    beforeAll(async () => {
      setup = await build();
      dispatcher = new JobDispatcher({
        driver: () => setup.driver,
        registry,
        now: () => setup.clock.now,
      });
    });
    afterAll(teardown);
    const queue = (): string => `mw-${randomUUID().slice(0, 8)}`;
    const worker = (q: string, o: Partial<WorkerOptions> = {}) =>
      new Worker({
        driver: setup.driver,
        registry,
        logger: createNullLogger(),
        locks: setup.locks,
        queues: [q],
        stopWhenEmpty: true,
        sleepMs: 5,
        now: () => setup.clock.now,
        ...o,
      });

    it('rateLimited: at most max runs per window across two workers; the rest wait, uncounted', async () => {
      const q = queue();
      for (let i = 0; i < 5; i++)
        await dispatcher.dispatch(new Limited({ tag: `job-${i}` })).onQueue(q);
      const [a, b] = await Promise.all([
        worker(q, { concurrency: 2 }).run(),
        worker(q, { concurrency: 2 }).run(),
      ]);
      expect(runs.get(q)).toHaveLength(2);
      expect(a!.processed + b!.processed).toBe(2);
      expect(a!.delayed + b!.delayed).toBe(3);
      expect(a!.failed + b!.failed).toBe(0);
      const [stats] = await setup.driver.stats([q]);
      expect(stats).toMatchObject({ waiting: 3, delayed: 3, ready: 0, failed: 0 });
      // Due again after per/max (30 minutes), still on their first attempt (tries: 1).
      setup.clock.now += 30 * 60_000;
      const again = await setup.driver.claim([q], 10, 'inspector', 60_000);
      expect(again.map((j) => j.attempt)).toEqual([1, 1, 1]);
      for (const job of again) await setup.driver.release(job);
      // Within the same hour the limit still holds.
      expect(await worker(q).run()).toMatchObject({ processed: 0, delayed: 3 });
      if (!setup.virtualLocks) return;
      // A window later the slots are free again: two more run, as first attempts.
      setup.clock.now += 60 * 60_000;
      expect(await worker(q, { concurrency: 3 }).run()).toMatchObject({
        processed: 2,
        delayed: 1,
        failed: 0,
      });
      expect(runs.get(q)!.map((r) => r.attempt)).toEqual([1, 1, 1, 1]);
    });

    it('withoutOverlapping: a second run of the same key is released while the first runs; other keys run', async () => {
      const q = queue();
      const tag = (t: string) => `${q}:${t}`;
      await dispatcher.dispatch(new Held({ account: `${q}-a`, tag: tag('a1') })).onQueue(q);
      await dispatcher.dispatch(new Held({ account: `${q}-a`, tag: tag('a2') })).onQueue(q);
      await dispatcher.dispatch(new Held({ account: `${q}-b`, tag: tag('b1') })).onQueue(q);
      // Room for all three in either worker: one may find nothing claimable (the other's
      // claim holds the rows) and stop, being stopWhenEmpty.
      const w1 = worker(q, { concurrency: 3 });
      const w2 = worker(q, { concurrency: 3 });
      const running = Promise.all([w1.run(), w2.run()]);
      // One of a1, a2 (claim order among equals is by id) runs beside b1; the other found
      // account a's lock held and went back, delayed.
      let first = '';
      await vi.waitFor(
        async () => {
          const started = runs.get(q)?.map((r) => r.tag) ?? [];
          expect(started).toContain(`${tag('b1')}:start`);
          first = started.includes(`${tag('a1')}:start`) ? 'a1' : 'a2';
          expect(started).toEqual(
            expect.arrayContaining([`${tag(first)}:start`, `${tag('b1')}:start`]),
          );
          expect((await setup.driver.stats([q]))[0]).toMatchObject({ delayed: 1, running: 2 });
        },
        { timeout: 10_000, interval: 10 },
      );
      const second = first === 'a1' ? 'a2' : 'a1';
      gate(tag(first)).open();
      gate(tag('b1')).open();
      const [s1, s2] = await running;
      expect(s1!.processed + s2!.processed).toBe(2);
      expect(s1!.delayed + s2!.delayed).toBe(1);
      expect(runs.get(q)!.map((r) => r.tag)).not.toContain(`${tag(second)}:start`);
      // The lock went with the first one's end: once due, the second runs, as its first attempt.
      setup.clock.now += 5_000;
      gate(tag(second)).open();
      expect(await worker(q).run()).toMatchObject({ processed: 1, delayed: 0 });
      expect(runs.get(q)!.at(-1)).toEqual({ tag: `${tag(second)}:end`, attempt: 1 });
    });

    it('withoutOverlapping: the default key is the job name and payload', async () => {
      const q = queue();
      await dispatcher.dispatch(new Exclusive({ n: 1 })).onQueue(q);
      await dispatcher.dispatch(new Exclusive({ n: 1 })).onQueue(q);
      await dispatcher.dispatch(new Exclusive({ n: 2 })).onQueue(q);
      const w = worker(q, { concurrency: 3 });
      const running = w.run();
      await vi.waitFor(
        async () => {
          expect(
            runs
              .get(q)
              ?.map((r) => r.tag)
              .sort(),
          ).toEqual(['1:start', '2:start']);
          expect((await setup.driver.stats([q]))[0]).toMatchObject({ delayed: 1, running: 2 });
        },
        { timeout: 10_000, interval: 10 },
      );
      gate(`exclusive:${q}:1`).open();
      gate(`exclusive:${q}:2`).open();
      expect(await running).toMatchObject({ processed: 2, delayed: 1 });
      setup.clock.now += 60_000;
      expect(await worker(q).run()).toMatchObject({ processed: 1 });
    });

    it('runs custom middleware in order, the first listed outermost', async () => {
      const q = queue();
      await dispatcher.dispatch(new Ordered(null)).onQueue(q);
      expect(await worker(q).run()).toMatchObject({ processed: 1 });
      expect(runs.get(q)!.map((r) => r.tag)).toEqual([
        'outer:before',
        'inner:before',
        'handle',
        'inner:after',
        'outer:after',
      ]);
    });

    it('a release() does not spend a try: a job with tries 1 runs after being released', async () => {
      const q = queue();
      await dispatcher.dispatch(new Postponed(null)).onQueue(q);
      expect(await worker(q).run()).toMatchObject({ processed: 0, delayed: 1, failed: 0 });
      expect(runs.get(q)).toBeUndefined();
      setup.clock.now += 10_000;
      expect(await worker(q).run()).toMatchObject({ processed: 1, failed: 0 });
      expect(runs.get(q)).toEqual([{ tag: 'ran', attempt: 1 }]);
    });

    it('fails a job whose middleware throws, calls next() twice or releases after next()', async () => {
      const q = queue();
      await dispatcher.dispatch(new Refused(null)).onQueue(q);
      await dispatcher.dispatch(new Twice(null)).onQueue(q);
      await dispatcher.dispatch(new LateRelease(null)).onQueue(q);
      const first = await worker(q).run();
      // Refused retries once (tries: 2), then fails with the others.
      setup.clock.now += 1_000;
      const second = await worker(q).run();
      expect(first.failed + second.failed).toBe(3);
      expect(runs.get(q)?.map((r) => r.tag)).toEqual(['handle']); // Twice ran its handler once
      const failed = await setup.driver.failed({ queue: q });
      const errors = Object.fromEntries(failed.map((f) => [f.name, f.error.split('\n')[0]]));
      expect(errors).toEqual({
        'test:refused': 'Error: refused by middleware',
        'test:twice': 'Error: job middleware: next() called more than once',
        'test:late-release': 'Error: job middleware: release() after next()',
      });
    });

    it('fails a job whose middleware needs locks on a worker without them', async () => {
      const q = queue();
      await dispatcher.dispatch(new Limited({ tag: 'no-locks' })).onQueue(q);
      const w = new Worker({
        driver: setup.driver,
        registry,
        logger: createNullLogger(),
        queues: [q],
        stopWhenEmpty: true,
        sleepMs: 5,
        now: () => setup.clock.now,
      });
      expect(await w.run()).toMatchObject({ failed: 1 });
      const [failed] = await setup.driver.failed({ queue: q });
      expect(failed!.error).toMatch(/^E_QUEUE_MIDDLEWARE_NEEDS_LOCKS: .*rateLimited.*test:limited/);
    });
  });
}

describe('job middleware', () => {
  const clock = { now: Date.now() };
  middlewareSuite(
    'the memory driver',
    async () => ({
      driver: new MemoryQueueDriver({ now: () => clock.now }),
      locks: new LockManager({ store: new MemoryLockStore({ now: () => clock.now }) }),
      clock,
      virtualLocks: true,
    }),
    async () => undefined,
  );

  it('refuses bad options at declaration with E_QUEUE_INVALID_MIDDLEWARE', () => {
    const bad: Array<() => unknown> = [
      () => rateLimited({ max: 0, per: '1s' }),
      () => rateLimited({ max: 1.5, per: '1s' }),
      () => rateLimited({ max: 1001, per: '1s' }),
      () => rateLimited({ max: Number.NaN, per: '1s' }),
      () => rateLimited({ max: '3' as unknown as number, per: '1s' }),
      () => rateLimited({ max: 1, per: 0 }),
      () => rateLimited({ max: 1, per: 'soon' }),
      () => rateLimited({ max: 1, per: -5 }),
      () => rateLimited({ max: 1, per: '1s', releaseAfter: "1s'; DROP TABLE jobs;--" }),
      () => rateLimited({ max: 1, per: '1s', key: '' }),
      () => withoutOverlapping({ ttl: 0 }),
      () => withoutOverlapping({ releaseAfter: '-1s' }),
      () => withoutOverlapping({ key: 42 as unknown as string }),
    ];
    for (const make of bad)
      expect(make).toThrowError(expect.objectContaining({ code: 'E_QUEUE_INVALID_MIDDLEWARE' }));
  });

  it('refuses a key function that returns no string', async () => {
    const middleware = withoutOverlapping({ key: () => '' });
    const ctx = {
      job: new Ordered(null),
      context: { name: 'test:ordered' },
      payload: 'null',
      locks: new LockManager({ store: new MemoryLockStore() }),
      now: Date.now,
      release: () => undefined,
    } as unknown as JobMiddlewareContext;
    await expect(middleware(ctx, async () => undefined)).rejects.toMatchObject({
      code: 'E_QUEUE_INVALID_MIDDLEWARE',
    });
  });

  it("hands the app's locks to the workers QueueManager builds", async () => {
    const locks = new LockManager({ store: new MemoryLockStore() });
    const manager = new QueueManager({
      config: resolveQueueConfig({ default: 'memory' }, () => undefined, false),
      logger: createNullLogger(),
      locks: () => locks,
    });
    manager.register(...CLASSES);
    const q = `mw-${randomUUID().slice(0, 8)}`;
    await manager.dispatch(new Held({ account: q, tag: `${q}:only` })).onQueue(q);
    gate(`${q}:only`).open();
    const worker = await manager.worker({ queues: [q], stopWhenEmpty: true, sleepMs: 5 });
    expect(await worker.run()).toMatchObject({ processed: 1, failed: 0 });
    // The lock was taken in that manager and released after the run.
    expect(await locks.lock(`queue:overlap:${q}`).isLocked()).toBe(false);
    await manager.close();
  });
});

describeEachDialect('job middleware, database driver', (database, dialect) => {
  let connection: Connection;
  middlewareSuite(
    `the database driver (${dialect})`,
    async () => {
      connection = testConnection(database());
      await createQueueTables.up(connection.kysely);
      await createKeelLocksTable.up(connection.kysely);
      const clock = { now: Date.now() };
      return {
        driver: new DatabaseQueueDriver({ connection, now: () => clock.now }),
        locks: new LockManager({ store: new DatabaseLockStore({ connection }) }),
        clock,
        virtualLocks: false,
      };
    },
    async () => {
      await connection.close();
    },
  );
});
