import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRedisServer, usePrivateRedis } from '../../../test/support/redis-server.js';
import { createNullLogger } from '../../kernel/index.js';
import type { JobRecord } from '../driver.js';
import { runQueueDriverContract, type TestClock } from '../queue-driver.contract.js';
import { RedisQueueDriver } from './redis-driver.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Delete every key under `prefix` on the shared Redis (never FLUSHDB). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

const virtualClock = 'BullMQ runs delays, lock and deduplication TTLs on the real clock';
const noBatches = 'the redis driver supports neither batches nor parent/child jobs';

describe('RedisQueueDriver', () => {
  const prefix = `keel-test-${randomUUID()}`;
  let driver: RedisQueueDriver;
  let client: Redis;

  runQueueDriverContract(
    'redis',
    async (clock: TestClock) => {
      driver = await RedisQueueDriver.connect({ url: REDIS_URL, prefix, now: () => clock.now });
      client = new Redis(REDIS_URL);
      return {
        driver,
        // Drop the lock, then two stalled checks: the first marks, the second moves back.
        expireLease: async (id) => {
          const keys = await client.keys(`${prefix}:*:${id}:lock`);
          if (keys.length > 0) await client.del(...keys);
          for (let pass = 0; pass < 2; pass++) {
            const checks = await client.keys(`${prefix}:*:stalled-check`);
            if (checks.length > 0) await client.del(...checks);
            await driver.reclaimExpired();
          }
        },
        sql: false,
        cleanup: async () => {
          client.disconnect();
          await deleteKeys(REDIS_URL, prefix);
        },
      };
    },
    {
      skip: {
        'holds delayed jobs until their time, and counts them as delayed': virtualClock,
        'retries at the given time keeping the attempt count, and releases without counting one':
          virtualClock,
        'releases with a delay: not claimable before that time, the attempt not counted':
          virtualClock,
        'drops a unique job while another with its key is queued or running, until uniqueUntil':
          virtualClock,
        'stores a batch of records all or none': noBatches,
        'makes a parent available only once all its children completed': noBatches,
        'counts a batch: pending, failed, finished, and dispatches its callbacks': noBatches,
        'cancels a batch: its waiting jobs go, running ones finish, no callback runs': noBatches,
        'prunes finished batches and failed jobs older than the cutoff': noBatches,
      },
    },
  );
});

const record = (queue: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
  id: randomUUID(),
  name: 'test:job',
  queue,
  payload: '{}',
  priority: 0,
  availableAt: Date.now(),
  maxAttempts: 3,
  retryUntil: 0,
  timeoutMs: 0,
  backoffMs: [],
  backoffExponential: false,
  meta: {},
  createdAt: Date.now(),
  ...overrides,
});

