import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminQuery, describeEachDialect, testConnection } from '../../test/support/databases.js';
import type { Connection } from '../db/index.js';
import { createLogger, createNullLogger, type Logger } from '../kernel/index.js';
import {
  CountJob,
  createProofTables,
  dropProofTables,
  EffectJob,
  proofRegistry,
  TransactionalEffectJob,
  useProofConnection,
} from './__fixtures__/proof-jobs.js';
import { JobDispatcher } from './dispatcher.js';
import { DatabaseQueueDriver } from './drivers/database-driver.js';
import type { Job } from './job.js';
import { createQueueTables, JOBS_TABLE } from './migrations/create-queue-tables.js';
import { Worker, type WorkerOptions } from './worker.js';

/**
 * The queue's proof in one process, on the database driver (issue #6): the lease sweep,
 * bad rows in the jobs table, a full SQLite database, and PostgreSQL connections killed
 * under a running worker. The real-process versions are in queue-processes.test.ts.
 */

/** A logger that keeps its JSON lines, to check what the worker said. */
function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name: 'queue-test', level: 'warn', destination }), lines };
}

describeEachDialect('queue resilience', (database, dialect) => {
  let connection: Connection;
  let driver: DatabaseQueueDriver;
  let dispatcher: JobDispatcher;
  const registry = proofRegistry();
  beforeAll(async () => {
    connection = testConnection(database());
    await createQueueTables.up(connection.kysely);
    await createProofTables(connection);
    useProofConnection(connection);
    driver = new DatabaseQueueDriver({ connection });
    dispatcher = new JobDispatcher({ driver: () => driver, registry });
  });
  afterAll(async () => {
    await driver.close();
    await dropProofTables(connection);
    await createQueueTables.down?.(connection.kysely);
    await connection.close();
  });

  const record = (job: Job, queue: string, tries = 1) =>
    dispatcher.toRecord(job, { queue, tries }, {});
  const worker = (queue: string, options: Partial<WorkerOptions> = {}) =>
    new Worker({
      driver,
      registry,
      logger: createNullLogger(),
      queues: [queue],
      stopWhenEmpty: true,
      sleepMs: 20,
      ...options,
    });
  const jobsLeft = async (queue: string): Promise<number> =>
    Number(
      (
        await sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM jobs WHERE queue = ${queue}`.execute(
          connection.kysely,
        )
      ).rows[0]!.n,
    );
  const effects = async (keys: readonly string[]): Promise<number> =>
    (await connection.selectFrom('proof_effects').select('key').where('key', 'in', keys).execute())
      .length;
  /** Backdate a lease, as if its worker stopped heartbeating long ago. */
  const expireLease = (id: string) =>
    sql`UPDATE ${sql.table(JOBS_TABLE)} SET lease_until = 1 WHERE id = ${id}`.execute(
      connection.kysely,
    );

  it('sweeps a backdated lease: the next claim runs the job again and completes it', async () => {
    const queue = `sweep-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const [id] = await driver.enqueue([record(new EffectJob({ key }), queue, 2)]);
    const [dead] = await driver.claim([queue], 1, 'dead-worker', 60_000);
    expect(dead?.id).toBe(id);
    // Held: nothing to claim until the lease is swept.
    expect(await driver.claim([queue], 1, 'probe', 60_000)).toEqual([]);
    await expireLease(id!);
    expect(await worker(queue).run()).toMatchObject({ processed: 1, failed: 0 });
    expect(await effects([key])).toBe(1);
    expect(await jobsLeft(queue)).toBe(0);
    // The dead worker's fence is stale: its completion changes nothing.
    expect(await driver.complete(dead!)).toBe(false);
  });

  it('sweeps a backdated lease on the last try into failed_jobs with E_QUEUE_WORKER_LOST', async () => {
    const queue = `sweep-lost-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const [id] = await driver.enqueue([record(new EffectJob({ key }), queue, 1)]);
    await driver.claim([queue], 1, 'dead-worker', 60_000);
    await expireLease(id!);
    expect(await worker(queue).run()).toMatchObject({ processed: 0, failed: 1 });
    expect(await effects([key])).toBe(0);
    const [failed] = await driver.failed({ queue });
    expect(failed).toMatchObject({ jobId: id, name: 'proof:effect' });
    expect(failed!.error).toMatch(/^E_QUEUE_WORKER_LOST: /);
    expect(await jobsLeft(queue)).toBe(0);
  });

  it('sends malformed payloads and unknown job classes to failed_jobs and carries on', async () => {
    const queue = `bad-${randomUUID().slice(0, 8)}`;
    const before = randomUUID();
    const after = randomUUID();
    const good = (key: string) => record(new EffectJob({ key }), queue);
    const template = good('template');
    const hostile = [
      { ...template, id: randomUUID(), payload: '{"key": nope' },
      { ...template, id: randomUUID(), payload: '' },
      { ...template, id: randomUUID(), payload: '\uFFFD\uD800' },
      { ...template, id: randomUUID(), name: 'proof:never-deployed' },
      { ...template, id: randomUUID(), name: "x'); DROP TABLE jobs; --" },
    ];
    await driver.enqueue([good(before), ...hostile, good(after)]);
    const summary = await worker(queue, { concurrency: 3 }).run();
    expect(summary).toMatchObject({ processed: 2, failed: hostile.length });
    expect(await effects([before, after])).toBe(2);
    const failed = await driver.failed({ queue });
    const codes = failed.map((f) => [f.jobId, f.error.split(':')[0]]);
    expect(Object.fromEntries(codes)).toEqual(
      Object.fromEntries(
        hostile.map((h) => [
          h.id,
          h.name === template.name ? 'E_QUEUE_MALFORMED_PAYLOAD' : 'E_QUEUE_UNKNOWN_JOB',
        ]),
      ),
    );
    // The stored payload is kept as it came, for `queue:retry` after a fix.
    expect(failed.find((f) => f.jobId === hostile[0]!.id)?.payload).toBe('{"key": nope');
    expect(await jobsLeft(queue)).toBe(0);
    expect((await sql`SELECT id FROM jobs WHERE 1 = 0`.execute(connection.kysely)).rows).toEqual(
      [],
    );
  });

  it('carries on when recording an outcome fails; the job runs again after its lease', async () => {
    const queue = `unrecorded-${randomUUID().slice(0, 8)}`;
    const done = randomUUID();
    const failing = randomUUID();
    await driver.enqueue([
      record(new CountJob({ key: done }), queue, 3),
      record(new CountJob({ key: failing, failOn: 1 }), queue, 3),
    ]);
    // The database answers the first complete() and the first retry() with a lost connection.
    const broken = new Set(['complete', 'retry']);
    const flaky = new Proxy(driver, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (broken.delete(String(property)))
            return Promise.reject(
              Object.assign(new Error('Connection terminated unexpectedly'), {
                code: 'E_DB_CONNECTION_LOST',
              }),
            );
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { logger, lines } = memoryLogger();
    // Four claims: both jobs, then both again once their short leases expire.
    const summary = await worker(queue, {
      driver: flaky,
      logger,
      concurrency: 2,
      leaseMs: 300,
      maxJobs: 4,
      stopWhenEmpty: false,
    }).run();
    expect(summary).toMatchObject({ processed: 2, failed: 0, lost: 2 });
    const runs = await connection
      .selectFrom('proof_runs')
      .select(['key', 'attempt'])
      .where('key', 'in', [done, failing])
      .orderBy('attempt')
      .execute();
    expect(runs.filter((r) => r.key === done).map((r) => Number(r.attempt))).toEqual([1, 2]);
    expect(runs.filter((r) => r.key === failing).map((r) => Number(r.attempt))).toEqual([1, 2]);
    expect(await jobsLeft(queue)).toBe(0);
    expect(await driver.failed({ queue })).toEqual([]);
    expect(
      lines.filter((l) => /could not record the job outcome/.test(String(l.msg))),
    ).toHaveLength(2);
  });

  it.runIf(dialect === 'sqlite')(
    'refuses a dispatch on a full disk with E_DB_DISK_FULL, keeps what was queued, and recovers',
    async () => {
      const queue = `full-${randomUUID().slice(0, 8)}`;
      const queued = Array.from({ length: 5 }, () => randomUUID());
      await driver.enqueue(queued.map((key) => record(new EffectJob({ key }), queue)));
      const native = connection.native<import('better-sqlite3').Database>()!;
      const pages = Number(native.pragma('page_count', { simple: true }));
      const limit = Number(native.pragma('max_page_count', { simple: true }));
      native.pragma(`max_page_count = ${pages}`);
      try {
        // Large payloads need pages the file may not grow to.
        const big = 'x'.repeat(64 * 1024);
        let error: unknown;
        for (let i = 0; i < 50 && error === undefined; i++)
          try {
            await dispatcher
              .dispatch(new EffectJob({ key: `${randomUUID()}${big}` }))
              .onQueue(queue);
          } catch (e) {
            error = e;
          }
        expect(error).toMatchObject({ code: 'E_DB_DISK_FULL', status: 507 });
        expect((error as Error).message).toMatch(/Database "main" is full/);
        expect(native.pragma('integrity_check', { simple: true })).toBe('ok');
        // What was queued before is intact: claimed, run and completed while still full.
        expect(await worker(queue, { concurrency: 2 }).run()).toMatchObject({ failed: 0 });
        expect(await effects(queued)).toBe(5);
      } finally {
        native.pragma(`max_page_count = ${limit}`);
      }
      const again = randomUUID();
      await dispatcher.dispatch(new EffectJob({ key: again })).onQueue(queue);
      expect(await worker(queue).run()).toMatchObject({ processed: 1, failed: 0 });
      expect(await effects([again])).toBe(1);
      expect(await jobsLeft(queue)).toBe(0);
      expect(native.pragma('integrity_check', { simple: true })).toBe('ok');
    },
  );

  it.runIf(dialect === 'postgres')(
    "recovers when the worker's connections are terminated mid-run (pg_terminate_backend)",
    // It used to hang now and then in its cleanup: a kill landing on a COMMIT left Kysely's
    // transaction holding its pool connection, so the pool never closed. Connection's
    // transactions now roll back (releasing it) when COMMIT fails; see
    // src/db/transaction-commit-failure.test.ts for the deterministic version.
    { timeout: 60_000 },
    async () => {
      // Its own connection, named so the admin session can find its backends (and only them:
      // other suites share the server).
      const app = `keel_worker_${randomUUID().slice(0, 8)}`;
      const base = database().config;
      const own = testConnection({
        ...database(),
        config: {
          ...base,
          url: `postgres://postgres@127.0.0.1:5432/test?application_name=${app}`,
        } as typeof base,
      });
      const ownDriver = new DatabaseQueueDriver({ connection: own });
      useProofConnection(own);
      const { logger, lines } = memoryLogger();
      const queue = `lost-${randomUUID().slice(0, 8)}`;
      const keys = Array.from({ length: 60 }, () => randomUUID());
      try {
        await ownDriver.enqueue(
          keys.map((key) => record(new TransactionalEffectJob({ key, sleepMs: 50 }), queue, 10)),
        );
        const running = new Worker({
          driver: ownDriver,
          registry,
          logger,
          queues: [queue],
          concurrency: 4,
          // Short: a job whose completion was cut off is reclaimed soon.
          leaseMs: 1000,
          sleepMs: 50,
        });
        const done = running.run();
        const terminate = async () =>
          (
            (await adminQuery(
              'postgres',
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${app}'`,
            )) as unknown[]
          ).length;
        let killed = 0;
        for (const threshold of [10, 25, 40]) {
          while ((await effects(keys)) < threshold) await new Promise((r) => setTimeout(r, 20));
          killed += await terminate();
        }
        while ((await jobsLeft(queue)) > 0) await new Promise((r) => setTimeout(r, 50));
        running.stop();
        const summary = await done;
        expect(killed).toBeGreaterThan(0);
        expect(await effects(keys)).toBe(keys.length);
        expect(summary.failed).toBe(0);
        // A completion whose COMMIT answer was cut off counts as lost (its outcome unknown to
        // the worker), yet the job is gone and its effect is there exactly once.
        expect(summary.processed + summary.lost).toBeGreaterThanOrEqual(keys.length);
        expect(await driver.failed({ queue })).toEqual([]);
        // It said so: the cut-off statements were logged with their Keel error.
        expect(JSON.stringify(lines)).toContain('E_DB_CONNECTION_LOST');
      } finally {
        useProofConnection(connection);
        await ownDriver.close();
        await own.close();
      }
    },
  );
});
