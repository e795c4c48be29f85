import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../../test/support/databases.js';
import type { Connection } from '../../db/index.js';
import type { JobRecord } from '../driver.js';
import { createQueueTables, JOBS_TABLE } from '../migrations/create-queue-tables.js';
import { DatabaseQueueDriver } from './database-driver.js';

const NOW = 1_900_000_000_000;

const record = (queue: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
  id: randomUUID(),
  name: 'test:job',
  queue,
  payload: '{"n":1}',
  priority: 0,
  availableAt: NOW,
  maxAttempts: 3,
  retryUntil: 0,
  timeoutMs: 0,
  backoffMs: [1000],
  backoffExponential: false,
  meta: { requestId: 'req-1' },
  createdAt: NOW,
  ...overrides,
});

/** What each corrupted row holds, by column, and the error's expected wording. */
const CORRUPTIONS: Array<{ column: 'meta' | 'backoff' | 'chain'; value: string; says: string }> = [
  { column: 'meta', value: '{not json', says: 'its meta column is not valid JSON' },
  { column: 'meta', value: '{"__proto__":{"x":"1"}}', says: 'its meta column is not an object' },
  { column: 'meta', value: '["a"]', says: 'its meta column is not an object of strings' },
  { column: 'backoff', value: '', says: 'its backoff column is not valid JSON' },
  { column: 'backoff', value: 'null', says: 'its backoff column is not { ms' },
  { column: 'backoff', value: '{"ms":["1s"],"exponential":false}', says: 'is not { ms' },
  { column: 'chain', value: "'; DROP TABLE jobs; --", says: 'its chain column is not valid JSON' },
  { column: 'chain', value: '{"a":1}', says: 'its chain column is not a list of job records' },
];

describeEachDialect('DatabaseQueueDriver: claimed rows that cannot be read', (database) => {
  let connection: Connection;
  let driver: DatabaseQueueDriver;
  beforeAll(async () => {
    connection = testConnection(database());
    await createQueueTables.up(connection.kysely);
    driver = new DatabaseQueueDriver({ connection, now: () => NOW });
  });
  afterAll(async () => {
    await driver.close();
    await createQueueTables.down?.(connection.kysely);
    await connection.close();
  });

  /** Overwrite a JSON column of a queued job by SQL, as a hand edit or another program would. */
  const corrupt = (id: string, column: string, value: string) =>
    sql`UPDATE ${sql.table(JOBS_TABLE)} SET ${sql.ref(column)} = ${value} WHERE id = ${id}`.execute(
      connection.kysely,
    );

  it('fails each malformed row into failed_jobs and returns the others; nothing stays leased', async () => {
    const q = `bad-${randomUUID().slice(0, 8)}`;
    const good = [record(q), record(q, { chain: [record(q)] })];
    const bad = CORRUPTIONS.map(() => record(q));
    await driver.enqueue([...good, ...bad]);
    for (const [i, c] of CORRUPTIONS.entries()) await corrupt(bad[i]!.id, c.column, c.value);

    const claimed = await driver.claim([q], 100, 'worker-1', 60_000);
    expect(claimed.map((j) => j.id).sort()).toEqual(good.map((j) => j.id).sort());
    expect(claimed.every((j) => j.attempt === 1)).toBe(true);

    const failed = await driver.failed({ queue: q, limit: 100 });
    expect(failed).toHaveLength(CORRUPTIONS.length);
    for (const [i, c] of CORRUPTIONS.entries()) {
      const row = failed.find((f) => f.jobId === bad[i]!.id);
      expect(row, `${c.column} = ${c.value}`).toBeDefined();
      expect(row!.error).toMatch(/^E_QUEUE_MALFORMED_PAYLOAD: The payload of job "test:job"/);
      expect(row!.error).toContain(c.says);
      expect(row!.attempts).toBe(1);
      // The payload is kept; a meta that could not be read is stored empty, so the
      // failed job can still be listed.
      expect(row!.payload).toBe('{"n":1}');
      expect(row!.meta).toEqual(c.column === 'meta' ? {} : { requestId: 'req-1' });
    }
    const [stats] = await driver.stats([q]);
    expect(stats).toMatchObject({ running: 2, waiting: 0, failed: CORRUPTIONS.length });
    for (const job of claimed) expect(await driver.complete(job)).toBe(true);
  });

  it('retries a failed malformed row as a readable job', async () => {
    const q = `bad-${randomUUID().slice(0, 8)}`;
    const job = record(q, { priority: 7, maxAttempts: 4 });
    await driver.enqueue([job]);
    await corrupt(job.id, 'backoff', '{"ms":');
    expect(await driver.claim([q], 10, 'worker-1', 60_000)).toEqual([]);
    const [failed] = await driver.failed({ queue: q });
    expect(await driver.retryFailed([failed!.id])).toBe(1);
    const [again] = await driver.claim([q], 10, 'worker-1', 60_000);
    // Its own columns survive; the unreadable backoff became "no backoff".
    expect(again).toMatchObject({
      id: job.id,
      priority: 7,
      maxAttempts: 4,
      backoffMs: [0],
      backoffExponential: false,
      meta: { requestId: 'req-1' },
      attempt: 1,
    });
    expect(await driver.complete(again!)).toBe(true);
  });
});