describe('RedisQueueDriver on the real clock', () => {
  const prefix = `keel-test-${randomUUID()}`;
  let driver: RedisQueueDriver;
  afterAll(async () => {
    await driver?.close();
    await deleteKeys(REDIS_URL, prefix);
  });

  it('drops a unique job while its key is held, and frees the key when the job finishes', async () => {
    driver = await RedisQueueDriver.connect({ url: REDIS_URL, prefix });
    const q = `unique-${randomUUID().slice(0, 8)}`;
    const key = `k-${randomUUID()}`;
    const first = record(q, { uniqueKey: key, uniqueUntil: Date.now() + 60_000 });
    expect(await driver.enqueue([first])).toEqual([first.id]);
    expect(await driver.enqueue([record(q, { uniqueKey: key })])).toEqual([]);
    const racers = Array.from({ length: 8 }, () => record(q, { uniqueKey: `r-${key}` }));
    const results = await Promise.all(racers.map((r) => driver.enqueue([r])));
    expect(results.flat()).toHaveLength(1);
    const claimed = await driver.claim([q], 10, 'w', 60_000);
    expect(claimed).toHaveLength(2);
    expect(await driver.enqueue([record(q, { uniqueKey: key })])).toEqual([]);
    for (const job of claimed) expect(await driver.complete(job)).toBe(true);
    const again = record(q, { uniqueKey: key, uniqueUntil: Date.now() + 60_000 });
    expect(await driver.enqueue([again])).toEqual([again.id]);
    await driver.clear(q);
  });

  it("fetches a worker's next job while completing one, from its first queue only, and gives it back when the worker stops", async () => {
    const high = `high-${randomUUID().slice(0, 8)}`;
    const low = `low-${randomUUID().slice(0, 8)}`;
    const jobs = [record(high), record(high), record(low), record(low)];
    await driver.enqueue(jobs);
    const [first] = await driver.claim([high, low], 1, 'w1', 60_000);
    expect(first!.id).toBe(jobs[0]!.id);
    // Completing a job of the first queue locks the next one for the same worker...
    expect(await driver.complete(first!)).toBe(true);
    expect((await driver.stats([high]))[0]).toMatchObject({ waiting: 0, running: 1 });
    // ...which its next claim gets without asking Redis, then the rest as usual.
    const next = await driver.claim([high, low], 2, 'w1', 60_000);
    expect(next.map((j) => j.id)).toEqual([jobs[1]!.id, jobs[2]!.id]);
    expect(next[0]).toMatchObject({ attempt: 1, workerId: 'w1' });
    // A job of a later queue fetches nothing: it would pass the worker's preferred queue.
    expect(await driver.complete(next[1]!)).toBe(true);
    expect((await driver.stats([low]))[0]).toMatchObject({ waiting: 1, running: 0 });
    // The fetched-ahead job of a stopped worker goes back at once, its attempt uncounted.
    expect(await driver.complete(next[0]!)).toBe(true);
    await driver.workerStopped('w1');
    const [back] = await driver.claim([low], 1, 'w2', 60_000);
    expect(back).toMatchObject({ id: jobs[3]!.id, attempt: 1 });
    expect(await driver.complete(back!)).toBe(true);
    await driver.workerStopped('w2');
    expect((await driver.stats([high, low])).map((q) => q.waiting + q.running)).toEqual([0, 0]);
  });

  it('stores only what differs from the defaults, and reads jobs stored whole', async () => {
    const q = `stored-${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const plain = record(q, { maxAttempts: 1, backoffMs: [0], availableAt: now, createdAt: now });
    await driver.enqueue([plain]);
    const raw = new Redis(REDIS_URL);
    try {
      const data = JSON.parse((await raw.hget(`${prefix}:${q}:${plain.id}`, 'data')) ?? 'null');
      expect(data).toEqual({ record: { payload: '{}', createdAt: now } });
      // A job an earlier Keel stored with its whole record reads the same.
      const whole = record(q, { priority: 2, meta: { requestId: 'r-1' }, timeoutMs: 500 });
      const { Queue } = await import('bullmq');
      const bull = new Queue(encodeURIComponent(q), { connection: raw, prefix });
      await bull.add(whole.name, { record: whole }, { jobId: whole.id, priority: 1 });
      await bull.close();
      const claimed = await driver.claim([q], 10, 'w-stored', 60_000);
      expect(claimed.map((j) => j.id)).toEqual([whole.id, plain.id]);
      expect(claimed[0]).toMatchObject({ ...whole, attempt: 1 });
      expect(claimed[1]).toMatchObject({ ...plain, attempt: 1 });
      for (const job of claimed) expect(await driver.complete(job)).toBe(true);
      await driver.workerStopped('w-stored');
    } finally {
      raw.disconnect();
    }
  });

  it('holds a delayed job until its time, with only non-default BullMQ options stored', async () => {
    const q = `delayed-${randomUUID().slice(0, 8)}`;
    const later = record(q, { availableAt: Date.now() + 400 });
    const now = record(q);
    await driver.enqueue([later, now]);
    const raw = new Redis(REDIS_URL);
    try {
      const opts = (id: string) => raw.hget(`${prefix}:${q}:${id}`, 'opts');
      expect(JSON.parse((await opts(later.id)) ?? '{}')).toMatchObject({
        delay: expect.any(Number),
      });
      expect(JSON.parse((await opts(now.id)) ?? '{}')).not.toHaveProperty('delay');
    } finally {
      raw.disconnect();
    }
    expect((await driver.stats([q]))[0]).toMatchObject({ waiting: 2, ready: 1, delayed: 1 });
    const first = await driver.claim([q], 10, 'w-delay', 60_000);
    expect(first.map((j) => j.id)).toEqual([now.id]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const second = await driver.claim([q], 10, 'w-delay', 60_000);
    expect(second.map((j) => j.id)).toEqual([later.id]);
    for (const job of [...first, ...second]) expect(await driver.complete(job)).toBe(true);
    await driver.workerStopped('w-delay');
  });

  it('refuses batches and parent/child jobs with a clear code', async () => {
    const q = `refuse-${randomUUID().slice(0, 8)}`;
    await expect(driver.enqueue([record(q, { parentId: randomUUID() })])).rejects.toMatchObject({
      code: 'E_QUEUE_INVALID_JOB',
    });
    await expect(driver.enqueue([record(q, { batchId: randomUUID() })])).rejects.toMatchObject({
      code: 'E_QUEUE_INVALID_JOB',
    });
    expect((await driver.stats([q]))[0]).toMatchObject({ waiting: 0 });
  });
});

describe.runIf(requireRedisServer())('RedisQueueDriver across a Redis restart', () => {
  const redis = usePrivateRedis();

  it('a Keel worker keeps processing after Redis restarts', async () => {
    const { QueueManager } = await import('../queue-manager.js');
    const { resolveQueueConfig } = await import('../config.js');
    const { Job } = await import('../job.js');
    const done: number[] = [];
    class Count extends Job<{ n: number }> {
      static override jobName = 'test:count';
      async handle(): Promise<void> {
        done.push(this.payload.n);
      }
    }
    const config = resolveQueueConfig(
      {
        default: 'redis',
        connections: { redis: { driver: 'redis', url: redis().url, prefix: 'restart' } },
        worker: { sleep: 50 },
      },
      () => undefined,
      false,
    );
    const queue = new QueueManager({ config, logger: createNullLogger() });
    queue.register(Count);
    const worker = await queue.worker({ concurrency: 2 });
    const running = worker.run();
    const until = async (ok: () => boolean) => {
      while (!ok()) await new Promise((r) => setTimeout(r, 20));
    };
    await queue.dispatch(new Count({ n: 1 }));
    await until(() => done.includes(1));
    await redis().kill();
    await redis().restart();
    // The server came back empty (no persistence): new work is queued and runs.
    await queue.dispatch(new Count({ n: 2 }));
    await until(() => done.includes(2));
    await worker.stop();
    await running;
    await queue.close();
    expect(done).toEqual([1, 2]);
  }, 30_000);

  it('resubscribes its wake channel after a restart: an enqueue wakes a waiting worker again', async () => {
    const driver = await RedisQueueDriver.connect({ url: redis().url, prefix: 'wake' });
    const probe = new Redis(redis().url, { maxRetriesPerRequest: null });
    probe.on('error', () => {});
    const subscribers = async () => {
      const [, count] = (await probe.pubsub('NUMSUB', 'wake:keel:wake')) as [string, number];
      return count;
    };
    const until = async (ok: () => Promise<boolean>) => {
      while (!(await ok())) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      await driver.waitForJobs(['q'], 5_000, new AbortController().signal);
      expect(await subscribers()).toBe(1);
      await redis().kill();
      await redis().restart();
      await until(async () => (await subscribers()) === 1);
      // A 60-s wait that only the enqueue's wake can end within the test's timeout.
      const waiting = driver.waitForJobs(['q'], 60_000, new AbortController().signal);
      await driver.enqueue([record('q')]);
      await waiting;
    } finally {
      probe.disconnect();
      await driver.close();
    }
  }, 30_000);

  it('a wait that starts while Redis is down still ends on abort', async () => {
    await redis().kill();
    const errors: Error[] = [];
    const driver = await RedisQueueDriver.connect({
      url: redis().url,
      prefix: 'down',
      onError: (error) => errors.push(error),
    });
    try {
      const controller = new AbortController();
      const waiting = driver.waitForJobs(['q'], 60_000, controller.signal);
      setTimeout(() => controller.abort(), 300);
      await waiting;
      // Reconnection attempts went on meanwhile: the outage is reported once.
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
    } finally {
      await driver.close();
    }
  }, 30_000);
});
