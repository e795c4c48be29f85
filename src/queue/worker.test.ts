import { describe, expect, it } from 'vitest';
import { createNullLogger } from '../kernel/index.js';
import { backoffDelay, resolveBackoff } from './backoff.js';
import { JobDispatcher } from './dispatcher.js';
import { MemoryQueueDriver } from './drivers/memory-driver.js';
import { Job, type JobContext, UnrecoverableError } from './job.js';
import { JobRegistry } from './job-registry.js';
import { Worker, type WorkerOptions } from './worker.js';

const seen: string[] = [];

class Record extends Job<{ tag: string }> {
  static override jobName = 'test:record';
  handle() {
    seen.push(this.payload.tag);
  }
}

let flaky = 0;
class Flaky extends Job<{ failTimes: number }> {
  static override jobName = 'test:flaky';
  static override options = { tries: 3 };
  handle() {
    flaky++;
    if (flaky <= this.payload.failTimes) throw new Error(`flaky ${flaky}`);
  }
}

const failedHooks: string[] = [];
class Doomed extends Job<null> {
  static override jobName = 'test:doomed';
  static override options = { tries: 5 };
  handle(): void {
    throw new UnrecoverableError('no such order');
  }
  override failed(error: unknown) {
    failedHooks.push((error as Error).message);
  }
}

class Slow extends Job<null> {
  static override jobName = 'test:slow';
  static override options = { timeout: 20 };
  handle(ctx: JobContext) {
    return new Promise<void>((_, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
    });
  }
}

/** Runs until its signal aborts; records why. */
const held: { started: () => void; reasons: string[] } = { started: () => {}, reasons: [] };
class Held extends Job<null> {
  static override jobName = 'test:held';
  handle(ctx: JobContext) {
    held.started();
    return new Promise<void>((_, reject) => {
      ctx.signal.addEventListener('abort', () => {
        held.reasons.push((ctx.signal.reason as Error).message);
        reject(ctx.signal.reason);
      });
    });
  }
}

