// graphile-worker used directly: jobs added in batches with its `add_jobs()` SQL function
// (what 0.17's `addJobs` calls; 0.16 has no JS batch API), one at a time with
// `quickAddJob`-style `addJob` from WorkerUtils, and `run()` with a task list and
// `concurrency` (its LISTEN/NOTIFY wakes idle workers). Completion counted on the
// 'job:complete' event, emitted after the job's row was completed.
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import pg from 'pg';

const quiet = new Logger(() => () => {});

function connectionString(ctx) {
  const { user, host, port, database } = ctx.pg;
  return `postgres://${user}@${host}:${port}/${database}`;
}

export async function setup(ctx) {
  await runMigrations({
    connectionString: connectionString(ctx),
    schema: ctx.schema,
    logger: quiet,
  });
}

export async function producer(ctx) {
  const pool = new pg.Pool({ connectionString: connectionString(ctx), max: 10 });
  const utils = await makeWorkerUtils({ pgPool: pool, schema: ctx.schema, logger: quiet });
  const s = ctx.schema;
  return {
    async enqueue(payloads) {
      const specs = payloads.map((payload) => ({ identifier: 'noop', payload }));
      await pool.query(
        `SELECT ${s}.add_jobs(ARRAY(SELECT json_populate_recordset(null::${s}.job_spec, $1::json)))`,
        [JSON.stringify(specs)],
      );
    },
    enqueueOne: (payload) => utils.addJob('noop', payload),
    async close() {
      await utils.release();
      await pool.end();
    },
  };
}

export async function worker(ctx, { concurrency, onHandle, onComplete }) {
  const runner = await run({
    connectionString: connectionString(ctx),
    schema: ctx.schema,
    concurrency,
    maxPoolSize: 10,
    logger: quiet,
    noHandleSignals: true,
    pollInterval: 2000,
    taskList: {
      noop: async (payload) => {
        onHandle(payload);
      },
    },
  });
  runner.events.on('job:complete', onComplete);
  return {
    async stop() {
      await runner.stop();
    },
  };
}

export async function teardown(ctx, helpers) {
  await helpers.dropSchema(ctx.schema);
}
