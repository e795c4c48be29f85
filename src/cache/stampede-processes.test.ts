import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDialect, testConnection } from '../../test/support/databases.js';
import { TSX } from '../../test/support/keel-process.js';
import { requireService } from '../../test/support/services.js';
import type { Connection } from '../db/index.js';
import { createKeelLocksTable, DatabaseLockStore, RedisLockStore } from '../locks/index.js';
import { stampedeLockName } from './lock-guard.js';
import { createCacheTable } from './migrations/create-cache-table.js';

const WORKER = fileURLToPath(new URL('./__fixtures__/stampede-worker.ts', import.meta.url));
const PROCESSES = 4;
const KEY = 'report:2026';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

interface Worker {
  ready: Promise<void>;
  go(): void;
  result: Promise<{ value?: string; error?: string }>;
}

/** One worker process: `ready` once it is connected, `go()` starts its remember(). */
function worker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', TSX, WORKER], {
    env: { ...process.env, ...env, STAMPEDE_KEY: KEY },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    if (out.includes('ready\n')) onReady();
  });
  child.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  const result = new Promise<{ value?: string; error?: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`worker exited with ${code}: ${err}${out}`));
    });
  });
  return {
    ready: Promise.race([ready, result.then(() => undefined)]),
    go: () => child.stdin!.write('go\n'),
    result,
  };
}

/** Start `count` workers, wait until every one is connected, then release them at once. */
async function race(count: number, env: Record<string, string>) {
  const workers = Array.from({ length: count }, () => worker(env));
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.result));
}

/** Every process got the one value a single factory call produced. */
function expectOneValue(results: Array<{ value?: string; error?: string }>): void {
  const values = new Set(results.map((r) => r.value));
  expect(results.every((r) => r.error === undefined)).toBe(true);
  expect(values.size).toBe(1);
  expect([...values][0]).toMatch(/^computed by \d+$/);
}

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

describe.runIf(hasRedis)('stampede protection across processes [redis]', () => {
  let client: Redis;
  let prefix: string;
  afterEach(async () => {
    const keys = await client.keys(`*${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });
  const start = () => {
    client = new Redis({ host: '127.0.0.1', port: 6379 });
    prefix = `keel-test-${randomBytes(5).toString('hex')}`;
    return { STAMPEDE_DRIVER: 'redis', STAMPEDE_PREFIX: prefix };
  };

  it(`${PROCESSES} processes remembering one missing key call the factory once`, async () => {
    const env = start();
    const results = await race(PROCESSES, env);
    expect(Number(await client.get(`${prefix}:factory-calls`))).toBe(1);
    expectOneValue(results);
    // The lock is released, and its fence counter (read by nobody) expires.
    const name = stampedeLockName(`${prefix}:data:${KEY}`);
    expect(await client.exists(`${prefix}:locks:lock:${name}`)).toBe(0);
    expect(await client.pttl(`${prefix}:locks:fence:${name}`)).toBeGreaterThan(0);
  }, 60_000);

  it('a throwing factory releases the lock, and the next process computes', async () => {
    const env = start();
    const [failed] = await race(1, { ...env, STAMPEDE_THROW: '1' });
    expect(failed).toEqual({ error: 'factory failed' });
    const locks = new RedisLockStore({ client, prefix: `${prefix}:locks:` });
    expect(await locks.owner(stampedeLockName(`${prefix}:data:${KEY}`))).toBeNull();
    const results = await race(PROCESSES, env);
    expect(Number(await client.get(`${prefix}:factory-calls`))).toBe(2);
    expectOneValue(results);
  }, 60_000);
});

describeEachDialect('stampede protection across processes', (database) => {
  let connection: Connection;
  const start = async () => {
    connection = testConnection(database());
    for (const table of ['stampede_counter', 'keel_cache', 'keel_locks'])
      await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(connection.kysely);
    await createCacheTable.up(connection.kysely as never);
    await createKeelLocksTable.up(connection.kysely);
    await sql`CREATE TABLE stampede_counter (id integer PRIMARY KEY, calls integer NOT NULL)`.execute(
      connection.kysely,
    );
    await sql`INSERT INTO stampede_counter (id, calls) VALUES (1, 0)`.execute(connection.kysely);
    return {
      STAMPEDE_DRIVER: 'database',
      STAMPEDE_PREFIX: `t${randomBytes(4).toString('hex')}`,
      STAMPEDE_DB: JSON.stringify(database().config),
    };
  };
  const calls = async () => {
    const { rows } = await sql<{ calls: number }>`
      SELECT calls FROM stampede_counter WHERE id = 1`.execute(connection.kysely);
    return Number(rows[0]!.calls);
  };
  afterEach(async () => {
    await connection.close();
  });

  it(`${PROCESSES} processes remembering one missing key call the factory once`, async () => {
    const env = await start();
    const results = await race(PROCESSES, env);
    expect(await calls()).toBe(1);
    expectOneValue(results);
  }, 60_000);

  it('a throwing factory releases the lock, and the next process computes', async () => {
    const env = await start();
    const [failed] = await race(1, { ...env, STAMPEDE_THROW: '1' });
    expect(failed).toEqual({ error: 'factory failed' });
    const locks = new DatabaseLockStore({ connection });
    expect(await locks.owner(stampedeLockName(`${env.STAMPEDE_PREFIX}:data:${KEY}`))).toBeNull();
    const results = await race(PROCESSES, env);
    expect(await calls()).toBe(2);
    expectOneValue(results);
  }, 60_000);
});
