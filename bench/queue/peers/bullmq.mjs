// BullMQ used directly: Queue.addBulk to enqueue, a Worker with a processor function and
// `concurrency`, both on their own ioredis connections (maxRetriesPerRequest null, as
// BullMQ's docs require for workers). Completion counted on the worker's 'completed' event,
// which BullMQ emits after moving the job to the completed set.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const NAME = 'bench';

function connection(ctx) {
  return new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
}

export async function setup() {}

export async function producer(ctx) {
  const redis = connection(ctx);
  const queue = new Queue(NAME, { connection: redis, prefix: ctx.prefix });
  return {
    enqueue: (payloads) => queue.addBulk(payloads.map((data) => ({ name: 'noop', data }))),
    enqueueOne: (payload) => queue.add('noop', payload),
    async close() {
      await queue.close();
      await redis.quit();
    },
  };
}

export async function worker(ctx, { concurrency, onHandle, onComplete }) {
  const redis = connection(ctx);
  const w = new Worker(
    NAME,
    async (job) => {
      onHandle(job.data);
    },
    { connection: redis, prefix: ctx.prefix, concurrency },
  );
  w.on('completed', onComplete);
  w.on('error', (error) => console.error('bullmq worker error:', error.message));
  await w.waitUntilReady();
  return {
    async stop() {
      await w.close();
      await redis.quit();
    },
  };
}

export async function teardown(ctx, helpers) {
  await helpers.deleteRedisPrefix(ctx.prefix);
}
