// Keel's queue from the built framework (dist/): a QueueManager over a `database` connection
// (a Keel `Connection` on SQLite or PostgreSQL) or a `redis` connection (BullMQ underneath),
// dispatching a no-op Job class with dispatchMany and running `queue.worker()`, as an app
// does. ctx.driver picks the backend: 'sqlite', 'postgres' or 'redis'.
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

/** Keel's modules the peer needs: the database layer only for the database driver. */
async function load(ctx) {
  const queue = await import(`${DIST}queue/index.js`);
  const db = ctx.driver === 'redis' ? undefined : await import(`${DIST}db/index.js`);
  const { createNullLogger } = await import(`${DIST}kernel/index.js`);
  return { queue, db, logger: createNullLogger() };
}

function connectionConfig(ctx) {
  if (ctx.driver === 'sqlite') return { driver: 'sqlite', filename: ctx.sqliteFile };
  return { driver: 'postgres', ...ctx.pg, schema: ctx.schema, pool: { max: 10 } };
}

/** A QueueManager on ctx's backend, with the no-op job registered. */
async function manager(ctx, onHandle) {
  const { queue, db, logger } = await load(ctx);
  let connection;
  if (ctx.driver !== 'redis') {
    connection = new db.Connection({
      name: 'main',
      config: db.resolveDatabaseConfig({
        default: 'main',
        connections: { main: connectionConfig(ctx) },
      }).connections.main,
      root: process.cwd(),
      logger,
    });
  }
  const raw =
    ctx.driver === 'redis'
      ? {
          default: 'bench',
          connections: { bench: { driver: 'redis', url: ctx.redisUrl, prefix: ctx.prefix } },
        }
      : { default: 'database' };
  const config = queue.resolveQueueConfig(raw, () => undefined, connection !== undefined);
  const qm = new queue.QueueManager({ config, logger, connection: () => connection });
  class Noop extends queue.Job {
    static jobName = 'noop';
    handle() {
      onHandle?.(this.payload);
    }
  }
  qm.register(Noop);
  return { qm, Noop, connection };
}

export async function setup(ctx) {
  if (ctx.driver === 'redis') return;
  const { qm, connection } = await manager(ctx);
  if (ctx.driver === 'postgres') {
    const { sql } = await import('kysely');
    await sql`CREATE SCHEMA ${sql.id(ctx.schema)}`.execute(connection.kysely);
  }
  const { createQueueTables } = await import(`${DIST}queue/migrations/create-queue-tables.js`);
  const { createQueueWorkersTable } = await import(
    `${DIST}queue/migrations/create-queue-workers-table.js`
  );
  await createQueueTables.up(connection.kysely);
  await createQueueWorkersTable.up(connection.kysely);
  await qm.close();
  await connection.close();
}

export async function producer(ctx) {
  const { qm, Noop, connection } = await manager(ctx);
  // Connected (and the driver's modules loaded) before the clock starts, as the other
  // peers' clients are made before it.
  await qm.driver();
  return {
    enqueue: (payloads) => qm.dispatchMany(payloads.map((p) => new Noop(p))),
    enqueueOne: (payload) => qm.dispatch(new Noop(payload)),
    async close() {
      await qm.close();
      await connection?.close();
    },
  };
}

/** Start a worker; onComplete runs after the driver recorded each job's completion. */
export async function worker(ctx, { concurrency, onHandle, onComplete }) {
  const { qm, connection } = await manager(ctx, onHandle);
  const driver = await qm.driver();
  // Count completions where they are recorded: the driver's complete() resolving.
  const complete = driver.complete.bind(driver);
  driver.complete = async (job) => {
    const done = await complete(job);
    onComplete();
    return done;
  };
  // sleepMs: Keel's default idle poll (1 s) unless --keel-sleep is given; PostgreSQL wakes
  // idle workers with LISTEN/NOTIFY and Redis with pub/sub, SQLite has only the poll.
  const w = await qm.worker({
    concurrency,
    shutdownMs: 5000,
    ...(ctx.keelSleepMs === undefined ? {} : { sleepMs: ctx.keelSleepMs }),
  });
  const running = w.run();
  return {
    async stop() {
      w.stop();
      await running;
      await qm.close();
      await connection?.close();
    },
  };
}

export async function teardown(ctx, helpers) {
  if (ctx.driver === 'redis') await helpers.deleteRedisPrefix(ctx.prefix);
  else if (ctx.driver === 'postgres') await helpers.dropSchema(ctx.schema);
}
