import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { BatchRecord, ClaimedJob, JobRecord, QueueDriver } from './driver.js';

/** A clock the suite moves by hand: delays and leases are tested without sleeping. */
export interface TestClock {
  now: number;
}

/** What a driver's test gives the suite. */
export interface QueueDriverFixture {
  driver: QueueDriver;
  /** Make the current lease of job `id` expired (SQL: backdate `lease_until`). */
  expireLease(id: string): Promise<void>;
  /**
   * SQL drivers: transactional completion (`completeWithin`) is checked. A Redis driver
   * (BullMQ lock tokens) leaves it false and those cases are skipped.
   */
  sql: boolean;
  cleanup?: () => Promise<void>;
}

/** Rejects with a KeelError whose code is `code`. */
async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/**
 * The conformance suite every QueueDriver runs: enqueue/claim round trips, ordering,
 * delays, leases and reclaim, fencing, atomic enqueue, unique jobs, chains, parent/child,
 * batches, failed jobs, stats, hostile input. The factory builds the driver on the clock
 * it is given (`now: () => clock.now`); each test uses queues of its own.
 *
 * @example
 * ```ts
 * runQueueDriverContract('database', async (clock) => ({
 *   driver: new DatabaseQueueDriver({ connection, now: () => clock.now }),
 *   expireLease: (id) => backdate(id),
 *   sql: true,
 * }));
 * ```
 */
