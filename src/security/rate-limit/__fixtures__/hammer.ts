/**
 * One of the key test's processes: prints READY once connected, waits for the GO_FILE the
 * parent creates when every process is ready, then fires ATTEMPTS
 * hits at one key through the store named by STORE (redis | postgres) as fast as it can,
 * and prints how many were allowed as `RESULT {"allowed":n,"refused":m}`.
 */
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Connection } from '../../../db/connection.js';
import { createNullLogger } from '../../../kernel/index.js';
import type { RateLimitStore } from '../rate-limit-store.js';
import { RateLimiter } from '../rate-limiter.js';
import { DatabaseRateLimitStore } from '../stores/database-rate-limit-store.js';
import { RedisRateLimitStore } from '../stores/redis-rate-limit-store.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const attempts = Number(env('ATTEMPTS'));
const points = Number(env('POINTS'));
const goFile = env('GO_FILE');
let store: RateLimitStore;
let close: () => Promise<void>;
if (env('STORE') === 'redis') {
  const client = new Redis({ host: '127.0.0.1', port: 6379 });
  store = new RedisRateLimitStore({ client, ownsClient: true });
  close = () => store.close();
} else {
  const connection = new Connection({
    name: 'main',
    config: JSON.parse(env('DB_CONFIG')),
    root: process.cwd(),
    logger: createNullLogger(),
  });
  store = new DatabaseRateLimitStore({ connection, table: env('TABLE') });
  close = () => connection.close();
}
const limiter = new RateLimiter({
  store,
  prefix: env('PREFIX'),
  onStoreError: 'closed',
  limiters: { hammer: { points, duration: 300 } },
});
// Warm up the connection on another key so that every process starts hitting at once.
await limiter.remaining('hammer', 'warm-up');
console.log('READY');
while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 2));
// Several hits in flight per process: the store sees real interleaving, not a queue.
let allowed = 0;
let refused = 0;
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < attempts) {
      next++;
      const result = await limiter.attempt('hammer', 'the-one-key');
      if (result.allowed) allowed++;
      else refused++;
    }
  }),
);
console.log(`RESULT ${JSON.stringify({ allowed, refused })}`);
await close();
