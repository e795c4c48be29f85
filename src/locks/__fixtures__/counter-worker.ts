// A child process for lock-processes.test.ts: takes the lock N times, and under it reads a
// shared counter, yields, then writes counter + 1 (a lost update without the lock). Prints
// the fencing tokens it got as one JSON line.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { Connection, type ConnectionConfig } from '../../db/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { LockManager } from '../lock-manager.js';
import type { LockStore } from '../lock-store.js';
import { DatabaseLockStore } from '../stores/database-lock-store.js';
import { RedisLockStore } from '../stores/redis-lock-store.js';

const driver = process.env.LOCK_TEST_DRIVER;
const iterations = Number(process.env.LOCK_TEST_ITERATIONS);
const name = process.env.LOCK_TEST_NAME!;

let store: LockStore;
let read: () => Promise<number>;
let write: (value: number) => Promise<void>;
let close: () => Promise<void>;

if (driver === 'redis') {
  const prefix = process.env.LOCK_TEST_PREFIX!;
  const client = new Redis({ host: '127.0.0.1', port: 6379 });
  store = new RedisLockStore({ client, prefix });
  read = async () => Number((await client.get(`${prefix}counter`)) ?? 0);
  write = async (value) => {
    await client.set(`${prefix}counter`, String(value));
  };
  close = async () => {
    await client.quit();
  };
} else {
  const config = JSON.parse(process.env.LOCK_TEST_DB!) as ConnectionConfig;
  const connection = new Connection({
    name: 'main',
    config,
    root: process.cwd(),
    logger: createNullLogger(),
  });
  store = new DatabaseLockStore({ connection });
  read = async () => {
    const { rows } = await sql<{ value: number | string }>`
      SELECT value FROM lock_counter WHERE id = 1`.execute(connection.kysely);
    return Number(rows[0]!.value);
  };
  write = async (value) => {
    await sql`UPDATE lock_counter SET value = ${value} WHERE id = 1`.execute(connection.kysely);
  };
  close = () => connection.close();
}

const locks = new LockManager({ store, maxPollMs: 20 });
const tokens: number[] = [];
for (let i = 0; i < iterations; i++) {
  await locks.lock(name, '30s').block('60s', async ({ fencingToken }) => {
    tokens.push(fencingToken);
    const value = await read();
    await sleep(1); // widen the window another process would race into without the lock
    await write(value + 1);
  });
}
process.stdout.write(`${JSON.stringify(tokens)}\n`);
await close();
