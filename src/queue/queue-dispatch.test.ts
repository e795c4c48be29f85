import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { providerApps } from '../../test/support/provider-app.js';
import { ConsoleUI } from '../cli/index.js';
import { DatabaseProvider, db } from '../db/index.js';
import { appMigrations, appMigrator } from '../db/migrations/index.js';
import type { Application, CommandContext, CommandDefinition } from '../kernel/index.js';
import { queuePruneCommand, queueWorkersCommand } from './commands/index.js';
import { dispatch, dispatchAfterCommit, Job, type JobContext } from './index.js';
import { QueueProvider } from './queue-provider.js';

const apps = providerApps([DatabaseProvider, QueueProvider]);

const DATABASE = {
  'config/database.ts': `export default { connections: { default: { driver: 'sqlite', filename: 'var/data/app.sqlite' } } };\n`,
};

/** What ran, in order, per test (each test clears it). */
const log: string[] = [];

class Step extends Job<{ tag: string }> {
  static override jobName = 'test:step';
  handle(ctx: JobContext) {
    log.push(ctx.batchId === undefined ? this.payload.tag : `${this.payload.tag}@batch`);
  }
}

class Boom extends Job<{ tag: string }> {
  static override jobName = 'test:boom';
  handle(): void {
    log.push(`${this.payload.tag}!`);
    throw new Error(`boom ${this.payload.tag}`);
  }
}

/** Cancels its own batch, then reports whether the handler sees it cancelled. */
class CancelOwnBatch extends Job<null> {
  static override jobName = 'test:cancel-own-batch';
  async handle(ctx: JobContext) {
    const batch = await ctx.batch();
    await batch?.cancel();
    log.push(`cancelled=${(await ctx.batch())?.cancelled}`);
  }
}

/** A then/catch/finally job: reports its batch's progress. */
class Report extends Job<{ kind: string }> {
  static override jobName = 'test:report';
  async handle(ctx: JobContext) {
    const batch = await ctx.batch();
    log.push(`${this.payload.kind}:${batch?.progress}%:${batch?.failed}`);
  }
}

async function queueApp(connection: string): Promise<Application> {
  const app = await apps.create(DATABASE, { QUEUE_CONNECTION: connection });
  await app.boot();
  const manager = app.make('db');
  await appMigrator(app, manager, await appMigrations(app, manager), manager.defaultName).migrate();
  app.make('queue').register(Step, Boom, CancelOwnBatch, Report);
  log.length = 0;
  return app;
}

async function work(app: Application, queues = ['default']) {
  const worker = await app.make('queue').worker({ queues, stopWhenEmpty: true, sleepMs: 1 });
  return worker.run();
}

async function run(
  command: CommandDefinition<Application>,
  app: Application,
  options: Record<string, unknown> = {},
) {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => {
    out += String(chunk);
  });
  const ui = new ConsoleUI({ json: true, stdout, stderr: new PassThrough(), colors: false });
  const code = await command.handle({
    app,
    cwd: app.paths.root,
    args: {},
    options,
    verbose: false,
    ui,
  } as CommandContext<Application>);
  return { code, json: out.trim() === '' ? undefined : JSON.parse(out) };
}

