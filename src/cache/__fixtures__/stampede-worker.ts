// A child process for stampede-processes.test.ts: builds a CacheManager with the stampede
// guard (as CacheProvider does) on a Redis or database store, prints "ready", waits for
// "go" on stdin (the start barrier), then calls remember() on one missing key. The factory
// counts its calls in a shared counter and takes ~300 ms (or throws, STAMPEDE_THROW=1).
// Prints one JSON line: { value } or { error }.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { Connection, type ConnectionConfig } from '../../db/index.js';
import { createNullLogger } from '../../kernel/index.js';
import { CacheManager } from '../cache-manager.js';
import { resolveCacheConfig } from '../config.js';
import { createStampedeGuard } from '../lock-guard.js';

const driver = process.env.STAMPEDE_DRIVER;
const prefix = process.env.STAMPEDE_PREFIX!;
const key = process.env.STAMPEDE_KEY!;
const throws = process.env.STAMPEDE_THROW === '1';

let count: () => Promise<void>;
let close: () => Promise<void>;
let connection: Connection | undefined;
const config = resolveCacheConfig({
  default: driver === 'redis' ? 'redis' : 'database',
  prefix,
  stampede: { ttl: '30s', wait: '20s' },
});

if (driver === 'redis') {
  const client = new Redis({ host: '127.0.0.1', port: 6379 });
  count = async () => {
    await client.incr(`${prefix}:factory-calls`);
  };
  close = async () => {
    await client.quit();
  };
} else {
  const db = JSON.parse(process.env.STAMPEDE_DB!) as ConnectionConfig;
  connection = new Connection({
    name: 'main',
    config: db,
    root: process.cwd(),
    logger: createNullLogger(),
  });
  count = async () => {
    await sql`UPDATE stampede_counter SET calls = calls + 1 WHERE id = 1`.execute(
      connection!.kysely,
    );
  };
  close = () => connection!.close();
}

const stampede = createStampedeGuard(config, () => connection!);
if (!stampede) throw new Error('no stampede guard for a shared store');
const manager = new CacheManager({
  config,
  root: process.cwd(),
  ...(connection ? { connection: () => connection! } : {}),
  guard: stampede.guard,
});
const cache = manager.pool('data');
// Warm the connections, so the barrier releases processes that are all ready to race.
await cache.get('warm-up');

process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  process.stdin.on('data', (chunk) => {
    if (String(chunk).includes('go')) resolve();
  });
});

let result: { value?: string; error?: string };
try {
  const value = await cache.remember(key, '1m', async () => {
    await count();
    await sleep(300);
    if (throws) throw new Error('factory failed');
    return `computed by ${process.pid}`;
  });
  result = { value };
} catch (error) {
  result = { error: (error as Error).message };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
await manager.close();
await stampede.close();
await close();
process.exit(0);
