// pg-boss used directly: `insert()` to enqueue a batch, `send()` for one job, `work()` with
// a batch handler. pg-boss 10 sleeps its polling interval after every fetch unless a job
// was sent from the same instance, so throughput is about batchSize ÷ interval: the
// worker fetches ctx.pgBossBatch jobs (default 1000) every 0.5 s (its minimum interval)
// and runs each batch's handlers together. No per-job completion event: once every job
// started, completion is polled in its job table.
import PgBoss from 'pg-boss';

const NAME = 'bench';

function boss(ctx, extra = {}) {
  const b = new PgBoss({
    ...ctx.pg,
    schema: ctx.schema,
    max: 10,
    // The benchmark measures jobs, not maintenance: no supervisor or cron in these processes.
    supervise: false,
    schedule: false,
    ...extra,
  });
  b.on('error', (error) => console.error('pg-boss error:', error.message));
  return b;
}

export async function setup(ctx) {
  const b = boss(ctx);
  await b.start();
  await b.createQueue(NAME);
  await b.stop({ graceful: false, wait: true });
}

export async function producer(ctx) {
  const b = boss(ctx);
  await b.start();
  return {
    enqueue: (payloads) => b.insert(payloads.map((data) => ({ name: NAME, data }))),
    enqueueOne: (payload) => b.send(NAME, payload),
    async close() {
      await b.stop({ graceful: false, wait: true });
    },
  };
}

export async function worker(ctx, { onHandle, onComplete }) {
  const b = boss(ctx);
  await b.start();
  let started = 0;
  let completed = 0;
  let polling;
  const db = b.getDb();
  const poll = async () => {
    const { rows } = await db.executeSql(
      `SELECT count(*)::int AS n FROM ${ctx.schema}.job WHERE name = $1 AND state = 'completed'`,
      [NAME],
    );
    while (completed < rows[0].n) {
      completed++;
      onComplete();
    }
    polling = started > completed ? setTimeout(poll, 5) : undefined;
  };
  await b.work(NAME, { batchSize: ctx.pgBossBatch, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const job of jobs) onHandle(job.data);
    started += jobs.length;
    if (polling === undefined) polling = setTimeout(poll, 5);
  });
  return {
    async stop() {
      clearTimeout(polling);
      await b.stop({ graceful: true, wait: true, timeout: 5000 });
    },
  };
}

export async function teardown(ctx, helpers) {
  await helpers.dropSchema(ctx.schema);
}
