import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDialect } from '../../../test/support/databases.js';
import { requireService } from '../../../test/support/services.js';
import { Connection } from '../../db/index.js';
import { createHttpApp } from '../../http/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { idempotency } from './idempotency-middleware.js';
import type { IdempotencyStore } from './idempotency-store.js';
import { createIdempotencyKeysTable } from './migrations/create-idempotency-keys-table.js';
import { DatabaseIdempotencyStore } from './stores/database-idempotency-store.js';
import { RedisIdempotencyStore } from './stores/redis-idempotency-store.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SERVER = fileURLToPath(new URL('./__fixtures__/idempotent-server.ts', import.meta.url));
const hasRedis = await requireService('Redis', '127.0.0.1', 6379);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Start the fixture server; resolves with its port and a promise for its next output line. */
function server(
  store: unknown,
): Promise<{ child: ChildProcess; port: number; line: () => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    env: { ...process.env, IDEMPOTENCY_TEST_STORE: JSON.stringify(store) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffer = '';
  let err = '';
  child.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf('\n'); i !== -1; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const line = () =>
    new Promise<string>((resolve, reject) => {
      const queued = lines.shift();
      if (queued !== undefined) resolve(queued);
      else waiting.push(resolve);
      child.once('exit', () => reject(new Error(`server exited: ${err}`)));
    });
  return line().then((first) => ({ child, port: Number(first.replace('port ', '')), line }));
}

/**
 * The truth about crashes: a process claims a key and is killed with SIGKILL mid-request.
 * Until the claim's lock expires a retry is told "in flight"; after it (the surviving
 * process's clock is set past the lock), the retry runs the handler and its result stands.
 */
async function crashAndReclaim(storeSpec: unknown, store: IdempotencyStore): Promise<void> {
  const { child, port, line } = await server(storeSpec);
  const key = `charge-${randomBytes(6).toString('hex')}`;
  const body = JSON.stringify({ amount: 100 });
  const request = fetch(`http://127.0.0.1:${port}/charge`, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body,
  }).catch((error: unknown) => error);
  expect(await line()).toBe('entered');
  const died = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  child.kill('SIGKILL');
  expect(await died).toBe('SIGKILL');
  expect(await request).toBeInstanceOf(Error);

  let offset = 0;
  let calls = 0;
  const app = await createHttpApp();
  app.router
    .post('/charge', () => ({ charged: ++calls }))
    .middleware([idempotency({ store, lockTimeoutMs: 30_000, clock: () => Date.now() + offset })]);
  const retry = () =>
    app.inject({
      method: 'POST',
      url: '/charge',
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
      payload: body,
      remoteAddress: '127.0.0.1',
    });
  expect((await retry()).statusCode).toBe(409);
  offset = 30_000;
  const reclaimed = await retry();
  expect(reclaimed.statusCode).toBe(200);
  expect(reclaimed.json()).toEqual({ charged: 1 });
  expect((await retry()).headers['idempotent-replayed']).toBe('true');
  expect(calls).toBe(1);
}

describeEachDialect('a process killed while holding a claim (database)', (database, dialect) => {
  it(`leaves a claim a retry takes over after its lock expires (${dialect})`, async () => {
    const config = database().config;
    const connection = new Connection({
      name: 'main',
      config,
      root: process.cwd(),
      logger: createNullLogger(),
    });
    try {
      await createIdempotencyKeysTable().up(connection.kysely);
      await crashAndReclaim({ database: config }, new DatabaseIdempotencyStore({ connection }));
    } finally {
      await createIdempotencyKeysTable().down?.(connection.kysely);
      await connection.close();
    }
  });
});

describe.runIf(hasRedis)('a process killed while holding a claim (redis)', () => {
  it('leaves a claim a retry takes over after its lock expires', async () => {
    const prefix = `keel:test:${randomBytes(5).toString('hex')}:`;
    const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
    try {
      await crashAndReclaim({ redis: { prefix } }, new RedisIdempotencyStore({ client, prefix }));
    } finally {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  });
});