/** Ignores its signal, then looks at it once the attempt timed out. */
const late: { aborted?: boolean; code?: unknown } = {};
class Late extends Job<null> {
  static override jobName = 'test:late';
  static override options = { timeout: 5 };
  async handle(ctx: JobContext) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    late.aborted = ctx.signal.aborted;
    late.code = (ctx.signal.reason as { code?: unknown }).code;
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

function setup(overrides: Partial<WorkerOptions> = {}) {
  const driver = new MemoryQueueDriver();
  const registry = new JobRegistry();
  registry.register(Record, Flaky, Doomed, Slow, Held, Late);
  const dispatcher = new JobDispatcher({ driver: () => driver, registry });
  const worker = (o: Partial<WorkerOptions> = {}) =>
    new Worker({
      driver,
      registry,
      logger: createNullLogger(),
      stopWhenEmpty: true,
      sleepMs: 5,
      ...overrides,
      ...o,
    });
  return { driver, registry, dispatcher, worker };
}

describe('worker', () => {
  it('runs queued jobs by queue preference, then priority, then age', async () => {
    seen.length = 0;
    const { dispatcher, worker } = setup();
    await dispatcher.dispatch(new Record({ tag: 'low-old' })).onQueue('low');
    await dispatcher.dispatch(new Record({ tag: 'default' }));
    await dispatcher.dispatch(new Record({ tag: 'high' })).onQueue('high');
    await dispatcher
      .dispatch(new Record({ tag: 'high-urgent' }))
      .onQueue('high')
      .priority(10);
    const summary = await worker({ queues: ['high', 'default', 'low'] }).run();
    expect(seen).toEqual(['high-urgent', 'high', 'default', 'low-old']);
    expect(summary).toMatchObject({ processed: 4, failed: 0 });
  });

  it('retries with backoff until the tries run out, then fails into failed_jobs', async () => {
    flaky = 0;
    const { dispatcher, driver, worker } = setup();
    await dispatcher.dispatch(new Flaky({ failTimes: 1 }));
    expect(await worker().run()).toMatchObject({ processed: 1, retried: 1 });
    flaky = 0;
    await dispatcher.dispatch(new Flaky({ failTimes: 10 }));
    expect(await worker().run()).toMatchObject({ failed: 1, retried: 2 });
    const [failed] = await driver.failed();
    expect(failed).toMatchObject({ name: 'test:flaky', attempts: 3 });
    expect(failed?.error).toContain('flaky 3');
  });

  it('waits for a handler that returns a thenable, and fails the job when it rejects', async () => {
    const outcomes: string[] = [];
    class Thenable extends Job<{ fail: boolean }> {
      static override jobName = 'test:thenable';
      handle(): Promise<void> {
        // Not a native promise: a library's own thenable, settled a turn later.
        const settle = (resolve: () => void, reject: (error: Error) => void) =>
          setTimeout(() => {
            outcomes.push(this.payload.fail ? 'rejected' : 'resolved');
            if (this.payload.fail) reject(new Error('thenable refused'));
            else resolve();
          }, 5);
        // biome-ignore lint/suspicious/noThenProperty: the point is a thenable that is not a Promise
        return { then: settle } as unknown as Promise<void>;
      }
    }
    const { dispatcher, driver, registry, worker } = setup();
    registry.register(Thenable);
    await dispatcher.dispatch(new Thenable({ fail: false }));
    await dispatcher.dispatch(new Thenable({ fail: true }));
    expect(await worker().run()).toMatchObject({ processed: 1, failed: 1 });
    expect(outcomes.sort()).toEqual(['rejected', 'resolved']);
    const [failed] = await driver.failed();
    expect(failed?.error).toContain('thenable refused');
  });

  it('fails an UnrecoverableError at once and calls the failed() hook', async () => {
    failedHooks.length = 0;
    const { dispatcher, driver, worker } = setup();
    await dispatcher.dispatch(new Doomed(null));
    expect(await worker().run()).toMatchObject({ failed: 1, retried: 0 });
    expect(failedHooks).toEqual(['no such order']);
    expect((await driver.failed())[0]?.attempts).toBe(1);
  });

  it('aborts a job past its timeout and records E_QUEUE_JOB_TIMEOUT', async () => {
    const { dispatcher, driver, worker } = setup();
    await dispatcher.dispatch(new Slow(null));
    expect(await worker().run()).toMatchObject({ failed: 1 });
    expect((await driver.failed())[0]?.error).toMatch(/^E_QUEUE_JOB_TIMEOUT/);
  });

  it('sends unknown job classes and malformed payloads to failed_jobs and carries on', async () => {
    seen.length = 0;
    const { dispatcher, driver, worker } = setup();
    const good = dispatcher.toRecord(new Record({ tag: 'after' }), {}, {});
    await driver.enqueue([
      { ...good, id: 'u1', name: 'test:not-deployed' },
      { ...good, id: 'm1', payload: '{"tag": nope' },
      good,
    ]);
    expect(await worker().run()).toMatchObject({ processed: 1, failed: 2 });
    expect(seen).toEqual(['after']);
    const errors = (await driver.failed()).map((f) => f.error.split(':')[0]).sort();
    expect(errors).toEqual(['E_QUEUE_MALFORMED_PAYLOAD', 'E_QUEUE_UNKNOWN_JOB']);
  });

  it('abandons a job whose lease another worker took: its completion changes nothing', async () => {
    const { dispatcher, driver } = setup();
    await dispatcher.dispatch(new Record({ tag: 'x' }));
    const [first] = await driver.claim(['default'], 1, 'w1', 60_000);
    driver.expireLease(first!.id); // as if w1 stopped heartbeating
    const [second] = await driver.claim(['default'], 1, 'w2', 60_000);
    expect(second?.fence).toBe((first?.fence ?? 0) + 1);
    expect(await driver.complete(first!)).toBe(false);
    expect(await driver.fail(first!, 'stale')).toBe(false);
    expect(await driver.heartbeat(first!, 1000)).toBe(false);
    expect(await driver.complete(second!)).toBe(true);
  });

  it('heartbeats a running job, and aborts it once another worker took its lease', async () => {
    const { dispatcher, driver, worker } = setup({ stopWhenEmpty: false });
    held.reasons = [];
    const started = new Promise<void>((resolve) => {
      held.started = resolve;
    });
    const id = await dispatcher.dispatch(new Held(null));
    let beats = 0;
    const heartbeat = driver.heartbeat.bind(driver);
    driver.heartbeat = (lease, leaseMs) => {
      beats++;
      return heartbeat(lease, leaseMs);
    };
    const w = worker({ leaseMs: 60_000, heartbeatMs: 10 });
    const running = w.run();
    await started;
    await until(() => beats >= 2);
    expect(held.reasons).toEqual([]);
    driver.expireLease(id as string);
    expect(await driver.claim(['default'], 1, 'w2', 60_000)).toHaveLength(1);
    await until(() => held.reasons.length > 0);
    w.stop();
    expect(await running).toMatchObject({ processed: 0, failed: 0, lost: 1 });
    expect(held.reasons).toEqual(['lease lost: another worker took this job']);
  });

  it('hands a handler that reads its signal late an already aborted one', async () => {
    const { dispatcher, driver, worker } = setup();
    await dispatcher.dispatch(new Late(null));
    expect(await worker().run()).toMatchObject({ failed: 1 });
    expect((await driver.failed())[0]?.error).toMatch(/^E_QUEUE_JOB_TIMEOUT/);
    await until(() => late.aborted !== undefined);
    expect(late).toEqual({ aborted: true, code: 'E_QUEUE_JOB_TIMEOUT' });
  });

  it('stops claiming on stop(), finishing the running jobs', async () => {
    seen.length = 0;
    const { dispatcher, driver, worker } = setup({ stopWhenEmpty: false });
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(new Record({ tag: String(i) }));
    const w = worker({ concurrency: 2, maxJobs: 3 });
    expect(await w.run()).toMatchObject({ processed: 3 });
    expect(seen).toHaveLength(3);
    // Stopped at once: whatever it claimed before seeing the stop it finished (nothing was
    // abandoned or released), and the rest is still queued for the next worker.
    const stopped = worker();
    const running = stopped.run();
    stopped.stop();
    const summary = await running;
    expect(summary).toMatchObject({ failed: 0, lost: 0, released: 0 });
    const [left] = await driver.stats(['default']);
    expect(summary.processed + (left?.ready ?? 0)).toBe(2);
    expect(seen).toHaveLength(3 + summary.processed);
  });
});

describe('dispatch', () => {
  it('refuses unregistered classes, non-JSON and oversized payloads, bad tries', () => {
    const { dispatcher } = setup();
    class Stranger extends Job<null> {
      handle() {}
    }
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(code(() => dispatcher.toRecord(new Stranger(null), {}, {}))).toBe('E_QUEUE_INVALID_JOB');
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(code(() => dispatcher.toRecord(new Record(cyclic as never), {}, {}))).toBe(
      'E_QUEUE_INVALID_JOB',
    );
    expect(
      code(() => dispatcher.toRecord(new Record({ tag: 'x'.repeat(2 * 1024 * 1024) }), {}, {})),
    ).toBe('E_QUEUE_INVALID_JOB');
    expect(code(() => dispatcher.toRecord(new Record({ tag: 'x' }), { tries: 0 }, {}))).toBe(
      'E_QUEUE_INVALID_JOB',
    );
  });

  it('drops a unique job dispatched again within uniqueFor', async () => {
    const { dispatcher } = setup();
    const first = await dispatcher.dispatch(new Record({ tag: 'u' })).withMeta({ requestId: 'r1' });
    const again = dispatcher.toRecord(new Record({ tag: 'u' }), { uniqueFor: '1m' }, {});
    const [id1] = await dispatcher.enqueue([again]);
    const [id2] = await dispatcher.enqueue([
      dispatcher.toRecord(new Record({ tag: 'u' }), { uniqueFor: '1m' }, {}),
    ]);
    expect(first).toBeTypeOf('string');
    expect(id1).toBeTypeOf('string');
    expect(id2).toBeUndefined();
  });

  it('computes delays, backoff lists and exponential backoff with jitter', async () => {
    const { dispatcher } = setup();
    const record = dispatcher.toRecord(new Record({ tag: 'd' }), { delay: '5m' }, {});
    expect(record.availableAt - record.createdAt).toBe(300_000);
    expect(backoffDelay(resolveBackoff([1000, 5000]), 1)).toBe(1000);
    expect(backoffDelay(resolveBackoff([1000, 5000]), 3)).toBe(5000);
    expect(backoffDelay(resolveBackoff('2s'), 4)).toBe(2000);
    const exp = resolveBackoff({ type: 'exponential', delay: 1000 });
    expect(backoffDelay(exp, 3, () => 0)).toBe(2000);
    expect(backoffDelay(exp, 3, () => 1)).toBe(4000);
  });
});
