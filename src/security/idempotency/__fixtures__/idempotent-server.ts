// A server whose POST /charge claims its idempotency key and then hangs, so a test can
// SIGKILL it while the claim is in flight. IDEMPOTENCY_TEST_STORE: a JSON
// { "database": <ConnectionConfig> } or { "redis": { "prefix": "..." } }.
import { Connection } from '../../../db/index.js';
import { createHttpApp } from '../../../http/index.js';
import { createNullLogger } from '../../../kernel/index.js';
import { idempotency } from '../idempotency-middleware.js';
import type { IdempotencyStore } from '../idempotency-store.js';
import { DatabaseIdempotencyStore } from '../stores/database-idempotency-store.js';
import { RedisIdempotencyStore } from '../stores/redis-idempotency-store.js';

const spec = JSON.parse(process.env.IDEMPOTENCY_TEST_STORE ?? '{}') as {
  database?: ConstructorParameters<typeof Connection>[0]['config'];
  redis?: { prefix: string };
};
let store: IdempotencyStore;
if (spec.database) {
  const connection = new Connection({
    name: 'main',
    config: spec.database,
    root: process.cwd(),
    logger: createNullLogger(),
  });
  store = new DatabaseIdempotencyStore({ connection });
} else {
  store = await RedisIdempotencyStore.connect({ prefix: spec.redis?.prefix ?? 'keel:test:' });
}

const app = await createHttpApp();
app.router
  .post('/charge', () => {
    process.stdout.write('entered\n');
    return new Promise(() => {}); // never answers: the process dies holding the claim
  })
  .middleware([idempotency({ store, lockTimeoutMs: 30_000 })]);
const { port } = await app.listen();
process.stdout.write(`port ${port}\n`);
