import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  type TestDatabase,
  testConnection,
} from '../../../test/support/databases.js';
import { keelProcesses } from '../../../test/support/keel-process.js';
import { requireService } from '../../../test/support/services.js';
import { dropRedisPrefix } from './__fixtures__/redis-prefix.js';
import { createRateLimitsTable } from './migrations/create-rate-limits-table.js';

const HAMMER = fileURLToPath(new URL('./__fixtures__/hammer.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROCESSES = 4;
const ATTEMPTS = 60;
const POINTS = 97;

const hasRedis = await requireService('Redis', '127.0.0.1', 6379);
const hasPostgres = await requireService('PostgreSQL', '127.0.0.1', 5432);
const hasMariadb = await requireService('MariaDB', '127.0.0.1', 3306);

const spawn = keelProcesses();

/** Start the processes on one key, wait for all of them, and add up what they were allowed. */
async function hammer(env: Record<string, string>): Promise<{ allowed: number; refused: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-rl-'));
  const goFile = join(dir, 'go');
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(ROOT, [HAMMER], {
      ATTEMPTS: String(ATTEMPTS),
      POINTS: String(POINTS),
      GO_FILE: goFile,
      ...env,
    }),
  );
  try {
    // Every process connected and waiting: start them together.
    for (let i = 0; i < 3_000 && !children.every((c) => c.output().includes('READY')); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await writeFile(goFile, 'go');
    await Promise.all(children.map((c) => c.exited));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  let allowed = 0;
  let refused = 0;
  for (const child of children) {
    const line = child.output().match(/^RESULT (.+)$/m);
    if (!line) throw new Error(`a process printed no result:\n${child.output()}`);
    const result = JSON.parse(line[1]!) as { allowed: number; refused: number };
    allowed += result.allowed;
    refused += result.refused;
  }
  return { allowed, refused };
}

/** The key test through a database dialect, in a schema (or database) of its own. */
function throughDatabase(dialect: 'postgres' | 'mysql'): void {
  let database: TestDatabase;
  const table = `rl_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    const connection = testConnection(database);
    await createRateLimitsTable(connection.kysely, table);
    await connection.close();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it(`lets exactly ${POINTS} of ${PROCESSES * ATTEMPTS} hits through`, async () => {
    const total = await hammer({
      STORE: 'database',
      PREFIX: 'proc',
      TABLE: table,
      DB_CONFIG: JSON.stringify(database.config),
    });
    expect(total).toEqual({ allowed: POINTS, refused: PROCESSES * ATTEMPTS - POINTS });
  }, 60_000);
}

describe('the key test: four processes, one key, one allowance', () => {
  describe.runIf(hasRedis)('through Redis', () => {
    const prefix = `keel-test:rl-proc:${randomBytes(5).toString('hex')}`;
    afterAll(async () => {
      const client = new Redis({ host: '127.0.0.1', port: 6379 });
      await dropRedisPrefix(client, prefix);
      await client.quit();
    });

    it(`lets exactly ${POINTS} of ${PROCESSES * ATTEMPTS} hits through`, async () => {
      const total = await hammer({ STORE: 'redis', PREFIX: prefix });
      expect(total).toEqual({ allowed: POINTS, refused: PROCESSES * ATTEMPTS - POINTS });
    }, 60_000);
  });

  describe.runIf(hasPostgres)('through PostgreSQL', () => throughDatabase('postgres'));
  describe.runIf(hasMariadb)('through MariaDB', () => throughDatabase('mysql'));
});
