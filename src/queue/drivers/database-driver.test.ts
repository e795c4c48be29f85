import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../../test/support/databases.js';
import type { Connection } from '../../db/index.js';
import type { JobRecord } from '../driver.js';
import { createQueueTables, JOBS_TABLE } from '../migrations/create-queue-tables.js';
import { runQueueDriverContract, type TestClock } from '../queue-driver.contract.js';
import { DatabaseQueueDriver } from './database-driver.js';

const record = (queue: string, now: number, overrides: Partial<JobRecord> = {}): JobRecord => ({
  id: randomUUID(),
  name: 'test:job',
  queue,
  payload: '{}',
  priority: 0,
  availableAt: now,
  maxAttempts: 3,
  retryUntil: 0,
  timeoutMs: 0,
  backoffMs: [],
  backoffExponential: false,
  meta: {},
  createdAt: now,
  ...overrides,
});

/** Backdate a job's lease, as if its worker stopped heartbeating long ago. */
async function expireLease(connection: Connection, id: string): Promise<void> {
  await sql`UPDATE ${sql.table(JOBS_TABLE)} SET lease_until = 1 WHERE id = ${id}`.execute(
    connection.kysely,
  );
}

describeEachDialect('DatabaseQueueDriver', (database, dialect) => {
  let connection: Connection;

  runQueueDriverContract(dialect, async (clock: TestClock) => {
    connection = testConnection(database());
    await createQueueTables.up(connection.kysely);
    return {
      driver: new DatabaseQueueDriver({ connection, now: () => clock.now }),
      expireLease: (id) => expireLease(connection, id),
      sql: true,
      cleanup: async () => {
        await createQueueTables.down?.(connection.kysely);
        await connection.close();
      },
    };
  });

  describe('fencing proof and transactions', () => {
    let main: Connection;
    let driver: DatabaseQueueDriver;
    const now = 1_900_000_000_000;
    beforeAll(async () => {
      main = testConnection(database(), 'fencing');
      await createQueueTables.up(main.kysely);
      await main.schema.createTable('side_effects').addColumn('job', 'varchar(64)').execute();
      driver = new DatabaseQueueDriver({ connection: main, now: () => now });
    });
    afterAll(async () => {
      await driver.close();
      await main.schema.dropTable('side_effects').ifExists().execute();
      await createQueueTables.down?.(main.kysely);
      await main.close();
    });
    const effects = async (job: string): Promise<number> =>
      (await main.selectFrom('side_effects').selectAll().where('job', '=', job).execute()).length;

    it("rolls back a stale worker's transactional writes once another claim took the job", async () => {
      const q = `fence-${randomUUID().slice(0, 8)}`;
      const job = record(q, now);
      await driver.enqueue([job]);
      const [stale] = await driver.claim([q], 1, 'stale-worker', 60_000);
      await expireLease(main, job.id);
      const [current] = await driver.claim([q], 1, 'new-worker', 60_000);
      expect(current!.fence).toBeGreaterThan(stale!.fence);
      const outcome = await driver.completeWithin(stale!, async () => {
        await main.insertInto('side_effects').values({ job: job.id }).execute();
        expect(await effects(job.id)).toBe(1); // visible inside its own transaction
        return 'stale';
      });
      expect(outcome).toEqual({ completed: false });
      expect(await effects(job.id)).toBe(0);
      // The job is untouched: the current holder completes it, with its own write.
      const done = await driver.completeWithin(current!, async () => {
        await main.insertInto('side_effects').values({ job: job.id }).execute();
      });
      expect(done.completed).toBe(true);
      expect(await effects(job.id)).toBe(1);
    });

    it.skipIf(dialect === 'sqlite')(
      'rolls back when the job is reclaimed by another connection while the work runs',
      async () => {
        // SQLite has one writer: no claim can run while the work holds the write lock.
        const other = testConnection(database(), 'other');
        const rival = new DatabaseQueueDriver({ connection: other, now: () => now });
        try {
          const q = `race-${randomUUID().slice(0, 8)}`;
          const job = record(q, now);
          await driver.enqueue([job]);
          const [stale] = await driver.claim([q], 1, 'stale-worker', 60_000);
          const outcome = await driver.completeWithin(stale!, async () => {
            await main.insertInto('side_effects').values({ job: job.id }).execute();
            await expireLease(other, job.id);
            const [taken] = await rival.claim([q], 1, 'rival', 60_000);
            expect(taken?.id).toBe(job.id);
          });
          expect(outcome).toEqual({ completed: false });
          expect(await effects(job.id)).toBe(0);
          const [held] = await main
            .selectFrom(JOBS_TABLE)
            .select(['worker_id'])
            .where('queue', '=', q)
            .execute();
          expect(Buffer.from(held!.worker_id as string).toString()).toBe('rival');
        } finally {
          await rival.close();
          await other.close();
        }
      },
    );

    it('queues a job dispatched inside a transaction only if it commits', async () => {
      const q = `trx-${randomUUID().slice(0, 8)}`;
      await main
        .transaction(async () => {
          await driver.enqueue([record(q, now)]);
          throw new Error('rollback');
        })
        .catch(() => undefined);
      expect((await driver.stats([q]))[0]!.waiting).toBe(0);
      await main.transaction(async () => {
        await driver.enqueue([record(q, now)]);
      });
      expect((await driver.stats([q]))[0]!.waiting).toBe(1);
      await driver.clear(q);
    });

    it.skipIf(dialect !== 'postgres')(
      'wakes a worker of another connection by NOTIFY',
      async () => {
        const other = testConnection(database(), 'listener');
        const listener = new DatabaseQueueDriver({ connection: other, now: () => now });
        try {
          const q = `notify-${randomUUID().slice(0, 8)}`;
          // The first wait opens the LISTEN session; the second is the one woken.
          await listener.waitForJobs([q], 0, new AbortController().signal);
          const waiting = listener.waitForJobs([q], 60_000, new AbortController().signal);
          await driver.enqueue([record(q, now)]);
          await waiting;
          await driver.clear(q);
        } finally {
          await listener.close();
          await other.close();
        }
      },
    );
    it.runIf(dialect === 'postgres')(
      'stores plain jobs and notifies their queues in one statement',
      async () => {
        const q = `one-${randomUUID().slice(0, 8)}`;
        const statements: string[] = [];
        const stop = main.onQuery((event) => statements.push(event.sql));
        try {
          const jobs = [record(q, now), record(q, now)];
          expect(await driver.enqueue(jobs)).toEqual(jobs.map((j) => j.id));
        } finally {
          stop();
        }
        expect(statements).toHaveLength(1);
        expect(statements[0]).toMatch(/^insert into/i);
        expect(statements[0]).toMatch(/pg_notify/);
        expect((await driver.stats([q]))[0]!.waiting).toBe(2);
        await driver.clear(q);
      },
    );

    it.runIf(dialect === 'sqlite')(
      'completes a group of jobs through the primary key, not an index over the backlog',
      async () => {
        const q = `plan-${randomUUID().slice(0, 8)}`;
        await driver.enqueue(Array.from({ length: 300 }, () => record(q, now)));
        const claimed = await driver.claim([q], 25, 'planner', 60_000);
        const deletes: { sql: string; parameters: readonly unknown[] }[] = [];
        const stop = main.onQuery((event) => {
          if (/^delete/i.test(event.sql.trim())) deletes.push(event);
        });
        try {
          expect(await Promise.all(claimed.map((job) => driver.complete(job)))).toEqual(
            claimed.map(() => true),
          );
        } finally {
          stop();
        }
        // One statement for the group (completions of one event-loop turn share it).
        expect(deletes).toHaveLength(1);
        const native = main.native<import('better-sqlite3').Database>()!;
        const plan = native
          .prepare(`EXPLAIN QUERY PLAN ${deletes[0]!.sql}`)
          .all(...(deletes[0]!.parameters as unknown[])) as { detail: string }[];
        const search = plan.map((row) => row.detail).find((d) => /\bjobs\b/.test(d)) ?? '';
        expect(search).toMatch(/^SEARCH jobs USING INDEX sqlite_autoindex_jobs_1 \(id=\?\)/);
        await driver.clear(q);
      },
    );
  });
});
