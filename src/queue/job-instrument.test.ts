import { describe, expect, it } from 'vitest';
import { createNullLogger, type ExecutionScope, executionContext } from '../kernel/index.js';
import { JobDispatcher } from './dispatcher.js';
import { MemoryQueueDriver } from './drivers/memory-driver.js';
import { Job } from './job.js';
import type { JobInstrument, JobOutcome } from './job-instrument.js';
import { JobRegistry } from './job-registry.js';
import { Worker } from './worker.js';

const scopes: ExecutionScope[] = [];

class Capture extends Job<{ fail?: 'once' | 'always' }> {
  static override jobName = 'instrument:capture';
  static override options = { tries: 2, backoff: 0 };
  handle(ctx: { attempt: number }) {
    scopes.push({ ...executionContext.current() });
    if (this.payload.fail === 'always' || (this.payload.fail === 'once' && ctx.attempt === 1))
      throw new Error(`attempt ${ctx.attempt} failed`);
  }
}

function setup(instruments: JobInstrument[]) {
  const driver = new MemoryQueueDriver();
  const registry = new JobRegistry();
  registry.register(Capture);
  const dispatcher = new JobDispatcher({
    driver: () => driver,
    registry,
    meta: () => executionContext.capture(),
  });
  const worker = new Worker({
    driver,
    registry,
    logger: createNullLogger(),
    stopWhenEmpty: true,
    sleepMs: 5,
    instruments,
  });
  return { dispatcher, worker };
}

describe('job instruments and the job scope', () => {
  it('run each attempt in a scope with its job id and the dispatching request id', async () => {
    scopes.length = 0;
    const ended: Array<{ name: string; state: unknown; outcome: JobOutcome }> = [];
    const { dispatcher, worker } = setup([
      {
        name: 'recorder',
        begin: (job) => `${job.name} in ${executionContext.current()?.job_id}`,
        end: (job, state, outcome) => ended.push({ name: job.name, state, outcome }),
      },
    ]);
    const ids = await executionContext.run({ request_id: 'req-42' }, async () => [
      await dispatcher.dispatch(new Capture({})),
      await dispatcher.dispatch(new Capture({ fail: 'once' })),
      await dispatcher.dispatch(new Capture({ fail: 'always' })),
    ]);
    await worker.run();
    expect(scopes.map((s) => s.request_id)).toEqual(Array(5).fill('req-42'));
    expect(new Set(scopes.map((s) => s.job_id))).toEqual(new Set(ids));
    const statuses = ended.map((e) => e.outcome.status).sort();
    expect(statuses).toEqual(['completed', 'completed', 'failed', 'retried', 'retried']);
    for (const e of ended) {
      expect(e.state).toMatch(/^instrument:capture in /);
      expect(e.outcome.durationMs).toBeGreaterThanOrEqual(0);
      if (e.outcome.status === 'completed') expect(e.outcome.error).toBeUndefined();
      else expect((e.outcome.error as Error).message).toMatch(/attempt \d failed/);
    }
  });

  it('a job dispatched outside any request has no request id; a throwing instrument is harmless', async () => {
    scopes.length = 0;
    const { dispatcher, worker } = setup([
      {
        name: 'broken',
        begin: () => {
          throw new Error('begin');
        },
        end: () => {
          throw new Error('end');
        },
      },
    ]);
    await dispatcher.dispatch(new Capture({}));
    const summary = await worker.run();
    expect(summary.processed).toBe(1);
    expect(scopes[0]!.request_id).toBeUndefined();
    expect(scopes[0]!.job_id).toBeDefined();
  });
});
