import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../test/support/databases.js';
import { requireService } from '../../test/support/services.js';
import { Connection } from '../db/index.js';
import { createNullLogger } from '../kernel/index.js';
import { createKeelLocksTable } from './migrations/create-keel-locks-table.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const WORKER = fileURLToPath(new URL('./__fixtures__/counter-worker.ts', import.meta.url));
const PROCESSES = 4;
const ITERATIONS = 25;

/** Run one worker process; resolves with the fencing tokens it printed. */
function worker(env: Record<string, string>): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, WORKER], {
      env: {
        ...process.env,
        ...env,
        LOCK_TEST_ITERATIONS: String(ITERATIONS),
        LOCK_TEST_NAME: 'counter',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim()) as number[]);
      else reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

/** Every process's tokens: all distinct, each process's increasing, 1..total overall. */
function expectFencing(perProcess: number[][]): void {
  for (const tokens of perProcess) expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
  const all = perProcess.flat().sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: PROCESSES * ITERATIONS }, (_, i) => i + 1));
}

describeEachDialect('database locks across processes', (database) => {
  it(`${PROCESSES} processes × ${ITERATIONS} locked read-modify-writes lose no update`, async () => {
    const config = database().config;
    const connection = new Connection({
      name: 'main',
      config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    try {
      await createKeelLocksTable.up(connection.kysely);
      await sql`CREATE TABLE lock_counter (id integer PRIMARY KEY, value integer NOT NULL)`.execute(
        connection.kysely,
      );
      await sql`INSERT INTO lock_counter (id, value) VALUES (1, 0)`.execute(connection.kysely);
      const env = { LOCK_TEST_DRIVER: 'database', LOCK_TEST_DB: JSON.stringify(config) };
      const tokens = await Promise.all(Array.from({ length: PROCESSES }, () => worker(env)));
      const { rows } = await sql<{ value: number | string }>`
        SELECT value FROM lock_counter WHERE id = 1`.execute(connection.kysely);
      expect(Number(rows[0]!.value)).toBe(PROCESSES * ITERATIONS);
      expectFencing(tokens);
    } finally {
      await connection.close();
    }
  }, 120_000);
});

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

describe.runIf(hasRedis)('redis locks across processes', () => {
  it(`${PROCESSES} processes × ${ITERATIONS} locked read-modify-writes lose no update`, async () => {
    const prefix = `keel:test:${randomBytes(5).toString('hex')}:`;
    const client = new Redis({ host: '127.0.0.1', port: 6379 });
    try {
      const env = { LOCK_TEST_DRIVER: 'redis', LOCK_TEST_PREFIX: prefix };
      const tokens = await Promise.all(Array.from({ length: PROCESSES }, () => worker(env)));
      expect(Number(await client.get(`${prefix}counter`))).toBe(PROCESSES * ITERATIONS);
      expectFencing(tokens);
    } finally {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  }, 120_000);
});
