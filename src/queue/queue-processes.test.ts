import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../test/support/databases.js';
import { TSX } from '../../test/support/keel-process.js';
import type { Connection, ConnectionConfig } from '../db/index.js';
import {
  createProofTables,
  dropProofTables,
  EffectJob,
  proofRegistry,
  StallJob,
  TransactionalEffectJob,
} from './__fixtures__/proof-jobs.js';
import { JobDispatcher } from './dispatcher.js';
import type { JobRecord } from './driver.js';
import { DatabaseQueueDriver } from './drivers/database-driver.js';
import type { Job } from './job.js';
import { createQueueTables } from './migrations/create-queue-tables.js';
import type { WorkerSummary } from './worker.js';

/**
 * The queue's proof with real worker processes (issue #6): a worker killed with SIGKILL
 * mid-job loses nothing, and 4 processes × 25 slots run 10,000 jobs exactly once.
 * QUEUE_PROOF_JOBS lowers the load test's job count for a quick local run; CI keeps 10,000.
 */

const WORKER = fileURLToPath(new URL('./__fixtures__/queue-worker.ts', import.meta.url));
const LOAD_JOBS = Number(process.env.QUEUE_PROOF_JOBS ?? 10_000);
const LOAD_PROCESSES = 4;
const LOAD_CONCURRENCY = 25;
/** Short enough that the rescuer does not wait long, long enough to outlast a busy CI tick. */
const LEASE_MS = 800;

interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix` (without the prefix). */
  line(prefix: string): Promise<string>;
  /** Resolves with the summary once the process exits 0; rejects with its stderr otherwise. */
  readonly finished: Promise<WorkerSummary>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startWorker(config: ConnectionConfig, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', TSX, WORKER], {
    env: { ...process.env, QUEUE_TEST_DB: JSON.stringify(config), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  const waiting: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const check of [...waiting]) check();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const find = (prefix: string): string | undefined =>
    out
      .split('\n')
      .find((l) => l.startsWith(prefix))
      ?.slice(prefix.length);
  const finished = new Promise<WorkerSummary>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const summary = find('SUMMARY ');
      if (code === 0 && summary !== undefined) resolve(JSON.parse(summary) as WorkerSummary);
      else reject(new Error(`worker exited with ${code ?? signal}: ${err}\n${out}`));
    });
  });
  finished.catch(() => undefined); // a killed worker's rejection is awaited only by some tests
  return {
    child,
    finished,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = find(prefix);
          if (found === undefined) return;
          waiting.splice(waiting.indexOf(check), 1);
          resolve(found);
        };
        waiting.push(check);
        child.once('exit', () => reject(new Error(`worker exited before "${prefix}": ${err}`)));
        check();
      }),
  };
}

/** Exit of a killed process; resolves at once when it already exited. */
function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describeEachDialect('queue worker processes', (database, dialect) => {
  let connection: Connection;
  let driver: DatabaseQueueDriver;
  let dispatcher: JobDispatcher;
  let config: ConnectionConfig;
  beforeAll(async () => {
    connection = testConnection(database());
    await createQueueTables.up(connection.kysely);
    await createProofTables(connection);
    driver = new DatabaseQueueDriver({ connection });
    dispatcher = new JobDispatcher({ driver: () => driver, registry: proofRegistry() });
    // The children run 25 jobs at once each: give them a pool to match.
    const base = database().config;
    config = base.driver === 'sqlite' ? base : { ...base, pool: { ...base.pool, min: 0, max: 10 } };
  });
  afterAll(async () => {
    await driver.close();
    await dropProofTables(connection);
    await createQueueTables.down?.(connection.kysely);
    await connection.close();
  });

  const record = (job: Job, options: { tries?: number; priority?: number }, queue: string) =>
    dispatcher.toRecord(job, { ...options, queue }, {});
  const count = async (query: ReturnType<typeof sql>): Promise<number> =>
    Number(((await query.execute(connection.kysely)).rows[0] as { n: unknown }).n);
  const jobsLeft = (queue: string) =>
    count(sql`SELECT COUNT(*) AS n FROM jobs WHERE queue = ${queue}`);
  const failedOn = (queue: string) =>
    count(sql`SELECT COUNT(*) AS n FROM failed_jobs WHERE queue = ${queue}`);
  const effects = async (keys: readonly string[]): Promise<string[]> =>
    (await connection.selectFrom('proof_effects').select('key').where('key', 'in', keys).execute())
      .map((r) => r.key as string)
      .sort();
  const attempts = async (key: string): Promise<number[]> =>
    (
      await connection
        .selectFrom('proof_runs')
        .select('attempt')
        .where('key', '=', key)
        .orderBy('attempt')
        .execute()
    ).map((r) => Number(r.attempt));

  it('runs a job again once the lease of a worker killed mid-job expires; nothing is lost', async () => {
    const queue = `kill-${randomUUID().slice(0, 8)}`;
    const stall = `stall-${randomUUID()}`;
    const others = Array.from({ length: 6 }, () => `effect-${randomUUID()}`);
    await driver.enqueue([
      record(new StallJob({ key: stall }), { tries: 3, priority: 10 }, queue),
      // Transactional: one the killed worker was running rolls back, so its rerun inserts
      // once (a plain job killed between its write and its completion would run twice).
      ...others.map((key) => record(new TransactionalEffectJob({ key }), {}, queue)),
    ]);
    const env = { QUEUE_TEST_QUEUE: queue, QUEUE_TEST_LEASE_MS: String(LEASE_MS) };
    const doomed = startWorker(config, { ...env, QUEUE_TEST_CONCURRENCY: '3' });
    expect(await doomed.line('STARTED ')).toBe(`${stall} 1`);
    doomed.child.kill('SIGKILL');
    await killed(doomed.child);
    await expect(doomed.finished).rejects.toThrow(/SIGKILL/);

    const rescuer = startWorker(config, { ...env, QUEUE_TEST_UNTIL: 'drained' });
    const summary = await rescuer.finished;
    expect(summary.failed).toBe(0);
    expect(await attempts(stall)).toEqual([1, 2]);
    expect(await effects([stall, ...others])).toEqual([stall, ...others].sort());
    expect(await jobsLeft(queue)).toBe(0);
    expect(await failedOn(queue)).toBe(0);
  }, 60_000);

  it('moves a job whose worker was killed on its last try to failed_jobs (E_QUEUE_WORKER_LOST)', async () => {
    const queue = `lost-${randomUUID().slice(0, 8)}`;
    const stall = `stall-${randomUUID()}`;
    await driver.enqueue([record(new StallJob({ key: stall }), { tries: 1 }, queue)]);
    const env = { QUEUE_TEST_QUEUE: queue, QUEUE_TEST_LEASE_MS: String(LEASE_MS) };
    const doomed = startWorker(config, env);
    await doomed.line('STARTED ');
    doomed.child.kill('SIGKILL');
    await killed(doomed.child);

    const summary = await startWorker(config, { ...env, QUEUE_TEST_UNTIL: 'drained' }).finished;
    expect(summary).toMatchObject({ processed: 0, failed: 1 });
    // The handler did not run again: the reclaim found no try left.
    expect(await attempts(stall)).toEqual([1]);
    expect(await effects([stall])).toEqual([]);
    const [failed] = await driver.failed({ queue });
    expect(failed).toMatchObject({ name: 'proof:stall', payload: JSON.stringify({ key: stall }) });
    expect(failed!.error).toMatch(/^E_QUEUE_WORKER_LOST: Job "proof:stall" was reclaimed/);
    expect(await jobsLeft(queue)).toBe(0);
  }, 60_000);

  it.runIf(dialect !== 'sqlite')(
    `runs ${LOAD_JOBS} jobs across ${LOAD_PROCESSES} processes × ${LOAD_CONCURRENCY} slots exactly once`,
    async () => {
      const queue = `load-${randomUUID().slice(0, 8)}`;
      const keys = Array.from({ length: LOAD_JOBS }, (_, i) => `load-${i}-${randomUUID()}`);
      const started = performance.now();
      const records: JobRecord[] = keys.map((key) => record(new EffectJob({ key }), {}, queue));
      for (let i = 0; i < records.length; i += 1000)
        await driver.enqueue(records.slice(i, i + 1000));
      const enqueued = performance.now();
      const env = { QUEUE_TEST_QUEUE: queue, QUEUE_TEST_CONCURRENCY: String(LOAD_CONCURRENCY) };
      const summaries = await Promise.all(
        Array.from({ length: LOAD_PROCESSES }, () => startWorker(config, env).finished),
      );
      const ran = performance.now();
      // Every key once: the primary key refuses a second run, which would land in failed_jobs.
      const { rows } = await sql<{ n: unknown; d: unknown }>`
        SELECT COUNT(*) AS n, COUNT(DISTINCT ${sql.ref('key')}) AS d FROM proof_effects
        WHERE ${sql.ref('key')} LIKE 'load-%'`.execute(connection.kysely);
      expect(Number(rows[0]!.n)).toBe(LOAD_JOBS);
      expect(Number(rows[0]!.d)).toBe(LOAD_JOBS);
      expect(await jobsLeft(queue)).toBe(0);
      expect(await failedOn(queue)).toBe(0);
      const total = summaries.reduce((sum, s) => sum + s.processed, 0);
      expect(total).toBe(LOAD_JOBS);
      expect(summaries.every((s) => s.failed === 0 && s.lost === 0 && s.retried === 0)).toBe(true);
      // Not an assertion (no timing assertions): the numbers the report quotes.
      process.stderr.write(
        `[queue load ${dialect}] ${LOAD_JOBS} jobs: enqueue ${Math.round(enqueued - started)} ms, ` +
          `run ${Math.round(ran - enqueued)} ms (${summaries.map((s) => s.processed).join('/')})\n`,
      );
    },
    180_000,
  );
});