export function runQueueDriverContract(
  name: string,
  factory: (clock: TestClock) => Promise<QueueDriverFixture>,
  options: { skip?: Readonly<Record<string, string>> } = {},
): void {
  describe(`QueueDriver contract: ${name}`, () => {
    // A case the driver cannot honour is skipped by its title, the reason in the report.
    const it = (title: string, fn: () => Promise<void>) => {
      const reason = options.skip?.[title];
      if (reason === undefined) vitestIt(title, fn);
      else vitestIt.skip(`${title} (skipped: ${reason})`, fn);
    };
    const clock: TestClock = { now: 1_800_000_000_000 };
    let fixture: QueueDriverFixture;
    let driver: QueueDriver;
    beforeAll(async () => {
      fixture = await factory(clock);
      driver = fixture.driver;
    });
    afterAll(async () => {
      await fixture?.driver.close();
      await fixture?.cleanup?.();
    });
    const sqlIt = (title: string, fn: () => Promise<void>) =>
      vitestIt(title, async (context) => {
        if (!fixture.sql) context.skip();
        await fn();
      });
    const queue = (label = 'q'): string => `${label}-${randomUUID().slice(0, 8)}`;
    const record = (q: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
      id: randomUUID(),
      name: 'test:job',
      queue: q,
      payload: JSON.stringify({ n: 1 }),
      priority: 0,
      availableAt: clock.now,
      maxAttempts: 3,
      retryUntil: 0,
      timeoutMs: 0,
      backoffMs: [1000, 5000],
      backoffExponential: false,
      meta: { requestId: 'req-1' },
      createdAt: clock.now,
      ...overrides,
    });
    const batchOf = (overrides: Partial<BatchRecord> = {}): BatchRecord => ({
      id: randomUUID(),
      name: 'import',
      total: 0,
      pending: 0,
      failed: 0,
      cancelledAt: null,
      finishedAt: null,
      createdAt: clock.now,
      callbacks: '',
      ...overrides,
    });
    const claimAll = (queues: string[], limit = 100): Promise<ClaimedJob[]> =>
      driver.claim(queues, limit, 'worker-1', 60_000);

    it('stores a record and hands it back claimed, with its attempt, fence and lease', async () => {
      const q = queue();
      const job = record(q, {
        priority: 3,
        uniqueKey: 'k-' + randomUUID(),
        uniqueUntil: clock.now + 60_000,
        retryUntil: clock.now + 1000,
        timeoutMs: 250,
        backoffExponential: true,
      });
      expect(await driver.enqueue([job])).toEqual([job.id]);
      const [claimed, ...rest] = await driver.claim([q], 10, 'worker-a', 30_000);
      expect(rest).toEqual([]);
      expect(claimed).toMatchObject({
        ...job,
        attempt: 1,
        workerId: 'worker-a',
        leaseUntil: clock.now + 30_000,
      });
      expect(claimed!.fence).toBeGreaterThan(0);
      // Claimed: nobody else gets it while the lease runs.
      expect(await claimAll([q])).toEqual([]);
      expect(await driver.complete(claimed!)).toBe(true);
      expect(await driver.complete(claimed!)).toBe(false);
      expect(await claimAll([q])).toEqual([]);
    });

    it('claims by queue preference, then priority, then availableAt, up to the limit', async () => {
      const high = queue('high');
      const low = queue('low');
      const a = record(low, { priority: 9, availableAt: clock.now - 50 });
      const b = record(high, { priority: 0, availableAt: clock.now - 10 });
      const c = record(high, { priority: 5, availableAt: clock.now - 1 });
      const d = record(high, { priority: 0, availableAt: clock.now - 20 });
      await driver.enqueue([a, b, c, d]);
      const first = await driver.claim([high, low], 3, 'w', 60_000);
      expect(first.map((j) => j.id)).toEqual([c.id, d.id, b.id]);
      const second = await driver.claim([high, low], 3, 'w', 60_000);
      expect(second.map((j) => j.id)).toEqual([a.id]);
      for (const job of [...first, ...second]) expect(await driver.complete(job)).toBe(true);
    });

    it('holds delayed jobs until their time, and counts them as delayed', async () => {
      const q = queue();
      const later = record(q, { availableAt: clock.now + 5_000 });
      await driver.enqueue([later]);
      expect(await claimAll([q])).toEqual([]);
      const [stats] = await driver.stats([q]);
      expect(stats).toMatchObject({ queue: q, waiting: 1, ready: 0, delayed: 1, running: 0 });
      clock.now += 5_000;
      const [job] = await claimAll([q]);
      expect(job?.id).toBe(later.id);
      await driver.complete(job!);
    });

    it('reclaims a job whose lease expired, with the next attempt and a higher fence', async () => {
      const q = queue();
      const job = record(q);
      await driver.enqueue([job]);
      const [first] = await claimAll([q]);
      expect(await driver.heartbeat(first!, 60_000)).toBe(true);
      await fixture.expireLease(job.id);
      const [second] = await driver.claim([q], 1, 'worker-2', 60_000);
      expect(second).toMatchObject({ id: job.id, attempt: 2, workerId: 'worker-2' });
      expect(second!.fence).toBeGreaterThan(first!.fence);
      expect(await driver.complete(second!)).toBe(true);
    });

    it('fences out a stale lease: its heartbeat, complete, fail, retry and release change nothing', async () => {
      const q = queue();
      const job = record(q);
      await driver.enqueue([job]);
      const [stale] = await claimAll([q]);
      await fixture.expireLease(job.id);
      const [current] = await claimAll([q]);
      expect(await driver.heartbeat(stale!, 60_000)).toBe(false);
      expect(await driver.complete(stale!)).toBe(false);
      expect(await driver.fail(stale!, 'stale failure')).toBe(false);
      expect(await driver.retry(stale!, clock.now, 'stale retry')).toBe(false);
      expect(await driver.release(stale!)).toBe(false);
      expect(await driver.failed({ queue: q })).toEqual([]);
      const [stats] = await driver.stats([q]);
      expect(stats).toMatchObject({ running: 1, waiting: 0 });
      // A made-up fence is refused too; the current holder still owns the job.
      expect(await driver.complete({ id: job.id, fence: current!.fence + 1 })).toBe(false);
      expect(await driver.heartbeat(current!, 60_000)).toBe(true);
      expect(await driver.complete(current!)).toBe(true);
    });

    it('retries at the given time keeping the attempt count, and releases without counting one', async () => {
      const q = queue();
      const job = record(q);
      await driver.enqueue([job]);
      const [first] = await claimAll([q]);
      expect(await driver.retry(first!, clock.now + 1_000, 'boom')).toBe(true);
      // The lease is over: the same lease cannot act again.
      expect(await driver.complete(first!)).toBe(false);
      expect(await claimAll([q])).toEqual([]);
      clock.now += 1_000;
      const [second] = await claimAll([q]);
      expect(second).toMatchObject({ id: job.id, attempt: 2 });
      expect(await driver.release(second!)).toBe(true);
      const [third] = await claimAll([q]);
      expect(third).toMatchObject({ id: job.id, attempt: 2 });
      expect(third!.fence).toBeGreaterThan(second!.fence);
      expect(await driver.complete(third!)).toBe(true);
    });

    it('releases with a delay: not claimable before that time, the attempt not counted', async () => {
      const q = queue();
      const job = record(q);
      await driver.enqueue([job]);
      const [first] = await claimAll([q]);
      expect(await driver.release(first!, clock.now + 5_000)).toBe(true);
      expect(await driver.complete(first!)).toBe(false);
      expect(await claimAll([q])).toEqual([]);
      clock.now += 5_000;
      const [second] = await claimAll([q]);
      expect(second).toMatchObject({ id: job.id, attempt: 1 });
      await expectCode(driver.release(second!, -1), 'E_QUEUE_INVALID_ARGUMENT');
      expect(await driver.complete(second!)).toBe(true);
    });

    it('moves a failed job to failed_jobs with its error and meta, and retries it from there', async () => {
      const q = queue();
      const job = record(q, {
        payload: '{"order":42}',
        meta: { requestId: 'req-9', traceparent: 't' },
      });
      await driver.enqueue([job]);
      const [claimed] = await claimAll([q]);
      expect(await driver.fail(claimed!, 'Error: card declined\n    at handle (x.ts:1)')).toBe(
        true,
      );
      expect(await claimAll([q])).toEqual([]);
      const failed = await driver.failed({ queue: q });
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        jobId: job.id,
        name: job.name,
        queue: q,
        payload: '{"order":42}',
        attempts: 1,
        error: 'Error: card declined\n    at handle (x.ts:1)',
        failedAt: clock.now,
        meta: { requestId: 'req-9', traceparent: 't' },
      });
      expect((await driver.stats([q]))[0]).toMatchObject({ failed: 1, waiting: 0 });
      expect(await driver.retryFailed([failed[0]!.id])).toBe(1);
      expect(await driver.failed({ queue: q })).toEqual([]);
      const [again] = await claimAll([q]);
      expect(again).toMatchObject({
        id: job.id,
        attempt: 1,
        maxAttempts: 3,
        payload: '{"order":42}',
      });
      // Fences keep rising across the failed_jobs round trip: the old lease stays dead.
      expect(again!.fence).toBeGreaterThan(claimed!.fence);
      expect(await driver.complete(claimed!)).toBe(false);
      expect(await driver.fail(again!, 'second')).toBe(true);
      const [second] = await driver.failed({ queue: q });
      expect(await driver.forgetFailed(second!.id)).toBe(true);
      expect(await driver.forgetFailed(second!.id)).toBe(false);
      expect(await driver.retryFailed(['no-such-id'])).toBe(0);
    });

    it('lists failed jobs newest first with limit and offset, and flushes them', async () => {
      await driver.flushFailed();
      const q = queue();
      const jobs = [record(q), record(q), record(q)];
      await driver.enqueue(jobs);
      for (const job of await claimAll([q])) {
        clock.now += 10;
        await driver.fail(job, `failed ${job.id}`);
      }
      const all = await driver.failed({ queue: q });
      expect(all.map((f) => f.failedAt)).toEqual(
        [...all.map((f) => f.failedAt)].sort((a, b) => b - a),
      );
      expect(await driver.failed({ queue: q, limit: 2 })).toHaveLength(2);
      expect((await driver.failed({ queue: q, limit: 2, offset: 2 })).map((f) => f.id)).toEqual([
        all[2]!.id,
      ]);
      // Failed at now-20 and now-10 are older than 5 ms; the one at now is not.
      expect(await driver.flushFailed(5)).toBe(2);
      expect(await driver.failed({ queue: q })).toHaveLength(1);
      expect(await driver.retryFailed('all')).toBe(1);
      expect((await driver.stats([q]))[0]).toMatchObject({ ready: 1, failed: 0 });
      expect(await driver.clear(q)).toBe(1);
      expect(await driver.flushFailed()).toBe(0);
    });

    it('stores a batch of records all or none', async () => {
      const q = queue();
      const good = record(q);
      const duplicate = record(q);
      await expect(driver.enqueue([good, duplicate, { ...duplicate }])).rejects.toThrow();
      const invalid = record(q, { maxAttempts: 0 });
      await expectCode(driver.enqueue([record(q), invalid]), 'E_QUEUE_INVALID_JOB');
      const batch = batchOf({ total: 2, pending: 2 });
      await expect(
        driver.enqueue(
          [record(q, { batchId: batch.id }), { ...good, batchId: batch.id }, good],
          batch,
        ),
      ).rejects.toThrow();
      expect(await driver.batch(batch.id)).toBeUndefined();
      expect((await driver.stats([q]))[0]).toMatchObject({ waiting: 0 });
      expect(await driver.enqueue([])).toEqual([]);
    });

    it('drops a unique job while another with its key is queued or running, until uniqueUntil', async () => {
      const q = queue();
      const key = `unique:${randomUUID()}`;
      const first = record(q, { uniqueKey: key, uniqueUntil: clock.now + 10_000 });
      expect(await driver.enqueue([first])).toEqual([first.id]);
      const dup = record(q, { uniqueKey: key, uniqueUntil: clock.now + 10_000 });
      const other = record(q);
      expect(await driver.enqueue([dup, other])).toEqual([other.id]);
      // Concurrent dispatches of one key: exactly one is stored.
      const key2 = `unique:${randomUUID()}`;
      const racers = Array.from({ length: 8 }, () =>
        record(q, { uniqueKey: key2, uniqueUntil: clock.now + 10_000 }),
      );
      const results = await Promise.all(racers.map((r) => driver.enqueue([r])));
      expect(results.flat()).toHaveLength(1);
      // Running still holds the key; the key lapses at uniqueUntil.
      const claimed = await claimAll([q]);
      expect(claimed).toHaveLength(3);
      expect(
        await driver.enqueue([record(q, { uniqueKey: key, uniqueUntil: clock.now + 10_000 })]),
      ).toEqual([]);
      clock.now += 10_000;
      const after = record(q, { uniqueKey: key, uniqueUntil: clock.now + 10_000 });
      expect(await driver.enqueue([after])).toEqual([after.id]);
      for (const job of claimed) await driver.complete(job);
      // Completed: the key is free again.
      const [a] = await claimAll([q]);
      await driver.complete(a!);
      const free = record(q, { uniqueKey: key, uniqueUntil: clock.now + 10_000 });
      expect(await driver.enqueue([free])).toEqual([free.id]);
      await driver.clear(q);
    });

    it('runs a chain in order, the next only after the previous completed', async () => {
      const q = queue();
      const [b, c] = [record(q, { name: 'chain:b' }), record(q, { name: 'chain:c' })];
      const a = record(q, { name: 'chain:a', chain: [b, c] });
      await driver.enqueue([a]);
      const [first, none] = await claimAll([q]);
      expect(none).toBeUndefined();
      expect(first).toMatchObject({ id: a.id, chain: [b, c] });
      expect(await driver.complete(first!)).toBe(true);
      const [second] = await claimAll([q]);
      expect(second).toMatchObject({ id: b.id, name: 'chain:b', chain: [c] });
      expect(await driver.complete(second!)).toBe(true);
      const [third] = await claimAll([q]);
      expect(third).toMatchObject({ id: c.id });
      expect(third!.chain).toBeUndefined();
      // A failure stops the chain; a retry from failed_jobs carries it on.
      const x = record(q, { chain: [record(q, { name: 'chain:y' })] });
      await driver.enqueue([x]);
      const [claimedX] = await claimAll([q]);
      await driver.fail(claimedX!, 'stop');
      expect(await claimAll([q])).toEqual([]);
      await driver.retryFailed((await driver.failed({ queue: q })).map((f) => f.id));
      const [retried] = await claimAll([q]);
      expect(retried!.chain?.[0]?.name).toBe('chain:y');
      await driver.complete(third!);
      await driver.complete(retried!);
      await driver.clear(q);
    });

    it('makes a parent available only once all its children completed', async () => {
      const q = queue();
      const parent = record(q, { name: 'parent' });
      const kids = [record(q, { parentId: parent.id }), record(q, { parentId: parent.id })];
      await driver.enqueue([parent, ...kids]);
      expect((await driver.stats([q]))[0]).toMatchObject({ ready: 2, delayed: 1 });
      const claimed = await claimAll([q]);
      expect(claimed.map((j) => j.id).sort()).toEqual(kids.map((k) => k.id).sort());
      expect(await driver.complete(claimed[0]!)).toBe(true);
      expect(await claimAll([q])).toEqual([]);
      // A late child of a waiting parent holds it back too.
      const late = record(q, { parentId: parent.id });
      await driver.enqueue([late]);
      expect(await driver.complete(claimed[1]!)).toBe(true);
      const [lateClaim] = await claimAll([q]);
      expect(lateClaim!.id).toBe(late.id);
      expect(await driver.complete(lateClaim!)).toBe(true);
      const [p] = await claimAll([q]);
      expect(p).toMatchObject({ id: parent.id, pendingChildren: 0 });
      await driver.complete(p!);
    });

    it('counts a batch: pending, failed, finished, and dispatches its callbacks', async () => {
      const q = queue();
      const cbq = queue('callbacks');
      // { then, catch, finally }, built from entries: an object literal with `then` is a thenable.
      const callbacksOf = (q: string): string =>
        JSON.stringify(
          Object.fromEntries([
            ['then', record(q, { name: 'batch:then' })],
            ['catch', [record(q, { name: 'batch:catch' })]],
            ['finally', [record(q, { name: 'batch:finally' })]],
          ]),
        );
      const callbacks = callbacksOf(cbq);
      const batch = batchOf({ total: 3, pending: 3, callbacks });
      const jobs = [1, 2, 3].map(() => record(q, { batchId: batch.id }));
      expect(await driver.enqueue(jobs, batch)).toHaveLength(3);
      expect(await driver.batch(batch.id)).toMatchObject({
        total: 3,
        pending: 3,
        failed: 0,
        finishedAt: null,
      });
      const [a, b, c] = await claimAll([q]);
      await driver.complete(a!);
      await driver.fail(b!, 'bad row');
      expect(await driver.batch(batch.id)).toMatchObject({
        pending: 1,
        failed: 1,
        finishedAt: null,
      });
      expect((await claimAll([cbq])).map((j) => j.name)).toEqual(['batch:catch']);
      await driver.complete(c!);
      expect(await driver.batch(batch.id)).toMatchObject({
        pending: 0,
        failed: 1,
        finishedAt: clock.now,
      });
      const finals = await claimAll([cbq]);
      expect(finals.map((j) => j.name)).toEqual(['batch:finally']);
      for (const job of finals) await driver.complete(job);
      // All completed: then, and finally.
      const ok = batchOf({ total: 1, pending: 1, callbacks: callbacksOf(cbq) });
      await driver.enqueue([record(q, { batchId: ok.id })], ok);
      await driver.complete((await claimAll([q]))[0]!);
      expect(await driver.batch(ok.id)).toMatchObject({
        pending: 0,
        failed: 0,
        finishedAt: clock.now,
      });
      const done = await claimAll([cbq]);
      expect(done.map((j) => j.name).sort()).toEqual(['batch:finally', 'batch:then']);
      for (const job of done) await driver.complete(job);
      expect(await driver.batch('no-such-batch')).toBeUndefined();
    });

    it('cancels a batch: its waiting jobs go, running ones finish, no callback runs', async () => {
      const q = queue();
      const batch = batchOf({
        total: 3,
        pending: 3,
        callbacks: JSON.stringify({ finally: record(q, { name: 'fin' }) }),
      });
      await driver.enqueue(
        [1, 2, 3].map(() => record(q, { batchId: batch.id })),
        batch,
      );
      const [running] = await driver.claim([q], 1, 'w', 60_000);
      await driver.cancelBatch(batch.id);
      await driver.cancelBatch(batch.id);
      expect(await driver.batch(batch.id)).toMatchObject({
        cancelledAt: clock.now,
        pending: 1,
        finishedAt: null,
      });
      expect(await driver.complete(running!)).toBe(true);
      expect(await driver.batch(batch.id)).toMatchObject({ pending: 0, finishedAt: clock.now });
      expect(await claimAll([q])).toEqual([]);
    });

    it('prunes finished batches and failed jobs older than the cutoff', async () => {
      const q = queue();
      const batch = batchOf({ total: 1, pending: 1 });
      await driver.enqueue([record(q, { batchId: batch.id })], batch);
      const [job] = await claimAll([q]);
      await driver.fail(job!, 'old');
      const before = clock.now + 1;
      const open = batchOf({ total: 1, pending: 1 });
      await driver.enqueue([record(q, { batchId: open.id })], open);
      const pruned = await driver.prune(before);
      expect(pruned.batches).toBeGreaterThanOrEqual(1);
      expect(pruned.failed).toBeGreaterThanOrEqual(1);
      expect(await driver.batch(batch.id)).toBeUndefined();
      expect(await driver.batch(open.id)).toBeDefined();
      expect(await driver.failed({ queue: q })).toEqual([]);
      await driver.clear(q);
    });

    it('reports each queue: waiting, ready, delayed, running, oldest age, failed', async () => {
      const q = queue();
      const empty = queue('empty');
      await driver.enqueue([
        record(q, { availableAt: clock.now - 3_000 }),
        record(q, { availableAt: clock.now - 1_000 }),
        record(q, { availableAt: clock.now + 1_000 }),
        record(q, { availableAt: clock.now - 5_000, priority: 100 }),
      ]);
      const [running] = await driver.claim([q], 1, 'w', 60_000);
      const [stats, none] = await driver.stats([q, empty]);
      expect(stats).toEqual({
        queue: q,
        waiting: 3,
        ready: 2,
        delayed: 1,
        running: 1,
        oldestAgeMs: 3_000,
        failed: 0,
      });
      expect(none).toEqual({
        queue: empty,
        waiting: 0,
        ready: 0,
        delayed: 0,
        running: 0,
        oldestAgeMs: 0,
        failed: 0,
      });
      expect((await driver.stats()).some((s) => s.queue === q)).toBe(true);
      // clear() deletes the waiting jobs, not the running one.
      expect(await driver.clear(q)).toBe(3);
      expect(await driver.complete(running!)).toBe(true);
    });

    it('hands each job to one claimer when many claim at once', async () => {
      const q = queue();
      await driver.enqueue(Array.from({ length: 40 }, () => record(q)));
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => driver.claim([q], 7, `w${i}`, 60_000)),
      );
      const ids = claims.flat().map((j) => j.id);
      expect(new Set(ids).size).toBe(ids.length);
      const rest = await claimAll([q]);
      expect(ids.length + rest.length).toBe(40);
      await Promise.all([...claims.flat(), ...rest].map((j) => driver.complete(j)));
    });

    it('keeps hostile queue names, keys and large payloads intact and apart', async () => {
      const suffix = randomUUID().slice(0, 6);
      const names = ['High', 'high', 'high ', "'; DROP TABLE jobs; --", 'é', '🚀', '%', '_'].map(
        (n) => `${n}${suffix}`,
      );
      for (const n of names)
        await driver.enqueue([record(n, { payload: JSON.stringify({ queue: n }) })]);
      for (const n of names) {
        const claimed = await claimAll([n]);
        expect(claimed.map((j) => j.queue)).toEqual([n]);
        expect(JSON.parse(claimed[0]!.payload)).toEqual({ queue: n });
        await driver.complete(claimed[0]!);
      }
      const q = queue();
      const big = 'x'.repeat(1024 * 1024) + 'é"\\\n\u2028';
      const job = record(q, { payload: JSON.stringify({ big }) });
      await driver.enqueue([job]);
      const [claimed] = await claimAll([q]);
      expect(claimed!.payload).toBe(job.payload);
      await driver.complete(claimed!);
      const caseKey = `Key-${suffix}`;
      const stored = await driver.enqueue([
        record(q, { uniqueKey: caseKey }),
        record(q, { uniqueKey: caseKey.toLowerCase() }),
      ]);
      expect(stored).toHaveLength(2);
      await driver.clear(q);
    });

    it('refuses bad records and arguments with clear codes, storing nothing', async () => {
      const q = queue();
      const bad: Array<Partial<JobRecord> & Record<string, unknown>> = [
        { id: '' },
        { queue: '' },
        { queue: 'x'.repeat(256) },
        { name: 'nul\0name' },
        { payload: 42 as never },
        { payload: 'a\0b' },
        { payload: 'x'.repeat(9 * 1024 * 1024) },
        { priority: 1.5 },
        { availableAt: Number.NaN },
        { maxAttempts: 0 },
        { backoffMs: 'soon' as never },
        { meta: { n: 1 } as never },
        { chain: [{ id: '' }] as never },
      ];
      for (const overrides of bad)
        await expectCode(driver.enqueue([record(q, overrides)]), 'E_QUEUE_INVALID_JOB');
      expect((await driver.stats([q]))[0]).toMatchObject({ waiting: 0 });
      await expectCode(driver.claim([], 1, 'w', 1000), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.claim([q], 0, 'w', 1000), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.claim([q], 1.5, 'w', 1000), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.claim([q], 1, '', 1000), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.claim([q], 1, 'w', -1), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.claim(['a\0b'], 1, 'w', 1000), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.heartbeat({ id: 'x', fence: 1 }, 0), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.failed({ limit: 0 }), 'E_QUEUE_INVALID_ARGUMENT');
      await expectCode(driver.failed({ offset: -1 }), 'E_QUEUE_INVALID_ARGUMENT');
      expect(await driver.complete({ id: 'missing', fence: 1 })).toBe(false);
      expect(await driver.forgetFailed("'; DROP TABLE failed_jobs; --")).toBe(false);
    });

    it('wakes a waiting worker when jobs arrive, and on abort', async () => {
      const q = queue();
      if (driver.waitForJobs === undefined) return;
      const controller = new AbortController();
      const aborted = driver.waitForJobs([q], 60_000, controller.signal);
      controller.abort();
      await aborted;
      const waiting = driver.waitForJobs([q], 60_000, new AbortController().signal);
      await driver.enqueue([record(q)]);
      await waiting;
      await driver.waitForJobs([q], 0, new AbortController().signal);
      await driver.clear(q);
    });

    sqlIt(
      'completes within a transaction: the work and the completion commit together',
      async () => {
        const q = queue();
        await driver.enqueue([record(q)]);
        const [job] = await claimAll([q]);
        const outcome = await driver.completeWithin!(job!, async () => 'done');
        expect(outcome).toEqual({ completed: true, result: 'done' });
        expect(await driver.complete(job!)).toBe(false);
        // A work that throws rolls back and leaves the job held, to retry or fail.
        await driver.enqueue([record(q)]);
        const [other] = await claimAll([q]);
        await expect(
          driver.completeWithin!(other!, async () => Promise.reject(new Error('handler'))),
        ).rejects.toThrow('handler');
        expect(await driver.complete(other!)).toBe(true);
      },
    );
  });
}