describe.each(['database', 'memory'])('dispatch features on the %s connection', (connection) => {
  it('batches: counts progress, runs catch then finally, and then only when none failed', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    const batch = await queue
      .batch([new Step({ tag: 'a' }), new Boom({ tag: 'b' }), dispatch(new Step({ tag: 'c' }))])
      .name('import')
      .then(new Report({ kind: 'then' }))
      .catch(new Report({ kind: 'catch' }))
      .finally(new Report({ kind: 'finally' }))
      .dispatch();
    expect(batch).toMatchObject({ name: 'import', total: 3, pending: 3, progress: 0 });
    expect(batch.finished).toBe(false);
    await work(app);
    expect(log.filter((l) => !l.includes(':')).sort()).toEqual(['a@batch', 'b!', 'c@batch']);
    // catch on the first failure, finally once all ran; no then (one failed).
    expect(log.filter((l) => l.includes(':')).sort()).toEqual([
      expect.stringMatching(/^catch:\d+%:1$/),
      'finally:100%:1',
    ]);
    const found = await queue.findBatch(batch.id);
    expect(found?.toJSON()).toMatchObject({
      total: 3,
      pending: 0,
      failed: 1,
      processed: 3,
      progress: 100,
      finished: true,
      cancelled: false,
    });
    log.length = 0;
    await queue
      .batch([new Step({ tag: 'x' })])
      .then(new Report({ kind: 'then' }))
      .finally(new Report({ kind: 'finally' }))
      .dispatch();
    await work(app);
    expect(log.sort()).toEqual(['finally:100%:0', 'then:100%:0', 'x@batch']);
    expect(await queue.findBatch('no-such-batch')).toBeUndefined();
  });

  it('batches are atomic: one bad job queues nothing; the builder is not a promise', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    class Stranger extends Job<null> {
      handle() {}
    }
    await expect(
      queue.batch([new Step({ tag: 'ok' }), new Stranger(null)]).dispatch(),
    ).rejects.toMatchObject({ code: 'E_QUEUE_INVALID_JOB' });
    const oversized = new Step({ tag: 'x'.repeat(2 * 1024 * 1024) });
    await expect(
      queue.batch([new Step({ tag: 'ok' }), oversized]).dispatch(),
    ).rejects.toMatchObject({ code: 'E_QUEUE_INVALID_JOB' });
    expect(await work(app)).toMatchObject({ processed: 0 });
    // Awaiting the builder instead of dispatch() fails loudly, queueing nothing.
    await expect(
      (async () => await (queue.batch([new Step({ tag: 'a' })]) as unknown as Promise<void>))(),
    ).rejects.toMatchObject({ code: 'E_QUEUE_INVALID_JOB' });
    expect(() => queue.batch('nope' as never)).toThrow(/list of jobs/);
    expect(() => queue.batch([]).catch(null as never)).toThrow(/job instance/);
    expect(log).toEqual([]);
  });

  it('cancels a batch: waiting jobs go, the running handler sees it cancelled, no callback', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    const batch = await queue
      .batch([new CancelOwnBatch(null), dispatch(new Step({ tag: 'later' })).priority(-1)])
      .finally(new Report({ kind: 'finally' }))
      .dispatch();
    const worker = await queue.worker({ stopWhenEmpty: true, sleepMs: 1, concurrency: 1 });
    await worker.run();
    expect(log).toEqual(['cancelled=true']);
    const after = await queue.findBatch(batch.id);
    expect(after).toMatchObject({ cancelled: true, finished: true, pending: 0 });
    await after?.cancel(); // twice: nothing changes
    expect((await after?.refresh())?.cancelledAt).toEqual(after?.cancelledAt);
  });

  it('chains run in order, each after the previous succeeded; a failure stops the chain', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    const ids = await queue
      .chain([new Step({ tag: '1' }), new Step({ tag: '2' }), new Step({ tag: '3' })])
      .dispatch();
    expect(ids).toHaveLength(3);
    expect(await work(app)).toMatchObject({ processed: 3 });
    expect(log).toEqual(['1', '2', '3']);
    log.length = 0;
    await queue
      .chain([new Step({ tag: 'a' }), new Boom({ tag: 'b' }), new Step({ tag: 'c' })])
      .dispatch();
    expect(await work(app)).toMatchObject({ processed: 1, failed: 1 });
    expect(log).toEqual(['a', 'b!']);
    expect(() => queue.chain([])).toThrow(/non-empty list/);
    expect(() => queue.chain([{} as never]).dispatch()).rejects.toMatchObject({
      code: 'E_QUEUE_INVALID_JOB',
    });
  });

  it('flows run the children first and the parent once all completed', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    const flow = await queue.flow(new Step({ tag: 'parent' }), [
      new Step({ tag: 'child-1' }),
      dispatch(new Step({ tag: 'child-2' })).priority(-5),
    ]);
    expect(flow.childIds).toHaveLength(2);
    const stats = (await (await queue.driver()).stats(['default']))[0];
    expect(stats).toMatchObject({ ready: 2, delayed: 1 });
    expect(await work(app)).toMatchObject({ processed: 3 });
    expect(log).toEqual(['child-1', 'child-2', 'parent']);
  });

  it('dispatchAfterCommit queues on commit, drops on rollback, and dispatches at once outside', async () => {
    const app = await queueApp(connection);
    await db().transaction(async () => {
      await dispatchAfterCommit(new Step({ tag: 'committed' }));
      await dispatch(new Step({ tag: 'committed-too' })).afterCommit();
      // Not queued yet: a worker on another connection would see nothing.
      const stats = await (await app.make('queue').driver()).stats(['default']);
      expect(stats[0]?.waiting).toBe(0);
    });
    await expect(
      db().transaction(async () => {
        await dispatchAfterCommit(new Step({ tag: 'rolled-back' }));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await dispatchAfterCommit(new Step({ tag: 'outside' }));
    await work(app);
    expect(log.sort()).toEqual(['committed', 'committed-too', 'outside']);
  });

  it('queue:prune deletes finished batches and failed jobs past the retention', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    const batch = await queue.batch([new Boom({ tag: 'old' })]).dispatch();
    await work(app);
    expect((await run(queuePruneCommand, app)).json).toEqual({ batches: 0, failed: 0 });
    expect((await run(queuePruneCommand, app, { olderThan: 'soon' })).code).toBe(1);
    expect((await run(queuePruneCommand, app, { olderThan: '-1d' })).code).toBe(1);
    // "Older than 0 s" means finished before now: let the clock pass the finishing
    // millisecond first (the memory driver can finish and prune within one).
    const finished = Date.now();
    while (Date.now() <= finished) await new Promise((resolve) => setTimeout(resolve, 2));
    const pruned = await run(queuePruneCommand, app, { olderThan: '0s' });
    expect(pruned).toMatchObject({ code: 0, json: { batches: 1, failed: 1 } });
    expect(await queue.findBatch(batch.id)).toBeUndefined();
  });

  it('workers heartbeat into the registry, dead ones are flagged and pruned, clean stops remove theirs', async () => {
    const app = await queueApp(connection);
    const queue = app.make('queue');
    const registry = await queue.workerRegistry();
    const worker = await queue.worker({ queues: ['default', 'low'], registryBeatMs: 60_000 });
    const running = worker.run();
    await expect.poll(async () => (await registry?.list())?.length).toBe(1);
    await registry?.beat({
      id: `ghost:1:'; DROP TABLE queue_workers; --`,
      host: 'ghost',
      pid: 1,
      queues: ['default'],
      startedAt: 1,
      lastSeen: Date.now() - 60_000,
      processed: 0,
      failed: 0,
      intervalMs: 1000,
    });
    const listed = await run(queueWorkersCommand, app);
    const workers = listed.json.workers as Array<Record<string, unknown>>;
    expect(workers.map((w) => [w.host, w.status])).toEqual([
      ['ghost', 'dead'],
      [expect.any(String), 'alive'],
    ]);
    expect(workers[1]).toMatchObject({
      id: worker.id,
      pid: process.pid,
      queues: ['default', 'low'],
    });
    expect((await run(queueWorkersCommand, app, { deadAfter: 'x' })).code).toBe(1);
    expect((await run(queueWorkersCommand, app, { prune: true })).json.pruned).toBe(1);
    worker.stop();
    await running;
    expect(await registry?.list()).toEqual([]);
  });
});
