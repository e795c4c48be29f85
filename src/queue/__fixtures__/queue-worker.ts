// A worker child process for queue-processes.test.ts: runs a Worker over the database
// driver on the connection in QUEUE_TEST_DB, then prints `SUMMARY <json>`. It stops once
// nothing is claimable (QUEUE_TEST_UNTIL=empty, the default), or once the queue has no row
// left at all, leased ones included (QUEUE_TEST_UNTIL=drained: it waits out the lease of a
// job a killed worker held). Warnings and errors go to stderr.
import { sql } from 'kysely';
import { Connection, type ConnectionConfig } from '../../db/index.js';
import { createLogger } from '../../kernel/index.js';
import { DatabaseQueueDriver } from '../drivers/database-driver.js';
import { Worker } from '../worker.js';
import { proofRegistry, useProofConnection } from './proof-jobs.js';

const env = process.env;
const config = JSON.parse(env.QUEUE_TEST_DB ?? '') as ConnectionConfig;
const logger = createLogger({ name: 'queue-proof', level: 'warn', destination: process.stderr });
const connection = new Connection({ name: 'main', config, root: process.cwd(), logger });
useProofConnection(connection);
const driver = new DatabaseQueueDriver({ connection });
const queue = env.QUEUE_TEST_QUEUE ?? 'default';
const worker = new Worker({
  driver,
  registry: proofRegistry(),
  logger,
  queues: [queue],
  concurrency: Number(env.QUEUE_TEST_CONCURRENCY ?? 1),
  leaseMs: Number(env.QUEUE_TEST_LEASE_MS ?? 60_000),
  sleepMs: 50,
  stopWhenEmpty: env.QUEUE_TEST_UNTIL !== 'drained',
  // A safety net: a child that never finishes would otherwise outlive the test.
  maxTimeMs: 120_000,
});
const running = worker.run();
if (env.QUEUE_TEST_UNTIL === 'drained') {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await sql<{ n: unknown }>`
      SELECT COUNT(*) AS n FROM jobs WHERE queue = ${queue}`.execute(connection.kysely);
    if (Number(rows[0]?.n) === 0) break;
  }
  worker.stop();
}
const summary = await running;
process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
await driver.close();
await connection.close();
