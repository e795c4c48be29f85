import { describe, expect, it } from 'vitest';
import {
  createLogger,
  createNullLogger,
  type ExecutionScope,
  executionContext,
  type Logger,
} from '../kernel/index.js';
import { JobDispatcher } from './dispatcher.js';
import { MemoryQueueDriver } from './drivers/memory-driver.js';
import { Job, type JobContext } from './job.js';
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

class Chatty extends Job<null> {
  static override jobName = 'instrument:chatty';
  handle(ctx: JobContext) {
    ctx.logger.info('working');
    ctx.logger.child({ step: 'ship' }).warn('nested');
  }
}

function setup(instruments: JobInstrument[], logger: Logger = createNullLogger()) {
  const driver = new MemoryQueueDriver();
  const registry = new JobRegistry();
  registry.register(Capture, Chatty);
  const dispatcher = new JobDispatcher({
    driver: () => driver,
    registry,
    meta: () => executionContext.capture(),
  });
  const worker = new Worker({
    driver,
    registry,
    logger,
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

  it.each([
    ['with an instrument (in a scope)', [{ name: 'scope', end() {} }]],
    ['without instruments (no scope)', []],
  ] as Array<[string, JobInstrument[]]>)(
    'gives the job logger snake_case ids, once per line, %s',
    async (_label, instruments) => {
      const raw: string[] = [];
      const logger = createLogger({
        name: 'jobs',
        level: 'info',
        destination: { write: (line: string) => raw.push(line) },
      });
      const { dispatcher, worker } = setup(instruments, logger);
      // Awaited inside the scope: the dispatch is sent (and its meta captured) when awaited.
      const id = await executionContext.run({ request_id: 'req-77' }, async () => {
        return await dispatcher.dispatch(new Chatty(null));
      });
      await worker.run();
      const lines = raw.filter((line) => line.includes('instrument:chatty'));
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line.match(/"job_id"/g)).toHaveLength(1);
        expect(line.match(/"request_id"/g)).toHaveLength(1);
        expect(line).not.toMatch(/"jobId"|"requestId"/);
        expect(JSON.parse(line)).toMatchObject({
          job_id: id,
          request_id: 'req-77',
          queue: 'default',
        });
      }
      expect(JSON.parse(lines[1]!)).toMatchObject({ step: 'ship', msg: 'nested' });
    },
  );
});
